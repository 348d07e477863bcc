"""Cohorts: named groups of learners, kept by admins and enrolled into units in one action."""
