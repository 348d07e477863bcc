"""Where an enrolment stands: how much of the unit its evidence covers, the assessor's latest
return, the outcome. Read by the learner's pages, the review queue and the exports alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import (
    ScalarSelect,
    Select,
    Subquery,
    bindparam,
    distinct,
    func,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session, aliased, joinedload, lazyload, with_expression
from sqlalchemy.orm.interfaces import ORMOption

from portfolio.clock import local_date
from portfolio.dialect import not_by_index
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    Enrolment,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    Finding,
    GapSignoff,
    Judgement,
    OutcomeResult,
    Reassessment,
    Submission,
    UnitOutcome,
    User,
)
from portfolio.models.review import not_replaced, standing_by_target, standing_outcomes
from portfolio.text import day
from portfolio.units.services import released


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 0


@cache
def _covered(*, since: bool) -> Subquery:
    """The targets each enrolment (of the expanding parameter ``ids``) covers now: mapped from
    an item's current version, or a gap the assessor signed off (a sign-off no correction
    replaced), though the learner mapped nothing to it. With ``since``, when each was first
    covered: a mapped target from the first version of that item mapped to it (a resubmission
    copies the mappings into a new version), a signed-off one from its first sign-off (a
    correction does not move it). Built once (it costs more to build than to run)."""
    ids = bindparam("ids", expanding=True)
    now = aliased(EvidenceMapping)
    columns: list[Any] = [EvidenceItem.enrolment_id.label("enrolment_id"), now.target_id]
    if since:
        then, version = aliased(EvidenceMapping), aliased(EvidenceVersion)
        # Looked up per current mapping, by item and target through their indexes.
        first = (
            select(func.min(then.created_at))
            .join(version, version.id == then.version_id)
            # From the item's versions, not from every mapping of the target (SQLite).
            .where(
                version.item_id == EvidenceItem.id, not_by_index(then.target_id) == now.target_id
            )
            .scalar_subquery()
        )
        columns.append(first.label("since"))
    mapped = (
        select(*columns)
        .join(now, now.version_id == EvidenceItem.current_version_id)
        .where(EvidenceItem.enrolment_id.in_(ids))
    )
    signed_off_since = []
    if since:
        # From the first sign-off of the target: a correction does not move it.
        earlier = aliased(GapSignoff)
        signed_off_since.append(
            select(func.min(earlier.recorded_at))
            .where(
                earlier.enrolment_id == GapSignoff.enrolment_id,
                not_by_index(earlier.target_id) == GapSignoff.target_id,
            )
            .scalar_subquery()
        )
    signed_off = select(GapSignoff.enrolment_id, GapSignoff.target_id, *signed_off_since).where(
        GapSignoff.enrolment_id.in_(ids), not_replaced(GapSignoff)
    )
    return (union_all if since else union)(mapped, signed_off).subquery()


@cache
def _covered_counts() -> Select[Any]:
    rows = _covered(since=False)
    return select(rows.c.enrolment_id, func.count(distinct(rows.c.target_id))).group_by(
        rows.c.enrolment_id
    )


@cache
def _covered_since() -> Select[Any]:
    rows = _covered(since=True)
    return select(rows.c.enrolment_id, func.min(rows.c.since)).group_by(
        rows.c.enrolment_id, rows.c.target_id
    )


def covered_since(session: Session, enrolments: Iterable[Enrolment]) -> dict[int, list[date]]:
    """For each enrolment, the dates (at the RTO) its targets covered now were first covered,
    one date a target, in one query."""
    out: dict[int, list[date]] = {e.id: [] for e in enrolments}
    if out:
        for enrolment_id, since in session.execute(_covered_since(), {"ids": list(out)}):
            out[enrolment_id].append(local_date(since))
    return out


def coverage(
    session: Session,
    enrolments: Iterable[Enrolment],
    *,
    found: dict[int, Progress] | None = None,
) -> dict[int, Coverage]:
    """Targets covered / targets judged one by one, per enrolment: one query (the releases'
    targets are counted from their kept read-only copies), or none when ``found`` is the
    same enrolments' ``progress`` (one date per covered target)."""
    enrolments = list(enrolments)
    if not enrolments:
        return {}
    totals = {
        release_id: len(released(session, release_id).judged)
        for release_id in {e.unit_release_id for e in enrolments}
    }
    if found is None:
        covered = dict(
            session.execute(_covered_counts(), {"ids": [e.id for e in enrolments]}).all()
        )
    else:
        covered = {e.id: len(found[e.id].covered) for e in enrolments}
    return {e.id: Coverage(covered.get(e.id, 0), totals[e.unit_release_id]) for e in enrolments}


