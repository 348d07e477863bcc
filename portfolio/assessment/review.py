"""The review as the assessor reads it: the latest submission's items, what the assessor has
recorded so far, and what follows from it (gaps, coverage, what is left to judge).

Loaded in a fixed number of queries whatever the number of items and targets; the services in
``decisions``, ``gaps`` and ``outcome`` take it, and the review page, the evidence pack and the
bulk generator's comparison test read it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portfolio.assessment.rules import flagged, outcome_choices
from portfolio.clock import local_date
from portfolio.enrolments.progress import Coverage
from portfolio.models import (
    Enrolment,
    EvidenceCheck,
    EvidenceItem,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    GapSignoff,
    Judgement,
    MappingDecision,
    MappingSource,
    OutcomeResult,
    Submission,
    UnitOutcome,
    User,
)
from portfolio.models.review import AssessorEntry, current_entries, standing_outcomes
from portfolio.units.services import AnyTarget, UnitView, released

E = TypeVar("E", bound=AssessorEntry)


@dataclass
class SubmittedItem:
    """An evidence item as the assessor sees it: the version last handed in."""

    item: EvidenceItem
    version: EvidenceVersion
    possibly_not_current: bool = False


@dataclass(frozen=True, slots=True)
class Cell:
    """An item mapped to a target, in the matrix: its mark, its note, and whether the
    assessor still has the learner's mapping to decide."""

    submitted: SubmittedItem
    status: str
    note: str
    undecided: bool


@dataclass(frozen=True)
class Blocker:
    """Something that stands in the way of Competent, and where it is resolved: a target on
    the review page, or an item (``version``) on its own page."""

    what: str
    why: str
    target: AnyTarget | None = None
    version: EvidenceVersion | None = None


