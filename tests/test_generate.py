"""``flask demo generate``: a synthetic cohort that is what the services would have made.

A small cohort is generated and checked against the rules the services keep (the audit chain,
the workflow, outcomes, rounds, stored files) and through the pages people use; and for every
stage one generated enrolment is compared, row by row and event by event, with one that the
services made from the same plan.
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from sqlalchemy import DateTime, func, select
from werkzeug.security import generate_password_hash

from portfolio.assessment import review as reviews
from portfolio.audit.log import verify
from portfolio.auth.services import create_user
from portfolio.demo.generate import DEMO_PASSWORD
from portfolio.demo.generate.bulk import Batch
from portfolio.demo.generate.plan import Planner, Stage, load_units
from portfolio.demo.generate.replay import replay
from portfolio.enrolments.workflow import ALLOWED
from portfolio.extensions import db
from portfolio.files.storage import storage_from_config
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    Closure,
    ClosureFile,
    ClosureKind,
    Enrolment,
    EvidenceCheck,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    GapFeedback,
    GapSignoff,
    Judgement,
    MappingDecision,
    OutcomeResult,
    Reassessment,
    Role,
    SignoffFile,
    Submission,
    UnitOutcome,
    User,
    UserRole,
)
from portfolio.models.base import utcnow

S = AssessmentState


def run(runner, *args: str):
    return runner.invoke(args=["demo", "generate", *args])


@pytest.fixture
def cohort(synced, runner) -> str:
    """Twelve learners, three units each, four items per portfolio; the command's output."""
    result = run(runner, "--learners", "12", "--items", "4", "--seed", "5")
    assert result.exit_code == 0, result.output
    return result.output


def logins(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(Learner|Assessor)\s+(\S+@\S+)", output, re.MULTILINE))


def enrolments() -> list[Enrolment]:
    return list(db.session.scalars(select(Enrolment).order_by(Enrolment.id)))


def test_the_command_prints_counts_time_and_two_logins(cohort) -> None:
    assert "Generated 12 learners and 1 assessor in BSBCUS501, INSCS042, MEM16003" in cohort
    assert re.search(r"enrolments\s+36 \(", cohort)
    assert re.search(r"Took \d+\.\d s\.", cohort)
    assert f"password {DEMO_PASSWORD}" in cohort
    assert set(logins(cohort)) == {"Learner", "Assessor"}
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 36


def test_every_stage_of_the_workflow_is_there(cohort) -> None:
    states = {e.state for e in enrolments()}
    assert states == set(AssessmentState)
    results = set(db.session.scalars(select(UnitOutcome.result)))
    assert results == {
        OutcomeResult.COMPETENT,
        OutcomeResult.NOT_YET_COMPETENT,
        OutcomeResult.RPL_GRANTED,
        OutcomeResult.RPL_NOT_GRANTED,
    }
    assert {c.kind for c in db.session.scalars(select(Closure))} == set(ClosureKind)
    assert db.session.scalar(select(func.max(Enrolment.attempt))) == 2
    assert db.session.scalar(
        select(func.count()).select_from(EvidenceCheck).where(EvidenceCheck.override_reason != "")
    )
    assert db.session.scalar(select(func.count()).select_from(GapSignoff)) > 0
    assert db.session.scalar(select(func.count()).select_from(GapFeedback)) > 0
    assert db.session.scalar(select(func.max(Submission.round))) == 2
    assert db.session.scalar(select(func.max(EvidenceVersion.version))) == 2
    # Each learner is in three of the five units, and every unit has learners.
    per_learner = db.session.execute(
        select(Enrolment.learner_id, func.count()).group_by(Enrolment.learner_id)
    ).all()
    assert {count for _, count in per_learner} == {3}
    assert len({e.unit_release_id for e in enrolments()}) == 5


def test_the_audit_chain_verifies_and_runs_in_time_order(cohort) -> None:
    result = verify(db.session)
    assert result.ok, result.problems
    assert result.checked == db.session.scalar(select(func.count()).select_from(AuditEvent))
    times = list(db.session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.seq)))
    assert all(a <= b for a, b in pairwise(times))
    assert times[-1] <= utcnow()
    assert times[-1] - times[0] > timedelta(days=100)  # a history, not one instant


