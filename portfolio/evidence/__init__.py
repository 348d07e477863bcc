"""Evidence: items, files, storage and the checks on what learners upload."""
