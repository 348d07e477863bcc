"""Fixtures of the credential tests: enforcement on, and an enrolment in review."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.assessment import decisions, review
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.extensions import db
from portfolio.models import EvidenceType


@pytest.fixture
def enforced(app):
    app.config["CREDENTIALS_ENFORCED"] = True


@pytest.fixture
def reviewing(make_user, make_enrolment):
    """An enrolment in TLII5018 in review by an assessor with nothing on the register yet."""
    learner = make_user("learner")
    assessor = make_user("assessor", name="Ash Assessor")
    enrolment = make_enrolment(learner=learner, assessor=assessor)
    item = create_item(
        db.session,
        actor=learner,
        enrolment=enrolment,
        fields=ItemFields("Roster", EvidenceType.PLAN, date(2026, 10, 1), "The roster."),
        files=[],
    )
    view = review.review_view(db.session, enrolment)
    set_item_mappings(
        db.session, actor=learner, item=item, notes={t.id: "Shown" for t in view.targets}
    )
    submit(db.session, actor=learner, enrolment=enrolment, declared=True)
    decisions.start_review(db.session, actor=assessor, enrolment=enrolment)
    db.session.commit()
    return enrolment


def record_competent(enrolment) -> None:
    """The enrolment's assessor records Competent, with the declaration (and commits)."""
    from portfolio.assessment import outcome
    from portfolio.models import OutcomeResult

    outcome.record_outcome(
        db.session,
        actor=enrolment.assessor,
        view=review.review_view(db.session, enrolment),
        result=OutcomeResult.COMPETENT,
        declared=True,
    )
    db.session.commit()