def test_each_state_is_reached_through_transitions_the_workflow_allows(cohort) -> None:
    for enrolment in enrolments():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.enrolment_id == enrolment.id)
            .order_by(AuditEvent.seq)
        ).all()
        assert events[0].action == "enrolment.created"
        state = S.DRAFT
        for event in events:
            if event.action == "enrolment.state":
                assert event.before["state"] == state
                state = S(event.after["state"])
                assert state in ALLOWED[S(event.before["state"])]
        assert state is enrolment.state


def test_outcomes_exist_exactly_for_decided_attempts_and_competent_means_every_criterion(
    cohort, app
) -> None:
    """One outcome for each attempt that was decided: the last attempt of a decided enrolment,
    and each earlier attempt, not yet competent, of one reassessed."""
    decided = {(e.id, e.attempt) for e in enrolments() if e.state is S.DECIDED}
    earlier = {(e.id, n) for e in enrolments() for n in range(1, e.attempt)}
    outcomes = db.session.scalars(select(UnitOutcome)).all()
    assert {(o.enrolment_id, o.attempt) for o in outcomes} == decided | earlier
    assert len(outcomes) == len(decided | earlier)
    for outcome in outcomes:
        enrolment = db.session.get(Enrolment, outcome.enrolment_id)
        view = reviews.review_view(db.session, enrolment)
        if outcome.attempt < enrolment.attempt:
            assert not outcome.result.is_achieved and outcome in view.earlier_outcomes
            continue
        assert view.outcome is not None and view.outcome.result is outcome.result
        assert not view.unjudged
        if outcome.result.is_achieved:
            assert view.all_satisfactory and not view.gaps
        else:
            assert not view.all_satisfactory
        assert outcome.result in view.outcome_choices()
        local = outcome.recorded_at.astimezone(ZoneInfo(app.config["RTO_TIMEZONE"])).date()
        assert outcome.decided_on == local


def test_rounds_items_and_versions_are_consistent(cohort, app) -> None:
    zone = ZoneInfo(app.config["RTO_TIMEZONE"])
    for enrolment in enrolments():
        rounds = [s.round for s in enrolment.submissions]
        assert rounds == list(range(1, len(rounds) + 1))
        submitted = db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.enrolment_id == enrolment.id,
                AuditEvent.action == "enrolment.state",
                AuditEvent.actor_role == "learner",
            )
        )
        assert submitted == len(rounds)
        for earlier, later in pairwise(enrolment.submissions):
            # A round ends returned, or (in another attempt) decided not yet competent.
            returned = earlier.returned_at is not None
            assert returned or later.attempt == earlier.attempt + 1
            assert earlier.review_started_at is not None
        if enrolment.submissions:
            last = enrolment.submissions[-1]
            assert (last.returned_at is not None) == (enrolment.state is S.RETURNED)
        if enrolment.state is S.RESUBMITTED:
            assert len(rounds) == 2 and enrolment.attempt == 1
        items = db.session.scalars(
            select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
        ).all()
        assert sorted(i.number for i in items) == list(range(1, len(items) + 1))
        assert enrolment.next_evidence_number == len(items) + 1
        for item in items:
            assert item.current_version == item.versions[-1]
            assert [v.version for v in item.versions] == list(range(1, len(item.versions) + 1))
            for version in item.versions:
                if version.submission is not None:
                    assert version.submission.enrolment_id == enrolment.id
                # The work date is a date at the RTO, not in UTC (not in the future there).
                assert version.work_date <= version.created_at.astimezone(zone).date()
        rows = db.session.scalars(
            select(Judgement).where(Judgement.enrolment_id == enrolment.id)
        ).all()
        assert {j.submission.enrolment_id for j in rows} <= {enrolment.id}
        if enrolment.state is S.DRAFT:
            assert not rows and not enrolment.submissions


