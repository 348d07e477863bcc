"""``flask retention run``: evidence destroyed when its period is over, with receipts; holds,
dry runs, shared content, old bundles and unclaimed uploads; and nothing else."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import pytest
from sqlalchemy import func, select, update

from portfolio.enrolments import holds
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.pack import build_pack, pack_data
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import (
    AuditEvent,
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceVersion,
    GapSignoff,
    Job,
    Judgement,
    UnitOutcome,
)
from portfolio.models.base import utcnow
from portfolio.retention import run as retention
from portfolio.retention.rules import add_months, periods
from tests.dates import TODAY


def ended(enrolment: Enrolment, months: int, days: int = 0) -> None:
    """Move the enrolment's judgement ``months`` (and ``days``) into the past."""
    day = add_months(TODAY, -months) - timedelta(days=days)
    db.session.execute(
        update(Enrolment).where(Enrolment.id == enrolment.id).values(activity_end=day)
    )
    db.session.commit()
    db.session.expire_all()


def files_of(enrolment: Enrolment) -> list[EvidenceFile]:
    return list(
        db.session.scalars(
            select(EvidenceFile)
            .join(EvidenceVersion)
            .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
            .where(EvidenceItem.enrolment_id == enrolment.id)
        )
    )


def receipts(enrolment: Enrolment) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "evidence.destroyed")
            .where(AuditEvent.enrolment_id == enrolment.id)
            .order_by(AuditEvent.seq)
        )
    )


def count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def test_evidence_past_its_period_is_destroyed_with_a_receipt_per_item(decided, runner) -> None:
    enrolment = decided(items=2)
    ended(enrolment, 7)
    kept = decided()  # decided today: not due for six months
    files = files_of(enrolment)
    keys = {f.storage_key for f in files}
    assert len(files) == 4 and all(storage().exists(key) for key in keys)
    decisions_before = (count(Judgement), count(GapSignoff), count(UnitOutcome))

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "Destroyed the evidence of 1 enrolment: 2 items, 4 files" in result.output
    db.session.expire_all()
    assert files_of(enrolment) == []
    # Each stored copy goes, unless another record names the same content (every learner's
    # sample photo here is the same PNG).
    shared = {f.storage_key for f in files_of(kept)}
    assert keys - shared and not any(storage().exists(key) for key in keys - shared)
    assert all(storage().exists(key) for key in keys & shared)
    assert all(
        v.description == ""
        for v in db.session.scalars(
            select(EvidenceVersion)
            .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
            .where(EvidenceItem.enrolment_id == enrolment.id)
        )
    )
    assert db.session.get(Enrolment, enrolment.id).evidence_destroyed_on == TODAY
    # The record of the assessment stays whole: items' titles, every decision.
    assert [i.current_version.title for i in _items(enrolment)] == ["Evidence 0", "Evidence 1"]
    assert (count(Judgement), count(GapSignoff), count(UnitOutcome)) == decisions_before
    # A receipt per item names what went, by SHA-256, and the rule and dates.
    found = receipts(enrolment)
    assert [event.subject for event in found] == ["evidence:E1", "evidence:E2"]
    listed = " ".join(" ".join(event.before["files"]) for event in found)
    assert all(f.sha256 in listed for f in files)
    assert found[0].after["rule"] == "assessment evidence is kept 6 months after the judgement"
    assert found[0].after["due_on"] == add_months(add_months(TODAY, -7), 6).isoformat()
    # The other learner's evidence is untouched, and the log still verifies.
    assert len(files_of(kept)) == 2 and receipts(kept) == []
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def _items(enrolment: Enrolment) -> list[EvidenceItem]:
    return list(
        db.session.scalars(
            select(EvidenceItem)
            .where(EvidenceItem.enrolment_id == enrolment.id)
            .order_by(EvidenceItem.number)
        )
    )


