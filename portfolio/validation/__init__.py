"""Validation of assessment: plans by risk, reproducible samples, findings and actions."""