def test_every_stored_file_exists_with_its_recorded_checksum(cohort, app) -> None:
    storage = storage_from_config(app.config)
    files = [*db.session.scalars(select(EvidenceFile)), *db.session.scalars(select(SignoffFile))]
    assert len(files) > 50
    for row in files:
        with storage.open(row.storage_key) as stored:
            content = stored.read()
        assert hashlib.sha256(content).hexdigest() == row.sha256
        assert len(content) == row.size
    kinds = {row.content_type for row in files}
    assert {"application/pdf", "image/png"} <= kinds
    assert any("wordprocessingml" in kind for kind in kinds)
    # Every upload is a file of its own: only a new version's copy shares one.
    first = [row for row in files if not isinstance(row, EvidenceFile) or row.version.version == 1]
    assert len({row.sha256 for row in first}) == len(first)


def test_people_can_log_in_and_the_pages_show_the_cohort(cohort, client) -> None:
    people = logins(cohort)
    client.post("/login", data={"email": people["Learner"], "password": DEMO_PASSWORD})
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    learner = db.session.scalar(select(User).where(User.email == people["Learner"]))
    mine = [e for e in enrolments() if e.learner_id == learner.id]
    assert len(mine) == 3
    for enrolment in mine:
        assert enrolment.unit_release.unit.code in dashboard.text
        page = client.get(f"/enrolments/{enrolment.id}")
        assert page.status_code == 200
        if enrolment.next_evidence_number > 1:
            assert "E1" in page.text
    client.post("/logout")

    client.post("/login", data={"email": people["Assessor"], "password": DEMO_PASSWORD})
    queue = client.get("/review")
    assert queue.status_code == 200
    assessor = db.session.scalar(select(User).where(User.email == people["Assessor"]))
    waiting = [
        e
        for e in enrolments()
        if e.assessor_id == assessor.id and e.state in (S.SUBMITTED, S.RESUBMITTED, S.IN_REVIEW)
    ]
    assert waiting
    shown = set(re.findall(r'/enrolments/(\d+)/review(?:/start)?"', queue.text))
    assert {str(e.id) for e in waiting[:25]} <= shown
    for enrolment in waiting[:3]:
        review = client.get(f"/enrolments/{enrolment.id}/review")
        assert review.status_code == 200
        assert str(escape(enrolment.learner.name)) in review.text
    assert client.get("/units/SITXCCS008").status_code == 200


def test_a_second_run_adds_learners_with_new_logins(synced, runner) -> None:
    first = run(runner, "--learners", "2", "--items", "1", "--units", "tlii5018")
    second = run(runner, "--learners", "3", "--items", "1", "--units", "TLII5018")
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    emails = set(db.session.scalars(select(User.email)))
    assert len(emails) == 2 + 3 + 2  # learners and one assessor per run
    assert {"learner00001@generated.example.org", "learner00005@generated.example.org"} <= emails
    assert "assessor002@generated.example.org" in emails
    assert verify(db.session).ok
    codes = {e.unit_release.unit.code for e in enrolments()}
    assert codes == {"TLII5018"}
    assert len(enrolments()) == 5


def test_an_unknown_unit_is_refused_and_nothing_is_written(synced, runner) -> None:
    result = run(runner, "--learners", "2", "--items", "2", "--units", "TLII5018,NOPE1")
    assert result.exit_code == 1
    assert "There is no unit NOPE1" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_without_units_it_says_to_load_them(app, runner) -> None:
    result = run(runner, "--learners", "2", "--items", "2")
    assert result.exit_code == 1
    assert "flask units sync" in result.output


# --- The same plan, written in bulk and taken through the services ---------------------------

PEOPLE = (
    "learner_id",
    "assessor_id",
    "created_by_id",
    "submitted_by_id",
    "returned_by_id",
    "uploaded_by_id",
    "actor_id",
    "opened_by_id",
    "closed_by_id",
)


