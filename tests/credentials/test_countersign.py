"""Working under direction (Standards for RTOs 2025, 3.3): with CREDENTIALS_ENFORCED on, an
assessor whose register lacks only the training and assessment credential, with an
arrangement to work under direction, may judge, sign off and decide, and each record stands
once a credentialed assessor countersigns it, as its own recorded step. Without the
countersignature the outcome waits; a countersign by anyone not credentialed is refused."""

from __future__ import annotations

import html
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portfolio.assessment import countersign, decisions, outcome, review
from portfolio.clock import today
from portfolio.credentials.rules import Entry, authorisation
from portfolio.credentials.services import add_entry
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    CredentialBasis,
    CredentialKind,
    Finding,
    Judgement,
    OutcomeResult,
    UnitOutcome,
)
from portfolio.models.base import utcnow
from portfolio.validation import services as validation
from tests.credentials.conftest import record_competent
from tests.credentials.test_enforced import judge_all
from tests.packs import read_pack, text

HELD = CredentialBasis.HELD


def entries(*, tae: bool, direction: bool) -> list[Entry]:
    found = [
        Entry(CredentialKind.VOCATIONAL, "TLII5018", "", HELD, "", date(2019, 1, 1), None),
        Entry(
            CredentialKind.INDUSTRY_CURRENCY,
            "",
            "Depot shifts",
            HELD,
            "",
            date(2026, 1, 1),
            today() + timedelta(days=200),
        ),
    ]
    if tae:
        found.append(
            Entry(
                CredentialKind.TRAINING_AND_ASSESSMENT,
                "TAE40122",
                "",
                HELD,
                "",
                date(2023, 1, 1),
                None,
            )
        )
    if direction:
        found.append(
            Entry(
                CredentialKind.UNDER_DIRECTION,
                "TLII5018",
                "Under the direction of Cam Credentialed",
                HELD,
                "",
                today() - timedelta(days=30),
                today() + timedelta(days=150),
            )
        )
    return found


def give(user, found: list[Entry], admin) -> None:
    for entry in found:
        add_entry(db.session, actor=admin, user=user, entry=entry, files=[])
    db.session.commit()


def listed(enrolment) -> str:
    """What the countersigning page lists for the enrolment, as its form sends it back."""
    db.session.expire_all()
    return countersign.shown(countersign.waiting(review.review_view(db.session, enrolment)))


def judge_all_again(enrolment) -> None:
    """The first criterion judged again, with another comment (still under direction)."""
    view = review.review_view(db.session, enrolment)
    target = view.targets[0]
    decisions.judge(
        db.session,
        actor=enrolment.assessor,
        view=view,
        target=target,
        finding=Finding.SATISFACTORY,
        comment="Seen again in the roster, week 2.",
        seen_version=view.judgements[target.id].lock_version,
    )
    db.session.commit()


@pytest.fixture
def directed(app, reviewing, make_user):
    """The assessor works under direction; Cam holds every credential for TLII5018."""
    app.config["CREDENTIALS_ENFORCED"] = True
    admin = make_user("admin")
    give(reviewing.assessor, entries(tae=False, direction=True), admin)
    cam = make_user("assessor", name="Cam Credentialed")
    give(cam, entries(tae=True, direction=False), admin)
    return reviewing, cam


def test_the_register_tells_under_direction_from_not_authorised():
    """Only the TAE credential missing, with an arrangement: under direction. Anything else
    missing, or no arrangement: not authorised."""
    now = utcnow()

    def standing(found: list[Entry]) -> list[SimpleNamespace]:
        return [SimpleNamespace(**vars(e), recorded_at=now, ended_at=None) for e in found]

    under = authorisation(standing(entries(tae=False, direction=True)), "TLII5018", today(), now)
    assert under.under_direction and not under.ok
    assert "Working under direction for TLII5018" in str(under)
    alone = authorisation(standing(entries(tae=False, direction=False)), "TLII5018", today(), now)
    assert not alone.under_direction and not alone.ok
    other = authorisation(standing(entries(tae=False, direction=True)), "BSBCUS501", today(), now)
    assert not other.under_direction and not other.ok
    full = authorisation(standing(entries(tae=True, direction=True)), "TLII5018", today(), now)
    assert full.ok and not full.under_direction


