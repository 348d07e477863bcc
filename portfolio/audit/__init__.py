"""The append-only audit log (``log``), the event of every export, and the history pages."""