def judged_since(session: Session, enrolment_ids: Sequence[int]) -> dict[int, list[date]]:
    """For each enrolment, the dates of its criteria's judgements that stand and are
    satisfactory (one query; the learner's own page shows the same judgements)."""
    rows: dict[int, list[Any]] = defaultdict(list)
    if enrolment_ids:
        for row in session.execute(
            select(
                Judgement.id,
                Judgement.replaces_id,
                Judgement.enrolment_id,
                Judgement.target_id,
                Judgement.finding,
                Judgement.recorded_at,
            )
            .where(Judgement.enrolment_id.in_(enrolment_ids))
            .order_by(Judgement.id)
        ):
            rows[row.enrolment_id].append(row)
    return {
        enrolment_id: [
            local_date(row.recorded_at)
            for row in standing_by_target(found).values()
            if row.finding is Finding.SATISFACTORY
        ]
        for enrolment_id, found in rows.items()
    }


@dataclass(frozen=True)
class Progress:
    """An enrolment's own progress, as its latest audit event left it: the day (at the RTO)
    each target covered now was first covered, the days of the judgements that stand and are
    satisfactory, and the result of its attempt's outcome and the due date of its attempt's
    plan (for its standing)."""

    covered: tuple[date, ...]
    satisfactory: tuple[date, ...]
    result: OutcomeResult | None
    due_on: date | None


