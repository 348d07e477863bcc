"""Dashboards: each person's figures, counted in the database, drawn from their tables."""
