"""Closing an enrolment other than by a judgement: withdrawn (40) or credit transfer (60)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portfolio.enrolments import closing
from portfolio.enrolments.rules import CreditDocument
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.models import AssessmentState, AuditEvent, Closure, ClosureKind
from tests.dates import TODAY
from tests.files import png_bytes


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


def closures() -> int:
    return db.session.scalar(select(func.count()).select_from(Closure))


def test_a_withdrawal_ends_the_enrolment_with_its_date_and_reason(make_enrolment, admin) -> None:
    enrolment = make_enrolment()
    closing.withdraw(
        db.session, actor=admin, enrolment=enrolment, closed_on=TODAY, reason=" Moved away "
    )
    db.session.commit()
    assert enrolment.state is AssessmentState.WITHDRAWN
    assert enrolment.activity_end == TODAY
    assert enrolment.closure.kind is ClosureKind.WITHDRAWN and enrolment.closure.reason == (
        "Moved away"
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "enrolment.withdrawn"))
    assert event.after["avetmiss"] == "40" and event.after["reason"] == "Moved away"


@pytest.mark.parametrize(
    ("closed_on", "reason", "message", "field"),
    [
        (None, "Left", "Give the date the enrolment ended.", "closed_on"),
        (TODAY + timedelta(days=1), "Left", "cannot be in the future", "closed_on"),
        (TODAY - timedelta(days=400), "Left", "cannot be before the enrolment began", "closed_on"),
        (TODAY, "  ", "Say why the learner withdrew", "reason"),
    ],
)
def test_a_withdrawal_needs_a_sound_date_and_a_reason(
    make_enrolment, admin, closed_on, reason, message, field
) -> None:
    enrolment = make_enrolment()
    with pytest.raises(ServiceError) as refused:
        closing.withdraw(
            db.session, actor=admin, enrolment=enrolment, closed_on=closed_on, reason=reason
        )
    db.session.rollback()
    assert message in refused.value.message and refused.value.field == field
    assert enrolment.state is AssessmentState.DRAFT and closures() == 0


def test_a_closed_enrolment_is_not_closed_twice(make_enrolment, admin) -> None:
    enrolment = make_enrolment()
    closing.withdraw(db.session, actor=admin, enrolment=enrolment, closed_on=TODAY, reason="Left")
    db.session.commit()
    with pytest.raises(ServiceError, match="while the portfolio is withdrawn"):
        closing.withdraw(
            db.session, actor=admin, enrolment=enrolment, closed_on=TODAY, reason="Again"
        )
    db.session.rollback()
    assert closures() == 1


def credit(**changes) -> CreditDocument:
    values = {"issuing_rto": "Another RTO (91234)", "document_number": "ST-2231"}
    values["document_date"] = TODAY - timedelta(days=30)
    return CreditDocument(**{**values, **changes})


@pytest.mark.parametrize(
    ("document", "files", "field"),
    [
        (credit(issuing_rto=" "), 1, "issuing_rto"),
        (credit(document_number=""), 1, "document_number"),
        (credit(document_date=None), 1, "document_date"),
        (credit(document_date=TODAY + timedelta(days=1)), 1, "document_date"),
        (credit(), 0, "files"),
    ],
)
def test_a_credit_transfer_needs_the_verified_document_in_full(
    app, make_enrolment, admin, document, files, field
) -> None:
    from portfolio.files.uploads import store_upload

    enrolment = make_enrolment()
    stored = [store_upload(io.BytesIO(png_bytes()), "transcript.png") for _ in range(files)]
    with pytest.raises(ServiceError) as refused:
        closing.credit_transfer(
            db.session,
            actor=admin,
            enrolment=enrolment,
            closed_on=TODAY,
            document=document,
            files=stored,
        )
    db.session.rollback()
    assert refused.value.field == field
    assert enrolment.state is AssessmentState.DRAFT and closures() == 0


def test_a_credit_transfer_through_the_admin_page(client, login, make_enrolment, admin) -> None:
    """The admin verifies the transcript, attaches it, and the enrolment closes with code 60."""
    enrolment = make_enrolment()
    login(admin)
    page = client.get(f"/admin/enrolments/{enrolment.id}/close").text
    assert "Credit transfer (AVETMISS 60)" in page and "Withdrawn (AVETMISS 40)" in page
    refused = client.post(
        f"/admin/enrolments/{enrolment.id}/credit-transfer",
        data={"c-issuing_rto": "Another RTO", "c-document_number": "ST-1"},
    )
    assert "Give the date of the transcript or certificate." in refused.text
    assert closures() == 0
    done = client.post(
        f"/admin/enrolments/{enrolment.id}/credit-transfer",
        data={
            "c-issuing_rto": "Another RTO (91234)",
            "c-document_number": "ST-2231",
            "c-document_date": (TODAY - timedelta(days=30)).isoformat(),
            "c-closed_on": TODAY.isoformat(),
            "c-files": (io.BytesIO(png_bytes()), "transcript.png"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Credit transfer recorded for" in done.text
    db.session.expire_all()
    assert enrolment.state is AssessmentState.CREDIT_TRANSFER
    closure = enrolment.closure
    assert (closure.issuing_rto, closure.document_number, closure.closed_by_id) == (
        "Another RTO (91234)",
        "ST-2231",
        admin.id,
    )
    assert [f.display_name for f in closure.files] == ["transcript.png"]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "enrolment.credit_transfer")
    )
    assert event.after["files"][0]["name"] == "transcript.png"
    assert event.after["avetmiss"] == "60"


def test_a_unit_achieved_is_not_withdrawn_from_but_not_yet_competent_may_be() -> None:
    from portfolio.enrolments.rules import withdrawal_reason
    from portfolio.models import OutcomeResult

    with pytest.raises(ServiceError, match="decided Competent: it is not withdrawn from"):
        withdrawal_reason("Left", outcome=OutcomeResult.COMPETENT)
    assert withdrawal_reason(" Left ", outcome=OutcomeResult.NOT_YET_COMPETENT) == "Left"


def test_the_pack_of_a_withdrawn_enrolment_says_when_and_why(make_enrolment, admin) -> None:
    """The pack's section on the closure: its date and reason, as the admin recorded them."""
    from tests.packs import read_pack, rows

    enrolment = make_enrolment()
    closing.withdraw(
        db.session, actor=admin, enrolment=enrolment, closed_on=TODAY, reason="Moved interstate"
    )
    db.session.commit()
    found = rows(read_pack(enrolment))
    assert ["Reason", "Moved interstate"] in found
    assert ["Recorded by", "Ada Admin"] in found
