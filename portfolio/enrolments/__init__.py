"""Enrolments: a learner in a pinned release of a unit, its assessor, its state and progress.

The state machine (``workflow``) and where an enrolment stands (``progress``: coverage, the
latest return, the outcome) sit here, below the learner's evidence and the assessor's review,
which both read and move them.
"""
