"""Enrolments and their assessment: review, judgements, gap sign-off and outcomes."""