def test_a_judgement_under_direction_waits_for_a_countersignature(
    directed, client, login, make_user
):
    enrolment, cam = directed
    judge_all(enrolment)
    db.session.commit()
    judgements = db.session.scalars(select(Judgement)).all()
    assert judgements and all(j.awaiting_countersign for j in judgements)

    # The outcome waits, in words, and nothing is recorded.
    with pytest.raises(ServiceError, match="await a credentialed assessor's countersignature"):
        outcome.record_outcome(
            db.session,
            actor=enrolment.assessor,
            view=review.review_view(db.session, enrolment),
            result=OutcomeResult.COMPETENT,
            declared=True,
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(UnitOutcome)) == 0

    login(enrolment.assessor)
    shown = html.unescape(client.get(f"/enrolments/{enrolment.id}/review").text)
    assert "waiting for a credentialed assessor's countersignature: 1.1, 1.2" in shown

    # The assessor under direction cannot countersign their own; an uncredentialed assessor
    # does not see the enrolment at all.
    login(enrolment.assessor)
    assert client.get(f"/enrolments/{enrolment.id}/countersign").status_code == 403
    login(make_user("assessor", name="Una Uncredentialed"))
    assert client.get(f"/enrolments/{enrolment.id}/countersign").status_code == 404
    queue = html.unescape(client.get("/countersign").text)
    assert "Nothing waits for your countersignature" in queue
    assert "The credential register authorises you for no unit today" in queue

    # Cam finds it in the queue, reads it, countersigns.
    login(cam)
    queue = html.unescape(client.get("/countersign").text)
    assert enrolment.learner.name in queue and "You may countersign in TLII5018." in queue
    page = html.unescape(client.get(f"/enrolments/{enrolment.id}/countersign").text)
    assert f"Judgement of {judgements[0].target.ref}" in page
    # A judgement changed while the page was open is not signed unseen.
    seen = countersign.shown(countersign.waiting(review.review_view(db.session, enrolment)))
    judge_all_again(enrolment)
    refused = html.unescape(
        client.post(f"/enrolments/{enrolment.id}/countersign", data={"seen": seen}).text
    )
    assert "What waits changed while the page was open" in refused
    assert all(j.awaiting_countersign for j in db.session.scalars(select(Judgement)))
    response = client.post(
        f"/enrolments/{enrolment.id}/countersign", data={"seen": listed(enrolment)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert all(j.countersigned_by_id == cam.id for j in db.session.scalars(select(Judgement)))
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "records.countersigned")
    ).one()
    assert event.actor_id == cam.id and event.enrolment_id == enrolment.id

    # Now the outcome is recorded, under direction too: it waits for its own countersignature.
    record_competent(enrolment)
    pack = text(read_pack(enrolment))
    assert "made under direction, awaiting a countersignature" in pack
    # An outcome still waiting is no decision to sample for validation yet.
    unit = enrolment.unit_release.unit
    period = (today() - timedelta(days=5), today())
    assert validation.population(db.session, unit, *period) == []
    client.post(f"/enrolments/{enrolment.id}/countersign", data={"seen": listed(enrolment)})
    db.session.expire_all()
    assert db.session.scalars(select(UnitOutcome)).one().countersigned_by_id == cam.id
    pack = text(read_pack(enrolment))
    assert "made under direction, countersigned by Cam Credentialed" in pack
    assert "awaiting a countersignature" not in pack
    assert [c.enrolment_id for c in validation.population(db.session, unit, *period)] == [
        enrolment.id
    ]
    # Cam stood behind the decisions: not independent of the enrolment for a validation.
    assert cam.id in validation.assessed_by(db.session, [enrolment.id])[enrolment.id]
    # Nothing waits any more: the enrolment is not Cam's to read.
    assert client.get(f"/enrolments/{enrolment.id}/countersign").status_code == 404


def test_a_countersign_by_someone_not_credentialed_is_refused(directed, make_user):
    """Refused in words, nothing countersigned, whatever the page offered."""
    enrolment, _ = directed
    judge_all(enrolment)
    db.session.commit()
    lapsed = make_user("assessor", name="Lou Lapsed")
    give(lapsed, entries(tae=False, direction=False), make_user("admin"))
    with pytest.raises(ServiceError, match="Only a credentialed assessor"):
        countersign.countersign(
            db.session, actor=lapsed, view=review.review_view(db.session, enrolment)
        )
    db.session.rollback()
    assert all(j.awaiting_countersign for j in db.session.scalars(select(Judgement)))


def test_without_an_arrangement_a_person_without_the_credential_is_still_refused(
    app,
    reviewing,
    make_user,
):
    app.config["CREDENTIALS_ENFORCED"] = True
    give(reviewing.assessor, entries(tae=False, direction=False), make_user("admin"))
    with pytest.raises(ServiceError, match="no training and assessment credential"):
        judge_all(reviewing)
    db.session.rollback()
    assert db.session.scalars(select(Judgement)).all() == []


def test_an_arrangement_needs_a_review_date_and_says_whose_direction(
    client, make_user, login, synced
):
    admin = make_user("admin")
    person = make_user("assessor")
    login(admin)
    data = {
        "kind": "under_direction",
        "code": "TLII5018",
        "title": "",
        "basis": "held",
        "starts_on": "2026-01-05",
        "ends_on": "",
    }
    page = html.unescape(client.post(f"/admin/users/{person.id}/credentials", data=data).text)
    assert "Say whose direction they work under" in page
    data["title"] = "Under the direction of Cam Credentialed"
    page = html.unescape(client.post(f"/admin/users/{person.id}/credentials", data=data).text)
    assert "the arrangement is next reviewed" in page
