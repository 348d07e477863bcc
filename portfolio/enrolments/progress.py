"""Where an enrolment stands: how much of the unit its evidence covers, the assessor's latest
return, the outcome. Read by the learner's pages, the review queue and the exports alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, distinct, func, select, union
from sqlalchemy.orm import Session, joinedload, lazyload

from portfolio.models import (
    AssessmentState,
    Enrolment,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    Finding,
    GapSignoff,
    Judgement,
    Reassessment,
    Submission,
    Target,
    UnitOutcome,
    User,
)
from portfolio.models.review import current_entries, not_replaced, standing_by_target
from portfolio.text import day


@dataclass(frozen=True)
class Coverage:
    covered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.total) if self.total else 0


@cache
def _coverage_statements() -> tuple[Select[Any], Select[Any]]:
    """The two statements of ``coverage``, built once (the union is costly to build on every
    page): the release ids and the enrolment ids are the expanding parameters ``releases`` and
    ``ids``."""
    releases, ids = bindparam("releases", expanding=True), bindparam("ids", expanding=True)
    totals = (
        select(Target.unit_release_id, func.count())
        .where(Target.unit_release_id.in_(releases), Target.is_group.is_(False))
        .group_by(Target.unit_release_id)
    )
    mapped = (
        select(EvidenceItem.enrolment_id.label("enrolment_id"), EvidenceMapping.target_id)
        .join(EvidenceVersion, EvidenceVersion.id == EvidenceItem.current_version_id)
        .join(EvidenceMapping, EvidenceMapping.version_id == EvidenceVersion.id)
        .where(EvidenceItem.enrolment_id.in_(ids))
    )
    # A gap the assessor signed off is covered too, though the learner mapped nothing to it.
    signed_off = select(GapSignoff.enrolment_id, GapSignoff.target_id).where(
        GapSignoff.enrolment_id.in_(ids), not_replaced(GapSignoff)
    )
    both = union(mapped, signed_off).subquery()
    covered = select(both.c.enrolment_id, func.count(distinct(both.c.target_id))).group_by(
        both.c.enrolment_id
    )
    return totals, covered


def coverage(session: Session, enrolments: Iterable[Enrolment]) -> dict[int, Coverage]:
    """Targets with at least one mapped item / all targets, per enrolment: two queries."""
    enrolments = list(enrolments)
    if not enrolments:
        return {}
    totals_of, covered_of = _coverage_statements()
    releases = sorted({e.unit_release_id for e in enrolments})
    totals = dict(session.execute(totals_of, {"releases": releases}).all())
    covered = dict(session.execute(covered_of, {"ids": [e.id for e in enrolments]}).all())
    return {
        e.id: Coverage(covered.get(e.id, 0), totals.get(e.unit_release_id, 0)) for e in enrolments
    }


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
    outcomes = current_entries(
        session.scalars(
            select(UnitOutcome)
            .where(
                UnitOutcome.enrolment_id == enrolment.id,
                UnitOutcome.attempt == enrolment.attempt,
            )
            .order_by(UnitOutcome.id)
            .options(joinedload(UnitOutcome.assessor).options(lazyload(User.role_rows)))
        )
    )
    judgements: dict[int, Judgement] = {}
    if with_judgements:
        judgements = standing_by_target(
            session.scalars(
                select(Judgement)
                .where(Judgement.enrolment_id == enrolment.id)
                .order_by(Judgement.id)
            )
        )
    reassessment = None
    if enrolment.attempt > 1:
        reassessment = session.scalar(
            select(Reassessment).where(
                Reassessment.enrolment_id == enrolment.id,
                Reassessment.attempt == enrolment.attempt,
            )
        )
    return LearnerFeedback(
        returned=returned,
        by_target={f.target_id: f.feedback for f in returned.gap_feedback} if returned else {},
        outcome=outcomes[-1] if outcomes else None,
        judgements=judgements,
        reassessment=reassessment,
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
    outcome: UnitOutcome | None,
    due_on: date | None,
    attempts_allowed: int,
) -> Standing:
    """The learner's next step from the enrolment's state, outcome and attempt."""
    S = AssessmentState
    state = enrolment.state
    if state is S.DECIDED and outcome is not None:
        result = outcome.result
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
    session: Session, enrolments: Iterable[Enrolment], *, attempts_allowed: int
) -> dict[int, Standing]:
    """Each enrolment's standing: two queries whatever the number (outcomes, plans)."""
    enrolments = list(enrolments)
    ids = [e.id for e in enrolments]
    if not ids:
        return {}
    outcomes: dict[int, UnitOutcome] = {}
    attempt = {e.id: e.attempt for e in enrolments}
    for outcome in current_entries(
        session.scalars(
            select(UnitOutcome).where(UnitOutcome.enrolment_id.in_(ids)).order_by(UnitOutcome.id)
        )
    ):
        if outcome.attempt == attempt[outcome.enrolment_id]:
            outcomes[outcome.enrolment_id] = outcome
    due = {
        r.enrolment_id: r.due_on
        for r in session.scalars(
            select(Reassessment).where(
                Reassessment.enrolment_id.in_([e.id for e in enrolments if e.attempt > 1])
            )
        )
        if r.attempt == attempt[r.enrolment_id]
    }
    return {
        e.id: standing(
            e, outcome=outcomes.get(e.id), due_on=due.get(e.id), attempts_allowed=attempts_allowed
        )
        for e in enrolments
    }
