"""With CREDENTIALS_ENFORCED on, only an assessor the register authorises for the unit on the
day records a judgement, a sign-off or an outcome; anyone else is refused in words, with what
is missing, and nothing is recorded."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portfolio.assessment import decisions, review
from portfolio.clock import today
from portfolio.credentials.rules import Entry
from portfolio.credentials.services import add_entry
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.models import (
    CredentialBasis,
    CredentialKind,
    Finding,
    Judgement,
    OutcomeResult,
    UnitOutcome,
)
from tests.credentials.conftest import record_competent
from tests.packs import read_pack
from tests.packs import rows as table_rows


def register(enrolment, make_user, *, currency_until: date | None) -> None:
    admin = make_user("admin")
    held = CredentialBasis.HELD
    entries = [
        Entry(
            CredentialKind.TRAINING_AND_ASSESSMENT, "TAE40122", "", held, "", date(2023, 1, 1), None
        ),
        Entry(CredentialKind.VOCATIONAL, "TLII5018", "", held, "", date(2019, 1, 1), None),
    ]
    if currency_until:
        entries.append(
            Entry(
                CredentialKind.INDUSTRY_CURRENCY,
                "TLII5018",
                "Depot shifts",
                held,
                "",
                date(2026, 1, 1),
                currency_until,
            )
        )
    for entry in entries:
        add_entry(db.session, actor=admin, user=enrolment.assessor, entry=entry, files=[])
    db.session.commit()


def judge_all(enrolment) -> None:
    view = review.review_view(db.session, enrolment)
    decisions.accept_learner_mappings(
        db.session, actor=enrolment.assessor, view=view, targets=view.targets
    )
    view = review.review_view(db.session, enrolment)
    for target in view.targets:
        decisions.judge(
            db.session,
            actor=enrolment.assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="Shown.",
            seen_version=0,
        )


def test_an_assessor_without_a_register_cannot_judge(reviewing, enforced, make_user):
    with pytest.raises(ServiceError) as refused:
        judge_all(reviewing)
    assert str(refused.value.message).startswith(
        f"Not authorised for TLII5018 on {today():%d/%m/%Y}: the register holds no training "
        "and assessment credential, no vocational competency in TLII5018, no industry currency"
    )
    db.session.rollback()
    assert db.session.scalars(select(Judgement)).all() == []


def test_lapsed_currency_is_refused_and_a_complete_register_allows(
    reviewing, enforced, make_user, client, login
):
    """Currency that lapsed yesterday: refused on the page, in words. Renewed: allowed."""
    register(reviewing, make_user, currency_until=today() - timedelta(days=1))
    login(reviewing.assessor)
    view = review.review_view(db.session, reviewing)
    target = view.targets[0]
    page = client.post(
        f"/enrolments/{reviewing.id}/review/judgements",
        data={"target": target.id, "finding": "satisfactory", "comment": "Shown", "seen": "0"},
        follow_redirects=True,
    )
    assert "no industry currency for TLII5018" in html.unescape(page.text)
    assert db.session.scalars(select(Judgement)).all() == []
    add_entry(
        db.session,
        actor=make_user("admin"),
        user=reviewing.assessor,
        entry=Entry(
            CredentialKind.INDUSTRY_CURRENCY,
            "",
            "Renewed: conference and site visits",
            CredentialBasis.HELD,
            "",
            today() - timedelta(days=1),
            today() + timedelta(days=365),
        ),
        files=[],
    )
    db.session.commit()
    judge_all(reviewing)
    record_competent(reviewing)
    assert db.session.scalars(select(UnitOutcome)).one().result is OutcomeResult.COMPETENT


def test_with_enforcement_off_the_register_is_not_asked(reviewing):
    """The default until an RTO has filled in its register."""
    judge_all(reviewing)
    db.session.commit()
    assert db.session.scalars(select(Judgement)).all()


def test_the_pack_shows_the_register_as_it_stood_on_the_decision_date(
    reviewing, enforced, make_user
):
    """Ending an entry after the outcome does not change what the pack says of the day of the
    decision; the cover and the decision-makers' table both say it."""

    from portfolio.credentials.services import end_entry
    from portfolio.models import Credential

    register(reviewing, make_user, currency_until=today() + timedelta(days=90))
    judge_all(reviewing)
    record_competent(reviewing)
    currency = db.session.scalars(
        select(Credential).where(Credential.kind == CredentialKind.INDUSTRY_CURRENCY)
    ).one()
    end_entry(db.session, actor=make_user("admin"), credential=currency, reason="In error")
    db.session.commit()

    rows = table_rows(read_pack(reviewing))
    expected = (
        f"Authorised on {today():%d/%m/%Y}: TAE40122 Certificate IV in Training and Assessment; "
        "vocational competency in TLII5018; industry currency: Depot shifts, reviewed "
        f"{today() + timedelta(days=90):%d/%m/%Y}."
    )
    assert ["Assessor's credentials", expected] in rows
    assert ["Ash Assessor", f"{today():%d/%m/%Y}", expected] in rows


def test_the_audit_bundle_carries_the_deciders_register_extract(reviewing, make_user):
    """Every entry of each decision-maker's register, ended ones too, in credential-register.csv."""
    import csv
    import io
    import zipfile

    from portfolio.credentials.services import end_entry
    from portfolio.exports.bundle import Selection, stream_bundle
    from portfolio.models import Credential

    register(reviewing, make_user, currency_until=today() + timedelta(days=90))
    judge_all(reviewing)
    db.session.commit()
    vocational = db.session.scalars(
        select(Credential).where(Credential.kind == CredentialKind.VOCATIONAL)
    ).one()
    end_entry(db.session, actor=make_user("admin"), credential=vocational, reason="Superseded")
    db.session.commit()
    body = b"".join(stream_bundle(db.session, Selection(enrolment_ids=[reviewing.id])))
    archive = zipfile.ZipFile(io.BytesIO(body))
    rows = list(csv.reader(io.StringIO(archive.read("credential-register.csv").decode())))
    assert rows[0][:3] == ["Assessor", "Email", "Kind"]
    assert sorted((r[0], r[3]) for r in rows[1:]) == [
        ("Ash Assessor", "TAE40122"),
        ("Ash Assessor", "TLII5018"),
        ("Ash Assessor", "TLII5018"),
    ]
    assert any(r[11] == "Superseded" for r in rows[1:])