@cache
def _last_event() -> ScalarSelect[str]:
    # The latest by its number (no LIMIT: a LIMIT sent as a parameter keeps PostgreSQL from
    # settling on one plan for a prepared statement, so it would plan it at every run).
    latest = (
        select(func.max(AuditEvent.seq))
        .where(AuditEvent.enrolment_id == Enrolment.id)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    return select(AuditEvent.hash).where(AuditEvent.seq == latest).scalar_subquery()


def with_last_event() -> ORMOption:
    """The load option for ``Enrolment.last_event``, in each enrolment's own row."""
    return with_expression(Enrolment.last_event, _last_event())


#: Enrolments whose progress a process keeps (a few dozen dates each); the one read least
#: recently goes first.
KEPT_PROGRESS = 4096


class _Kept:
    """Progress by (enrolment id, hash of its latest audit event), least recently read first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.found: OrderedDict[tuple[int, str], Progress] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> Progress | None:
        with self.lock:
            found = self.found.get(key)
            if found is not None:
                self.found.move_to_end(key)
            return found

    def put(self, key: tuple[int, str], found: Progress) -> None:
        with self.lock:
            self.found[key] = found
            self.found.move_to_end(key)
            while len(self.found) > self.size:
                self.found.popitem(last=False)


def _kept() -> _Kept:
    kept = current_app.extensions.get("portfolio.progress")
    if kept is None:
        kept = current_app.extensions.setdefault("portfolio.progress", _Kept(KEPT_PROGRESS))
    return kept


def attempt_outcomes(
    session: Session, enrolments: Iterable[Enrolment], *options: ORMOption
) -> dict[int, UnitOutcome]:
    """Each enrolment's outcome of the attempt it is on, where one is recorded and stands
    (``standing_outcomes``): one query, loaded with ``options``."""
    attempts = {e.id: e.attempt for e in enrolments}
    if not attempts:
        return {}
    rows = session.scalars(
        select(UnitOutcome)
        .where(UnitOutcome.enrolment_id.in_(attempts))
        .order_by(UnitOutcome.id)
        .options(*options)
    )
    return standing_outcomes(rows, attempts)


def attempt_plans(session: Session, enrolments: Iterable[Enrolment]) -> dict[int, Reassessment]:
    """The assessor's plan of the attempt each enrolment is on, for those on another attempt
    (after Not yet competent): one query, none when no enrolment is."""
    attempts = {e.id: e.attempt for e in enrolments if e.attempt > 1}
    if not attempts:
        return {}
    plans = session.scalars(select(Reassessment).where(Reassessment.enrolment_id.in_(attempts)))
    return {p.enrolment_id: p for p in plans if p.attempt == attempts[p.enrolment_id]}


def progress(session: Session, enrolments: Iterable[Enrolment]) -> dict[int, Progress]:
    """Each enrolment's progress, kept in this process while the enrolment's latest audit
    event stays its latest: each change to its evidence, mappings, sign-offs, judgements,
    outcome or state appends one, in the same transaction. Enrolments loaded
    ``with_last_event``; those loaded without it (or with no event yet) are read every time.
    No query when every one is kept, four at most for those that are not (what covers each
    target, the judgements, the outcomes, the plans of another attempt)."""
    enrolments = list(enrolments)
    kept = _kept()
    found: dict[int, Progress] = {}
    for e in enrolments:
        known = kept.get((e.id, e.last_event)) if e.last_event else None
        if known is not None:
            found[e.id] = known
    missing = [e for e in enrolments if e.id not in found]
    if not missing:
        return found
    since = covered_since(session, missing)
    satisfactory = judged_since(session, [e.id for e in missing])
    outcomes = attempt_outcomes(session, missing)
    plans = attempt_plans(session, missing)
    for e in missing:
        outcome, plan = outcomes.get(e.id), plans.get(e.id)
        found[e.id] = Progress(
            tuple(since[e.id]),
            tuple(satisfactory.get(e.id, ())),
            outcome.result if outcome else None,
            plan.due_on if plan else None,
        )
        if e.last_event:
            kept.put((e.id, e.last_event), found[e.id])
    return found


@dataclass
class LearnerFeedback:
    """What the assessor has told the learner: the latest return (what each criterion needs),
    the judgements once they may be shown, the outcome, and the plan of another attempt."""

    returned: Submission | None
    by_target: dict[int, str]
    outcome: UnitOutcome | None
    #: Each criterion's judgement (the latest attempt's), once the learner may see them.
    judgements: dict[int, Judgement] = field(default_factory=dict)
    reassessment: Reassessment | None = None

    def to_work_on(self) -> set[int]:
        """Criteria the learner has to add to: returned with feedback, or not yet satisfactory."""
        weak = {t for t, j in self.judgements.items() if j.finding is not Finding.SATISFACTORY}
        return weak | set(self.by_target)


def learner_feedback(
    session: Session, enrolment: Enrolment, *, with_judgements: bool = False
) -> LearnerFeedback:
    """At most six queries: the latest submission (its feedback only if it was returned), the
    outcome of the attempt the enrolment is on with who decided it, the plan of that attempt,
    and (``with_judgements``: once the assessor has returned the portfolio or recorded the
    outcome) the judgements."""
    latest = session.scalars(
        select(Submission)
        .where(Submission.enrolment_id == enrolment.id)
        .order_by(Submission.round.desc())
        .limit(1)
    ).first()
    # The latest submission was returned while the portfolio is back with the learner.
    returned = latest if latest is not None and latest.returned_at is not None else None
    outcome = attempt_outcomes(
        session,
        [enrolment],
        joinedload(UnitOutcome.assessor).options(lazyload(User.role_rows)),
    ).get(enrolment.id)
    judgements: dict[int, Judgement] = {}
    if with_judgements:
        judgements = standing_by_target(
            session.scalars(
                select(Judgement)
                .where(Judgement.enrolment_id == enrolment.id)
                .order_by(Judgement.id)
            )
        )
    return LearnerFeedback(
        returned=returned,
        by_target={f.target_id: f.feedback for f in returned.gap_feedback} if returned else {},
        outcome=outcome,
        judgements=judgements,
        reassessment=attempt_plans(session, [enrolment]).get(enrolment.id),
    )


@dataclass(frozen=True)
class Standing:
    """Where an enrolment stands, in words, and what the learner does next."""

    headline: str
    next_step: str
    tone: str  # how the page marks it: "success", "warning", "info" or "secondary"


def standing(
    enrolment: Enrolment,
    *,
    result: OutcomeResult | None,
    due_on: date | None,
    attempts_allowed: int,
) -> Standing:
    """The learner's next step from the enrolment's state, the result of its attempt's outcome
    and the attempt."""
    S = AssessmentState
    state = enrolment.state
    if state is S.DECIDED and result is not None:
        if result.is_achieved:
            return Standing(result.label, "Nothing more to do for this unit.", "success")
        if enrolment.attempt < attempts_allowed:
            return Standing(
                result.label,
                "Read your assessor's reasons for each criterion below. Your assessor can "
                "open another attempt for you.",
                "warning",
            )
        return Standing(
            result.label,
            f"This was attempt {enrolment.attempt} of {attempts_allowed}: talk to your training "
            "organisation about what comes next.",
            "warning",
        )
    if state is S.REASSESSMENT:
        by = f" by {day(due_on)}" if due_on else ""
        return Standing(
            f"Attempt {enrolment.attempt}",
            f"Add evidence for the criteria marked below, then submit again{by}.",
            "warning",
        )
    steps = {
        S.DRAFT: ("Started", "Add evidence for each criterion, then submit it.", "info"),
        S.SUBMITTED: ("Submitted", "Your assessor has it; nothing to do for now.", "info"),
        S.RESUBMITTED: ("Submitted again", "Your assessor has it; nothing to do for now.", "info"),
        S.IN_REVIEW: ("Being assessed", "Your assessor is reviewing it.", "info"),
        S.RETURNED: (
            "Returned: more evidence needed",
            "Add what your assessor asked for on the criteria marked below, then submit again.",
            "warning",
        ),
        S.WITHDRAWN: ("Withdrawn", "This enrolment is closed.", "secondary"),
        S.CREDIT_TRANSFER: (
            "Credit transfer",
            "The unit is recognised from another training organisation; nothing to do.",
            "success",
        ),
    }
    headline, step, tone = steps.get(state, (state.label, "", "secondary"))
    return Standing(headline, step, tone)


def standings(
    enrolments: Iterable[Enrolment], found: dict[int, Progress], *, attempts_allowed: int
) -> dict[int, Standing]:
    """Each enrolment's standing, from its ``progress``."""
    return {
        e.id: standing(
            e,
            result=found[e.id].result,
            due_on=found[e.id].due_on,
            attempts_allowed=attempts_allowed,
        )
        for e in enrolments
    }