class Labels:
    """Ids as names that mean the same in both enrolments: E2v1, round 2, the assessor."""

    def __init__(self, enrolment: Enrolment) -> None:
        self.enrolment = enrolment
        self.people = {enrolment.learner_id: "learner", enrolment.assessor_id: "assessor"}
        items = db.session.scalars(
            select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
        ).all()
        self.items = {i.id: f"E{i.number}" for i in items}
        self.versions = {v.id: f"E{i.number}v{v.version}" for i in items for v in i.versions}
        self.rounds = {s.id: s.round for s in enrolment.submissions}
        self.signoffs = {
            s.id: s.target_id
            for s in db.session.scalars(
                select(GapSignoff).where(GapSignoff.enrolment_id == enrolment.id)
            )
        }
        self.closures = {
            c.id: c.kind
            for c in db.session.scalars(select(Closure).where(Closure.enrolment_id == enrolment.id))
        }

    def row(self, row: dict[str, Any], table: Any) -> dict[str, Any]:
        out = {}
        for key, value in row.items():
            column = table.c[key]
            if key in ("id", "hash", "prev_hash", "seq"):
                continue
            if isinstance(getattr(column.type, "impl", column.type), DateTime) or key in (
                "decided_on",
                "activity_start",
                "activity_end",
            ):
                # The services stamp now and today; the generator, moments in the past.
                out[key] = value is not None
            elif key in PEOPLE:
                out[key] = self.people.get(value, value)
            elif key == "enrolment_id":
                out[key] = value == self.enrolment.id
            elif key == "item_id":
                out[key] = self.items[value]
            elif key in ("version_id", "current_version_id"):
                out[key] = self.versions.get(value, value)
            elif key == "submission_id":
                out[key] = self.rounds.get(value)
            elif key == "signoff_id":
                out[key] = self.signoffs[value]
            elif key == "closure_id":
                out[key] = self.closures[value]
            elif key in ("replaces_id", "record_key"):
                out[key] = value is not None
            elif key == "subject":
                out[key] = value.replace(f"enrolment:{self.enrolment.id}", "enrolment:this")
            elif key in ("before", "after") and value is not None:
                out[key] = {
                    k: self.people.get(v, v) if k in PEOPLE else v
                    for k, v in value.items()
                    if k != "decided_on"
                }
            else:
                out[key] = value
        return out


def snapshot(enrolment: Enrolment) -> dict[str, Any]:
    """Every row and audit event of one enrolment, with ids and timestamps made comparable."""
    labels = Labels(enrolment)
    versions = list(labels.versions)
    item_ids = list(labels.items)
    signoffs = list(labels.signoffs)
    rounds = list(labels.rounds)
    closures = list(labels.closures)
    queries = {
        Enrolment: Enrolment.id == enrolment.id,
        Submission: Submission.enrolment_id == enrolment.id,
        GapFeedback: GapFeedback.submission_id.in_(rounds),
        EvidenceItem: EvidenceItem.id.in_(item_ids),
        EvidenceVersion: EvidenceVersion.id.in_(versions),
        EvidenceFile: EvidenceFile.version_id.in_(versions),
        EvidenceMapping: EvidenceMapping.version_id.in_(versions),
        MappingDecision: MappingDecision.enrolment_id == enrolment.id,
        EvidenceCheck: EvidenceCheck.enrolment_id == enrolment.id,
        Judgement: Judgement.enrolment_id == enrolment.id,
        GapSignoff: GapSignoff.enrolment_id == enrolment.id,
        SignoffFile: SignoffFile.signoff_id.in_(signoffs),
        UnitOutcome: UnitOutcome.enrolment_id == enrolment.id,
        Reassessment: Reassessment.enrolment_id == enrolment.id,
        Closure: Closure.enrolment_id == enrolment.id,
        ClosureFile: ClosureFile.closure_id.in_(closures),
    }
    out: dict[str, Any] = {}
    for model, where in queries.items():
        table = model.__table__
        rows = db.session.execute(select(table).where(where)).mappings().all()
        out[table.name] = sorted((labels.row(dict(r), table) for r in rows), key=repr)
    events = db.session.execute(
        select(AuditEvent.__table__)
        .where(AuditEvent.enrolment_id == enrolment.id)
        .order_by(AuditEvent.seq)
    ).mappings()
    out["audit_events"] = [labels.row(dict(e), AuditEvent.__table__) for e in events]
    return out


def account(user_id: int) -> dict[str, Any]:
    """A learner's account and its creation event, without what differs between two people."""
    user = db.session.get(User, user_id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.subject == f"user:{user_id}"))
    after = {k: v for k, v in event.after.items() if k not in ("email", "student_id")}
    roles = db.session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)).all()
    return {
        "name": user.name,
        "usi": user.usi,
        "active": user.active,
        "roles": roles,
        "event": (event.actor_id, event.actor_role, event.action, event.before, after),
        "password works": user.check_password(DEMO_PASSWORD),
    }


