"""Where the RTO asks for it (SIGNED_DECLARATIONS), the learner's submission declaration and
the assessor's outcome declaration are also signed by drawing, and the pack shows both."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from portfolio.assessment import decisions, review
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings
from portfolio.extensions import db
from portfolio.models import AssessmentState, EvidenceType, Finding, Submission, UnitOutcome
from tests.packs import pictures, read_pack
from tests.verification.drawn import signed


@pytest.fixture
def signing(app):
    app.config["SIGNED_DECLARATIONS"] = True


@pytest.fixture
def ready(learner_enrolment, make_user):
    """Lee's portfolio with one item mapped to every criterion, and an assessor."""
    enrolment = learner_enrolment
    enrolment.assessor_id = make_user("assessor", name="Ash Assessor").id
    item = create_item(
        db.session,
        actor=enrolment.learner,
        enrolment=enrolment,
        fields=ItemFields("Roster", EvidenceType.PLAN, date(2026, 10, 1), "The roster."),
        files=[],
    )
    view = review.review_view(db.session, enrolment)
    set_item_mappings(
        db.session,
        actor=enrolment.learner,
        item=item,
        notes={t.id: "Shown" for t in view.targets},
    )
    db.session.commit()
    return enrolment


def test_with_signing_on_a_submission_needs_a_drawn_signature(client, ready, signing):
    """Unsigned: refused in words, nothing handed in. Signed: kept with the submission."""
    page = client.get(f"/enrolments/{ready.id}/submit").text
    assert 'id="signature-pad"' in page
    refused = client.post(f"/enrolments/{ready.id}/submit", data={"declared": "y"})
    assert "Sign in the box" in html.unescape(refused.text)
    db.session.expire_all()
    assert ready.state is AssessmentState.DRAFT
    response = client.post(
        f"/enrolments/{ready.id}/submit", data={"declared": "y", "signature": signed()}
    )
    assert response.status_code == 302
    submission = db.session.scalars(select(Submission)).one()
    assert submission.signature_png.startswith(b"\x89PNG")


def test_with_signing_off_no_signature_is_asked_for(client, ready):
    page = client.get(f"/enrolments/{ready.id}/submit").text
    assert "signature-pad" not in page
    assert client.post(f"/enrolments/{ready.id}/submit", data={"declared": "y"}).status_code == 302
    assert db.session.scalars(select(Submission)).one().signature_png is None


def test_the_outcome_is_signed_too_and_the_pack_shows_both_signatures(
    client, ready, signing, login
):
    """The assessor's declaration: refused unsigned, kept signed; the pack has each picture
    captioned with who signed and when."""
    client.post(f"/enrolments/{ready.id}/submit", data={"declared": "y", "signature": signed()})
    assessor = ready.assessor
    decisions.start_review(db.session, actor=assessor, enrolment=ready)
    view = review.review_view(db.session, ready)
    decisions.accept_learner_mappings(db.session, actor=assessor, view=view, targets=view.targets)
    view = review.review_view(db.session, ready)
    for target in view.targets:
        decisions.judge(
            db.session,
            actor=assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="Shown.",
            seen_version=0,
        )
    db.session.commit()
    login(assessor)
    url = f"/enrolments/{ready.id}/review/outcome"
    assert 'id="signature-pad"' in client.get(url).text
    refused = client.post(url, data={"result": "competent", "declared": "y"})
    assert "Sign in the box" in html.unescape(refused.text)
    assert db.session.scalars(select(UnitOutcome)).all() == []
    done = client.post(url, data={"result": "competent", "declared": "y", "signature": signed()})
    assert done.status_code == 302
    outcome = db.session.scalars(select(UnitOutcome)).one()
    assert outcome.signature_png.startswith(b"\x89PNG")
    read = read_pack(ready)
    captions = [p.text for p in read.paragraphs if p.text.startswith("Signature of")]
    assert [c.split(",")[0] for c in captions] == [
        "Signature of Lee Learner",
        "Signature of Ash Assessor",
    ]
    blobs = pictures(read)
    submission = db.session.scalars(select(Submission)).one()
    assert submission.signature_png in blobs and outcome.signature_png in blobs