def test_a_dry_run_lists_what_is_due_and_destroys_nothing(decided, runner) -> None:
    enrolment = decided()
    ended(enrolment, 8)
    events = count(AuditEvent)

    result = runner.invoke(args=["retention", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"enrolment {enrolment.id}: {enrolment.learner.name}, TLII5018" in result.output
    assert "1 item, 2 files" in result.output and "Dry run: nothing was destroyed." in result.output
    db.session.expire_all()
    assert len(files_of(enrolment)) == 2 and count(AuditEvent) == events
    assert db.session.get(Enrolment, enrolment.id).evidence_destroyed_on is None


def test_the_period_counts_from_the_judgement_to_the_day(decided, runner) -> None:
    due = decided()
    ended(due, 6)  # six months ago today: due
    early = decided()
    ended(early, 6, days=-1)  # six months ago tomorrow: not yet

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert files_of(due) == [] and len(files_of(early)) == 2


def test_an_enrolment_still_in_progress_is_never_due(decided, make_enrolment, runner) -> None:
    """Only a judged or closed enrolment has a retention clock; a reassessment stops it."""
    enrolment = decided()
    ended(enrolment, 12)
    db.session.execute(
        update(Enrolment).where(Enrolment.id == enrolment.id).values(state="reassessment")
    )
    db.session.commit()

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert len(files_of(enrolment)) == 2 and receipts(enrolment) == []


def test_a_legal_hold_keeps_everything_until_it_is_lifted(decided, make_user, runner) -> None:
    admin = make_user("admin")
    enrolment = decided()
    ended(enrolment, 9)
    holds.place_hold(db.session, actor=admin, enrolment=enrolment, reason="Appeal A-7 lodged")
    db.session.commit()

    held = runner.invoke(args=["retention", "run"])

    assert held.exit_code == 0, held.output
    assert "is on legal hold: Appeal A-7 lodged" in held.output
    assert len(files_of(enrolment)) == 2 and receipts(enrolment) == []

    holds.lift_hold(db.session, actor=admin, enrolment=enrolment, reason="Appeal decided")
    db.session.commit()
    lifted = runner.invoke(args=["retention", "run"])

    assert lifted.exit_code == 0, lifted.output
    assert files_of(enrolment) == [] and len(receipts(enrolment)) == 1
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.enrolment_id == enrolment.id, AuditEvent.action.like("%legal_hold%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == ["enrolment.legal_hold_placed", "enrolment.legal_hold_lifted"]


def test_a_hold_placed_after_the_plan_is_still_honoured(app, decided, make_user) -> None:
    """The run checks each enrolment again as it destroys it."""
    enrolment = decided()
    ended(enrolment, 9)
    rules = periods(app.config)
    found = retention.plan(app, db.session, TODAY, rules)
    assert [due.enrolment.id for due in found.evidence] == [enrolment.id]
    holds.place_hold(
        db.session, actor=make_user("admin"), enrolment=enrolment, reason="Complaint C-3"
    )
    db.session.commit()

    outcome = retention.carry_out(app, db.session, storage(), found)

    assert outcome.enrolments == 0 and outcome.skipped
    assert len(files_of(enrolment)) == 2


def test_content_another_record_names_is_kept(decided, runner) -> None:
    """Stored files are content-addressed: the same photo in another learner's portfolio stays."""
    enrolment = decided(files=("png",))
    other = decided(files=("png",))  # the same PNG bytes
    shared = files_of(enrolment)[0].storage_key
    assert files_of(other)[0].storage_key == shared
    ended(enrolment, 7)

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert files_of(enrolment) == [] and storage().exists(shared)
    with storage().open(shared) as kept:
        assert kept.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_period_below_the_minimum_is_refused(app, decided, runner) -> None:
    enrolment = decided()
    ended(enrolment, 4)
    app.config["RETENTION_EVIDENCE_MONTHS"] = 3

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 1
    assert "must be kept at least 6 months after the judgement" in result.output
    assert len(files_of(enrolment)) == 2


def test_a_longer_period_keeps_evidence_longer(app, decided, runner) -> None:
    enrolment = decided()
    ended(enrolment, 7)
    app.config["RETENTION_EVIDENCE_MONTHS"] = 12

    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "kept 12 months after the judgement" in result.output
    assert len(files_of(enrolment)) == 2


def test_old_bundles_and_unclaimed_uploads_go_with_the_run(app, decided, runner) -> None:
    admin = decided().assessor
    store = storage()
    blob = store.save(io.BytesIO(b"PK\x05\x06" + b"\0" * 18))
    old = Job(
        id="oldbundle1",
        kind="bundle",
        params={},
        description="Everything decided in 2026",
        total=1,
        requested_by_id=admin.id,
        result_key=blob.key,
    )
    db.session.add(old)
    db.session.commit()
    db.session.execute(
        update(Job).where(Job.id == old.id).values(created_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()

    listed = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "Audit bundles older than 7 days: 1 bundle." in listed.output
    result = runner.invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "Removed 1 old audit bundle" in result.output
    assert db.session.get(Job, "oldbundle1") is None and not store.exists(blob.key)
    summary = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.run"))
    assert summary.after["bundles"] == 1


def test_pages_and_the_pack_say_the_evidence_was_destroyed(decided, runner, client, login) -> None:
    enrolment = decided()
    ended(enrolment, 7)
    assert runner.invoke(args=["retention", "run"]).exit_code == 0
    enrolment = db.session.get(Enrolment, enrolment.id)

    login(enrolment.learner)
    page = client.get(f"/enrolments/{enrolment.id}").text
    assert "were destroyed on" in page and "receipt for each item" in page

    data = pack_data(db.session, enrolment)
    document = build_pack(data, letterhead=Letterhead("Test RTO"), open_file=storage().open)
    buffer = io.BytesIO()
    document.save(buffer)
    text = "\n".join(
        cell.text
        for table in docx.Document(io.BytesIO(buffer.getvalue())).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "Files and texts destroyed on" in text


def test_an_admin_places_and_lifts_a_hold_from_the_enrolments_page(
    decided, make_user, client, login
) -> None:
    enrolment = decided()
    login(make_user("admin"))
    url = f"/admin/enrolments/{enrolment.id}/hold"

    empty = client.post(url, data={"p-reason": "   "})
    assert "Say why" in empty.text and holds.held_ids(db.session) == set()

    placed = client.post(url, data={"p-reason": "Complaint C-2026-014"}, follow_redirects=True)
    assert "is on legal hold" in placed.text and "Complaint C-2026-014" in placed.text
    again = client.post(url, data={"p-reason": "Twice"})
    assert "already on legal hold" in again.text
    listing = client.get("/admin/enrolments").text
    assert "On legal hold" in listing

    lifted = client.post(
        f"{url}/lift", data={"l-lift_reason": "Complaint resolved"}, follow_redirects=True
    )
    assert "is lifted" in lifted.text and "Complaint resolved" in lifted.text
    assert holds.held_ids(db.session) == set()
    stale = client.post(f"{url}/lift", data={"l-lift_reason": "Again"})
    assert "not on legal hold" in stale.text


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-08-31", 6, "2027-02-28"),
        ("2024-08-31", 6, "2025-02-28"),
        ("2026-01-15", -1, "2025-12-15"),
        ("2027-02-28", -6, "2026-08-28"),
    ],
)
def test_months_are_calendar_months(day, months, expected) -> None:
    from datetime import date

    assert add_months(date.fromisoformat(day), months) == date.fromisoformat(expected)