@dataclass
class ReviewView:
    """Everything the review page shows, loaded in a fixed number of queries.

    Which items are mapped to and accepted for each target is worked out once, when the view
    is made: the page asks it of every cell of the matrix.
    """

    enrolment: Enrolment
    submission: Submission | None
    unit: UnitView
    items: list[SubmittedItem]
    decisions: dict[tuple[int, int], MappingDecision]
    judgements: dict[int, Judgement]
    checks: dict[tuple[int, EvidenceRule], EvidenceCheck]
    signoffs: dict[int, GapSignoff]
    #: The outcome of the attempt the enrolment is on (None until it is recorded).
    outcome: UnitOutcome | None
    history: list[AssessorEntry] = field(default_factory=list)
    #: Outcomes of earlier attempts, oldest first; they stay on record.
    earlier_outcomes: list[UnitOutcome] = field(default_factory=list)
    learner_notes: dict[tuple[int, int], str] = field(default_factory=dict)
    #: The targets judged one by one (not the headings of sub-lists), in the unit's order.
    targets: list[AnyTarget] = field(init=False)
    _status: dict[tuple[int, int], str] = field(init=False, repr=False)
    _mapped: dict[int, list[SubmittedItem]] = field(init=False, repr=False)
    _accepted: dict[int, list[SubmittedItem]] = field(init=False, repr=False)
    #: Per target, the positions (in ``items``) of the items mapped to it.
    _mapped_at: dict[int, list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.targets = list(self.unit.judged)  # the view's own list: the unit's is shared
        self._status = dict.fromkeys(self.learner_notes, "pending")
        for key, decision in self.decisions.items():
            self._status[key] = "accepted" if decision.accepted else "rejected"
        by_version: defaultdict[int, list[tuple[int, str]]] = defaultdict(list)
        for (version_id, target_id), status in self._status.items():
            by_version[version_id].append((target_id, status))
        self._mapped, self._accepted = defaultdict(list), defaultdict(list)
        self._mapped_at = defaultdict(list)
        for n, submitted in enumerate(self.items):  # in item order, so each target's list is
            for target_id, status in by_version.get(submitted.version.id, ()):
                self._mapped[target_id].append(submitted)
                self._mapped_at[target_id].append(n)
                if status == "accepted":
                    self._accepted[target_id].append(submitted)

    def mapping(self, version: EvidenceVersion, target: AnyTarget) -> str | None:
        """ "accepted", "rejected", "pending" (learner's, not yet decided) or None (not mapped)."""
        return self._status.get((version.id, target.id))

    def note(self, version: EvidenceVersion, target: AnyTarget) -> str:
        decision = self.decisions.get((version.id, target.id))
        if decision is not None and decision.source is MappingSource.ASSESSOR:
            return decision.note
        return self.learner_notes.get((version.id, target.id), "")

    def marks(self, target: AnyTarget) -> list[tuple[int, Cell]]:
        """The target's marks in the matrix: for each item mapped to it, the item's position
        in ``items`` and its cell, in item order."""
        out = []
        for n in self._mapped_at.get(target.id, ()):
            s = self.items[n]
            key = (s.version.id, target.id)
            cell = Cell(
                s, self._status[key], self.note(s.version, target), key in self.learner_notes
            )
            out.append((n, cell))
        return out

    def undecided(self, version: EvidenceVersion) -> bool:
        """Whether a rule of evidence is unchecked, or a learner's mapping undecided."""
        if any((version.id, rule) not in self.checks for rule in EvidenceRule):
            return True
        return any(
            self._status.get((version.id, m.target_id)) == "pending" for m in version.mappings
        )

    def next_undecided(self, after: EvidenceVersion | None = None) -> SubmittedItem | None:
        """The next submitted item still to decide after ``after`` (round the list), or the
        first one when ``after`` is None."""
        order = self.items
        start = next((i + 1 for i, s in enumerate(order) if after and s.version.id == after.id), 0)
        for submitted in order[start:] + order[:start]:
            if (after is None or submitted.version.id != after.id) and self.undecided(
                submitted.version
            ):
                return submitted
        return None

    def flags(self, version: EvidenceVersion) -> list[EvidenceRule]:
        """The version's rules of evidence flagged and not yet resolved, in the usual order."""
        return [
            rule
            for rule in EvidenceRule
            if (check := self.checks.get((version.id, rule))) is not None and check.blocks
        ]

    def leans_on_flags(self, target: AnyTarget) -> list[str]:
        """The target's accepted evidence with unresolved flags, named: "E3 (sufficient)"."""
        return [
            flagged(s.item.number, rules)
            for s in self.accepted_for(target)
            if (rules := self.flags(s.version))
        ]

    def _flagged_accepted(self) -> list[tuple[SubmittedItem, list[EvidenceRule]]]:
        """Items accepted for any target whose flags are unresolved: they block Competent."""
        accepted = {s.version.id for items in self._accepted.values() for s in items}
        return [
            (s, rules)
            for s in self.items
            if s.version.id in accepted and (rules := self.flags(s.version))
        ]

    @property
    def flagged_evidence(self) -> list[str]:
        return [flagged(s.item.number, rules) for s, rules in self._flagged_accepted()]

    def achievement_blockers(self) -> list[Blocker]:
        """Everything that stands in the way of Competent (or RPL granted), each to be resolved
        where it links to: the outcome page lists them."""
        blockers = [
            Blocker(flagged(s.item.number, rules), "a flagged rule of evidence", version=s.version)
            for s, rules in self._flagged_accepted()
        ]
        for target in self.targets:
            judgement = self.judgements.get(target.id)
            if self.is_gap(target):
                why = "no accepted evidence or sign-off"
            elif judgement is None:
                why = "no judgement yet"
            elif judgement.finding is not Finding.SATISFACTORY:
                why = "judged not yet satisfactory"
            else:
                continue
            blockers.append(Blocker(target.ref, why, target=target))
        return blockers

    def accepted_for(self, target: AnyTarget) -> list[SubmittedItem]:
        return self._accepted.get(target.id, [])

    def mapped_for(self, target: AnyTarget) -> list[SubmittedItem]:
        return self._mapped.get(target.id, [])

    def is_gap(self, target: AnyTarget) -> bool:
        """No accepted evidence and not signed off."""
        return (
            target.judged_alone
            and target.id not in self._accepted
            and target.id not in self.signoffs
        )

    @property
    def gaps(self) -> list[AnyTarget]:
        return [t for t in self.targets if self.is_gap(t)]

    @property
    def coverage(self) -> Coverage:
        return Coverage(sum(1 for t in self.targets if not self.is_gap(t)), len(self.targets))

    @property
    def unjudged(self) -> list[AnyTarget]:
        return [t for t in self.targets if t.id not in self.judgements]

    @property
    def outcome_awaits(self) -> bool:
        """The outcome was recorded under direction and is not countersigned yet."""
        return self.outcome is not None and self.outcome.awaiting_countersign

    @property
    def awaiting_countersign(self) -> list[str]:
        """The criteria whose judgement or sign-off, made under direction, waits for a
        credentialed assessor's countersignature."""
        return [
            t.ref
            for t in self.targets
            if any(
                entry is not None and entry.awaiting_countersign
                for entry in (self.judgements.get(t.id), self.signoffs.get(t.id))
            )
        ]

    @property
    def all_satisfactory(self) -> bool:
        return not self.unjudged and all(
            j.finding is Finding.SATISFACTORY for j in self.judgements.values()
        )

    def outcome_choices(self) -> list[OutcomeResult]:
        return outcome_choices(self.enrolment.is_rpl)


@cache
def _submitted_versions() -> Select[tuple[EvidenceVersion]]:
    """Each item's version last handed in (not the earlier ones), in item order, of the
    enrolment ``enrolment_id``: built once (it costs more to build than to run)."""
    handed_in = and_(
        EvidenceItem.enrolment_id == bindparam("enrolment_id"),
        EvidenceVersion.submission_id.is_not(None),
    )
    latest = (
        select(EvidenceVersion.item_id, func.max(EvidenceVersion.version).label("version"))
        .join(EvidenceItem, EvidenceVersion.item_id == EvidenceItem.id)
        .where(handed_in)
        .group_by(EvidenceVersion.item_id)
        .subquery()
    )
    return (
        select(EvidenceVersion)
        .join(
            latest,
            and_(
                EvidenceVersion.item_id == latest.c.item_id,
                EvidenceVersion.version == latest.c.version,
            ),
        )
        .join(EvidenceItem, EvidenceVersion.item_id == EvidenceItem.id)
        .options(
            # The item is in the same row (one each): no query of its own.
            contains_eager(EvidenceVersion.item),
            selectinload(EvidenceVersion.files),
            selectinload(EvidenceVersion.mappings),
            # Each version's submission is one of the enrolment's, already loaded.
        )
        .order_by(EvidenceItem.number)
    )


@cache
def _entries_of(model: type[AssessorEntry]) -> Select[Any]:
    """The enrolment's (``enrolment_id``) entries of one kind in the order recorded, built
    once: decisions and checks only on the versions shown (``shown``); who made each entry in
    its own row, by name (their roles are not needed); a sign-off's files."""
    query = select(model).where(model.enrolment_id == bindparam("enrolment_id")).order_by(model.id)
    if model in (MappingDecision, EvidenceCheck):
        return query.where(model.version_id.in_(bindparam("shown", expanding=True)))  # type: ignore[attr-defined]
    by_whom = joinedload(model.assessor).lazyload(User.role_rows)  # type: ignore[attr-defined]
    if model is GapSignoff:
        return query.options(selectinload(GapSignoff.files), by_whom)
    return query.options(by_whom)


def _entries(session: Session, model: type[E], enrolment: Enrolment, **values: object) -> list[E]:
    return list(session.scalars(_entries_of(model), {"enrolment_id": enrolment.id, **values}))


def handed_in(view: ReviewView) -> set[int]:
    """The evidence versions the review shows: what someone reading it (a validator, a
    countersigning assessor) may open the files of."""
    return {s.version.id for s in view.items}


def review_view(session: Session, enrolment: Enrolment, *, currency_years: int = 2) -> ReviewView:
    """The review of an enrolment's latest submission, however many items and targets."""
    submission = enrolment.submissions[-1] if enrolment.submissions else None
    versions = list(session.scalars(_submitted_versions(), {"enrolment_id": enrolment.id}))
    limit = (
        local_date(submission.submitted_at) - timedelta(days=365 * currency_years)
        if submission
        else None
    )
    items = [SubmittedItem(v.item, v, bool(limit and v.work_date < limit)) for v in versions]
    learner_notes = {(v.id, m.target_id): m.note for v in versions for m in v.mappings}

    # Decisions and checks on earlier versions are not what the page shows.
    shown = [v.id for v in versions]
    decisions_all = _entries(session, MappingDecision, enrolment, shown=shown)
    judgements_all = _entries(session, Judgement, enrolment)
    checks_all = _entries(session, EvidenceCheck, enrolment, shown=shown)
    signoffs_all = _entries(session, GapSignoff, enrolment)
    outcomes_all = _entries(session, UnitOutcome, enrolment)

    current_outcomes = current_entries(outcomes_all)
    history = _corrections(judgements_all, signoffs_all, outcomes_all)
    return ReviewView(
        enrolment=enrolment,
        submission=submission,
        unit=released(session, enrolment.unit_release_id),
        items=items,
        decisions={(d.version_id, d.target_id): d for d in current_entries(decisions_all)},
        judgements={j.target_id: j for j in current_entries(judgements_all)},
        checks={(c.version_id, c.rule): c for c in current_entries(checks_all)},
        signoffs={s.target_id: s for s in current_entries(signoffs_all)},
        outcome=standing_outcomes(outcomes_all, {enrolment.id: enrolment.attempt}).get(
            enrolment.id
        ),
        history=sorted(history, key=lambda row: row.recorded_at),
        earlier_outcomes=[o for o in current_outcomes if o.attempt < enrolment.attempt],
        learner_notes=learner_notes,
    )


def _corrections(*groups: Sequence[AssessorEntry]) -> list[AssessorEntry]:
    """Entries that corrected another, and the entries they replaced: both stay visible."""
    out: list[AssessorEntry] = []
    for rows in groups:
        replaced = {row.replaces_id for row in rows if row.replaces_id is not None}
        out.extend(row for row in rows if row.id in replaced or row.replaces_id is not None)
    return out
