"""Retention: what is kept how long, legal holds, and ``flask retention run``."""
