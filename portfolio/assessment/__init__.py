"""The assessor's review of a submission: the read model, decisions, gaps, the outcome, the
queue, and the pure rules each decision follows."""
