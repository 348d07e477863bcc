"""Consistent snapshots of a running instance: the database and the evidence store."""
