"""The assessment state machine: every transition, legal and illegal."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portfolio.enrolments.workflow import ALLOWED, transition
from portfolio.errors import IllegalTransition
from portfolio.extensions import db
from portfolio.models import AssessmentState, AuditEvent

S = AssessmentState
OPEN = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.RETURNED, S.RESUBMITTED, S.REASSESSMENT]
LEGAL = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.IN_REVIEW),
    (S.IN_REVIEW, S.RETURNED),
    (S.IN_REVIEW, S.DECIDED),
    (S.RETURNED, S.RESUBMITTED),
    (S.RESUBMITTED, S.IN_REVIEW),
    # Another attempt after Not yet competent.
    (S.DECIDED, S.REASSESSMENT),
    (S.REASSESSMENT, S.RESUBMITTED),
    # Closed other than by a judgement: from any open state; withdrawn after a decision too.
    *((state, S.WITHDRAWN) for state in OPEN),
    *((state, S.CREDIT_TRANSFER) for state in OPEN),
    (S.DECIDED, S.WITHDRAWN),
}


def test_the_allowed_map_is_the_documented_workflow() -> None:
    """Nothing more and nothing less than the moves of the workflow."""
    assert {(a, b) for a, targets in ALLOWED.items() for b in targets} == LEGAL


@pytest.mark.parametrize(("before", "after"), list(itertools.product(S, S)), ids=lambda s: s.value)
def test_each_transition(make_enrolment, before, after) -> None:
    """A legal move changes the state and writes its event; an illegal one changes nothing."""
    enrolment = make_enrolment()
    enrolment.state = before
    db.session.commit()
    if (before, after) in LEGAL:
        assert transition(db.session, enrolment, after, actor=None, role=None) is before
        db.session.commit()
        assert enrolment.state is after
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrolment.state"))
        assert (event.before, event.after) == ({"state": before.value}, {"state": after.value})
        assert event.actor_role == "system"
    else:
        with pytest.raises(IllegalTransition, match="cannot become"):
            transition(db.session, enrolment, after, actor=None, role=None)
        db.session.rollback()
        db.session.refresh(enrolment)
        assert enrolment.state is before
        changes = select(AuditEvent).where(AuditEvent.action == "enrolment.state")
        assert db.session.scalar(changes) is None
