"""A synthetic RTO on demand: ``flask demo generate`` (see ``generate``).

Learners enrolled in units with their assessors, evidence items with real files mapped to the
units' criteria, and every enrolment taken to a stage of the workflow (draft, submitted, in
review, returned with feedback, resubmitted, decided), with the evidence checks, mapping
decisions, judgements, sign-offs, outcomes and audit events the services would have written.

- ``plan`` decides what happens to each learner, as the actions people take, from the seed;
- ``bulk`` writes those actions straight into the tables, a batch of learners at a time;
- ``replay`` takes the same actions through the services (the tests compare the two).

History is back-dated: each batch of learners is an intake whose work fills its own slice of
the past year (more, for very large cohorts), so the audit log stays in time order within a
run. A second run adds more learners and assessors, numbered on from the first.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from portfolio.demo.generate.bulk import Batch
from portfolio.demo.generate.plan import (
    DECIDED,
    EDITABLE,
    EMAIL_NUMBER,
    QUEUED,
    AssessorPlan,
    EnrolmentPlan,
    Planner,
    Stage,
    load_units,
)
from portfolio.models import AuditHead, Role, User
from portfolio.models.base import utcnow
from portfolio.text import count

DEMO_PASSWORD = "generated-demo-pass"
#: Learners written per transaction: memory stays flat whatever the size of the cohort.
BATCH_LEARNERS = 100
#: Learners per assessor when the number of assessors is not given.
LEARNERS_PER_ASSESSOR = 25
HISTORY = timedelta(days=365)
#: The shortest slice of time one batch's work may fill.
MIN_SLICE = timedelta(days=7)
#: Files stored at once: each spends its time waiting on the filesystem (fsync, mkdir).
UPLOAD_THREADS = 32


class GenerateError(Exception):
    """The cohort cannot be generated as asked; nothing was written."""


@dataclass
class Login:
    email: str
    name: str
    detail: str


@dataclass
class Summary:
    learners: int = 0
    assessors: int = 0
    units: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    stages: Counter[Stage] = field(default_factory=Counter)
    first_event: int = 0
    last_event: int = 0
    seconds: float = 0.0
    learner: Login | None = None
    assessor: Login | None = None

    def lines(self) -> list[str]:
        rows = self.rows
        stages = ", ".join(f"{stage} {self.stages[stage]}" for stage in Stage if self.stages[stage])
        megabytes = rows["stored_bytes"] / 1024 / 1024
        return [
            f"Generated {count(self.learners, 'learner')} and "
            f"{count(self.assessors, 'assessor')} "
            f"in {', '.join(self.units)}:",
            f"  enrolments  {rows['enrolments']} ({stages})",
            f"  evidence    {rows['evidence_items']} items, {rows['evidence_versions']} versions, "
            f"{rows['evidence_files']} files ({megabytes:.1f} MB stored), "
            f"{rows['evidence_mappings']} mappings",
            f"  review      {rows['submissions']} submissions, {rows['evidence_checks']} evidence "
            f"checks, {rows['mapping_decisions']} mapping decisions, {rows['judgements']} "
            f"judgements, {rows['gap_signoffs']} gap sign-offs, {rows['gap_feedback']} gap "
            f"feedback, {rows['unit_outcomes']} outcomes",
            f"  audit log   {rows['audit_events']} events "
            f"(events {self.first_event} to {self.last_event})",
            f"Took {self.seconds:.1f} s.",
        ]


def _next_numbers(session: Session) -> tuple[int, int]:
    """The next learner and assessor numbers: a second run carries on from the first."""
    highest = {"learner": 0, "assessor": 0}
    for (email,) in session.execute(select(User.email).where(User.email.like("%@generated.%"))):
        match = EMAIL_NUMBER.match(email)
        if match:
            kind, number = match.group(1), int(match.group(2))
            highest[kind] = max(highest[kind], number)
    return highest["learner"] + 1, highest["assessor"] + 1


def generate(
    session: Session,
    app: Flask,
    *,
    learners: int,
    items: int,
    assessors: int | None = None,
    units: Sequence[str] | None = None,
    seed: int = 1,
    batch_size: int = BATCH_LEARNERS,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Generate ``learners`` learners, each in three of ``units`` (all loaded units when None)
    with about ``items`` evidence items per enrolment, and ``assessors`` assessors (one per 25
    learners when None). Commits after each batch of ``batch_size`` learners."""
    started = time.perf_counter()
    if learners < 1 or items < 1 or (assessors is not None and assessors < 1):
        raise GenerateError("Learners, items and assessors must each be at least 1.")
    try:
        unit_infos = load_units(session, [u.strip().upper() for u in units] if units else None)
    except LookupError as error:
        raise GenerateError(
            f"There is no unit {error.args[0]}; load units with 'flask units sync'."
        ) from None
    if not unit_infos:
        raise GenerateError("No units are loaded; load them first with 'flask units sync'.")
    assessor_count = assessors or max(1, math.ceil(learners / LEARNERS_PER_ASSESSOR))
    timezone = ZoneInfo(app.config["RTO_TIMEZONE"])
    planner = Planner(
        seed=seed, units=unit_infos, items=items, assessors=assessor_count, timezone=timezone
    )
    first_learner, first_assessor = _next_numbers(session)
    password_hash = generate_password_hash(
        DEMO_PASSWORD, method=app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    )
    batches = math.ceil(learners / batch_size)
    slice_length = max(HISTORY / batches, MIN_SLICE)
    now = utcnow()
    window_start = now - slice_length * batches - timedelta(minutes=1)
    summary = Summary(
        learners=learners,
        assessors=assessor_count,
        units=[u.code for u in unit_infos],
        first_event=session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) + 1,
    )
    session.commit()  # end the read transaction; each batch is a write transaction of its own
    queues: Counter[int] = Counter()
    assessor_ids: list[int] = []
    assessor_plans: list[AssessorPlan] = []
    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        for number in range(batches):
            slice_start = window_start + slice_length * number
            batch = Batch(
                session, app=app, pool=pool, timezone=timezone, password_hash=password_hash
            )
            if not assessor_ids:
                assessor_plans = [
                    planner.assessor(first_assessor + n) for n in range(assessor_count)
                ]
                assessor_ids = [
                    batch.user(name=a.name, email=a.email, roles={Role.ASSESSOR}, at=slice_start)
                    for a in assessor_plans
                ]
            offset = number * batch_size
            for n in range(offset, min(offset + batch_size, learners)):
                # An intake: learners join over the first tenth of the batch's slice of time.
                start = slice_start + timedelta(minutes=1)
                start += slice_length * 0.1 * (n - offset) / batch_size
                plan = planner.learner(
                    first_learner + n,
                    index=n * planner.per_learner,
                    start=start,
                    span=slice_start + slice_length * 0.98 - start,
                )
                batch.learner(plan, assessor_ids)
                for enrolment in plan.enrolments:
                    summary.stages[enrolment.stage] += 1
                    if enrolment.stage in QUEUED:
                        queues[enrolment.assessor] += 1
                if summary.learner is None and _worth_showing(plan.enrolments, n, learners):
                    codes = ", ".join(f"{e.unit.code} {e.stage}" for e in plan.enrolments)
                    summary.learner = Login(plan.email, plan.name, codes)
            summary.rows.update(batch.finish())
            session.commit()
            if progress is not None:
                done = min(offset + batch_size, learners)
                progress(
                    f"  {done}/{learners} learners, {summary.rows['audit_events']} events, "
                    f"{time.perf_counter() - started:.0f} s"
                )
    busiest = max(range(assessor_count), key=lambda a: (queues[a], -a))
    chosen = assessor_plans[busiest]
    summary.assessor = Login(
        chosen.email, chosen.name, f"{queues[busiest]} portfolios waiting for review"
    )
    summary.last_event = summary.first_event + summary.rows["audit_events"] - 1
    summary.seconds = time.perf_counter() - started
    return summary


def _worth_showing(enrolments: Sequence[EnrolmentPlan], n: int, learners: int) -> bool:
    """A learner with something to edit and something decided; failing that, the last one."""
    stages = {e.stage for e in enrolments}
    return bool(stages & EDITABLE and stages & DECIDED) or n == learners - 1


__all__ = ["DEMO_PASSWORD", "GenerateError", "Summary", "generate"]