@pytest.mark.parametrize(
    ("stage", "unit"),
    [
        *((stage, "TLII5018") for stage in Stage),
        # Knowledge evidence under headings, elements without criteria; criteria without elements.
        (Stage.COMPETENT_ROUND_2, "SITXCCS008"),
        (Stage.NOT_YET_COMPETENT, "INSCS042"),
    ],
)
def test_a_generated_enrolment_is_what_the_services_make_of_the_same_plan(
    synced, app, stage: Stage, unit: str
) -> None:
    units = load_units(db.session, [unit])
    timezone = ZoneInfo(app.config["RTO_TIMEZONE"])
    planner = Planner(seed=11, units=units, items=5, assessors=1, timezone=timezone)
    start = utcnow() - timedelta(days=40)
    plan = planner.learner(1, index=0, start=start, span=timedelta(days=39), stages=[stage])
    (enrolment_plan,) = plan.enrolments
    assert enrolment_plan.stage is stage

    # In bulk, as the command writes it.
    password_hash = generate_password_hash(DEMO_PASSWORD, method="pbkdf2:sha256:1000")
    with ThreadPoolExecutor(2) as pool:
        batch = Batch(
            db.session, app=app, pool=pool, timezone=timezone, password_hash=password_hash
        )
        assessor_id = batch.user(
            name="Alex Assessor", email="a@bulk.test", roles={Role.ASSESSOR}, at=start
        )
        (written,) = batch.learner(plan, [assessor_id])
        batch.finish()
    db.session.commit()
    bulk = db.session.get(Enrolment, written.id)

    # Through the services, one call per action.
    learner = create_user(
        db.session,
        actor=None,
        name=plan.name,
        email="learner@services.test",
        roles={Role.LEARNER},
        password=DEMO_PASSWORD,
        usi=plan.usi,
    )
    assessor = create_user(
        db.session,
        actor=None,
        name="Sam Assessor",
        email="a@services.test",
        roles={Role.ASSESSOR},
        password="assessor passes judgement",
    )
    served = replay(db.session, enrolment_plan, learner=learner, assessor=assessor)
    db.session.commit()

    assert verify(db.session).ok
    expected, actual = snapshot(served), snapshot(bulk)
    assert actual.keys() == expected.keys()
    for table in expected:
        assert actual[table] == expected[table], table
    assert account(bulk.learner_id) == account(learner.id)
    # The plan got where it was meant to, and the comparison saw something of each kind.
    state = {
        Stage.DRAFT: S.DRAFT,
        Stage.SUBMITTED: S.SUBMITTED,
        Stage.IN_REVIEW: S.IN_REVIEW,
        Stage.RETURNED: S.RETURNED,
        Stage.RESUBMITTED: S.RESUBMITTED,
        Stage.REASSESSMENT: S.REASSESSMENT,
        Stage.WITHDRAWN: S.WITHDRAWN,
        Stage.CREDIT_TRANSFER: S.CREDIT_TRANSFER,
    }.get(stage, S.DECIDED)
    assert bulk.state is state
    files = actual["closure_files" if stage is Stage.CREDIT_TRANSFER else "evidence_files"]
    assert len(files) >= 1 and len(actual["audit_events"]) > 2
    if stage in (Stage.COMPETENT_ROUND_2, Stage.RESUBMITTED):
        assert max(v["version"] for v in actual["evidence_versions"]) == 2
        assert any(j["lock_version"] == 2 for j in actual["judgements"]) or (
            stage is Stage.RESUBMITTED
        )
    # The generator's timestamps run in the order of the events that stamped them.
    times = db.session.scalars(
        select(AuditEvent.occurred_at)
        .where(AuditEvent.enrolment_id == bulk.id)
        .order_by(AuditEvent.seq)
    ).all()
    assert all(a < b for a, b in pairwise(times))
    assert start < times[0] and times[-1] < start + timedelta(days=39)
