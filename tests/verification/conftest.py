"""Fixtures of verification: a logged-in learner with an enrolment."""

from __future__ import annotations

import pytest


@pytest.fixture
def learner_enrolment(make_user, make_enrolment, login):
    """A logged-in learner enrolled in TLII5018."""
    learner = make_user("learner", name="Lee Learner")
    enrolment = make_enrolment(learner=learner)
    login(learner)
    return enrolment
