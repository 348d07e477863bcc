"""Records past the record period (30 years after the enrolment ended): destroyed by
``flask retention run`` with one receipt each, unless on hold; the enrolment's pages say so."""

from __future__ import annotations

from sqlalchemy import func, select

from portfolio.enrolments import holds
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.pack import build_pack, pack_data
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import (
    AuditEvent,
    Enrolment,
    EvidenceItem,
    EvidenceVersion,
    GapSignoff,
    Judgement,
    MappingDecision,
    Submission,
    UnitOutcome,
)
from tests.dates import TODAY
from tests.retention.test_retention import ended, files_of

YEARS = 30 * 12


def rows(enrolment: Enrolment) -> dict[str, int]:
    counts = {}
    for model in (UnitOutcome, Judgement, GapSignoff, MappingDecision, Submission, EvidenceItem):
        counts[model.__name__] = db.session.scalar(
            select(func.count()).select_from(model).where(model.enrolment_id == enrolment.id)
        )
    counts["EvidenceVersion"] = db.session.scalar(
        select(func.count())
        .select_from(EvidenceVersion)
        .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
        .where(EvidenceItem.enrolment_id == enrolment.id)
    )
    return counts


def test_records_past_the_period_are_destroyed_with_one_receipt(decided, runner) -> None:
    old, younger = decided(items=2), decided(items=1)
    ended(old, YEARS, days=1)
    ended(younger, YEARS - 1)  # 29 years and 11 months: kept
    keys = {f.storage_key for f in files_of(old)} - {f.storage_key for f in files_of(younger)}
    assert keys and all(storage().exists(k) for k in keys)
    before = rows(old)
    assert before["UnitOutcome"] == 1 and before["Judgement"] > 0 and before["GapSignoff"] == 1

    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"enrolment {old.id}: {old.learner.name}, TLII5018" in dry.output
    assert f"enrolment {younger.id}" not in dry.output.split("Records (")[1]
    db.session.expire_all()
    assert rows(old) == before  # a dry run destroys nothing

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "Destroyed the records of 1 enrolment, each with a receipt." in result.output
    db.session.expire_all()
    assert set(rows(old).values()) == {0}
    assert rows(younger)["UnitOutcome"] == 1 and rows(younger)["EvidenceItem"] == 1
    assert not any(storage().exists(k) for k in keys)
    enrolment = db.session.get(Enrolment, old.id)
    assert enrolment.records_destroyed_on == TODAY
    [receipt] = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "records.destroyed", AuditEvent.enrolment_id == old.id
        )
    ).all()
    assert receipt.before["outcome"].startswith("Competent (AVETMISS 20), decided ")
    assert receipt.before["unit outcomes"] == 1 and receipt.before["items"] == 2
    assert receipt.after["rule"] == "outcomes and certification records are kept 30 years"
    # The log is untouched apart from the receipts, and still verifies.
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # Run again: nothing more is due.
    again = runner.invoke(args=["retention", "run"])
    assert "Destroyed the records of 0 enrolments" in again.output


def test_a_hold_keeps_the_records(decided, make_user, runner) -> None:
    enrolment = decided()
    ended(enrolment, YEARS + 2)
    admin = make_user("admin")
    holds.place_hold(db.session, actor=admin, enrolment=enrolment, reason="Complaint 2026-17")
    db.session.commit()
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "is on legal hold: Complaint 2026-17" in result.output
    db.session.expire_all()
    assert rows(enrolment)["UnitOutcome"] == 1
    assert db.session.get(Enrolment, enrolment.id).records_destroyed_on is None


def test_pages_of_an_enrolment_whose_records_went_say_so(decided, runner, client, login) -> None:
    enrolment = decided()
    ended(enrolment, YEARS + 1)
    assert runner.invoke(args=["retention", "run"]).exit_code == 0
    enrolment = db.session.get(Enrolment, enrolment.id)
    assessor = enrolment.assessor
    login(enrolment.learner)
    page = client.get(f"/enrolments/{enrolment.id}")
    assert page.status_code == 200 and "records were destroyed on" in page.text
    client.post("/logout")
    login(assessor)
    review = client.get(f"/enrolments/{enrolment.id}/review")
    assert review.status_code == 200 and "records were destroyed on" in review.text


def test_the_pack_of_an_enrolment_whose_records_went_says_so(decided, runner) -> None:
    enrolment = decided()
    ended(enrolment, YEARS + 1)
    assert runner.invoke(args=["retention", "run"]).exit_code == 0
    enrolment = db.session.get(Enrolment, enrolment.id)
    data = pack_data(db.session, enrolment)
    document = build_pack(data, letterhead=Letterhead("Test RTO"), open_file=storage().open)
    cover = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert cover["Outcome"].startswith("destroyed with the records")
    assert cover["Evidence"].startswith(f"Records destroyed on {TODAY:%d/%m/%Y}")
    trail = next(t for t in document.tables if t.rows[0].cells[0].text == "When")
    what = [row.cells[2].text for row in trail.rows[1:]]
    assert any(w.startswith("Records destroyed under the retention rules") for w in what)
