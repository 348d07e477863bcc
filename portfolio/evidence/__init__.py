"""The learner's evidence: items and their versions, mappings to criteria, handing in."""
