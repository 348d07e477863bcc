"""The review as the assessor reads it: the latest submission's items, what the assessor has
recorded so far, and what follows from it (gaps, coverage, what is left to judge).

Loaded in a fixed number of queries whatever the number of items and targets; the services in
``decisions``, ``gaps`` and ``outcome`` take it, and the review page, the evidence pack and the
bulk generator's comparison test read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portfolio.assessment.rules import outcome_choices
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
    Target,
    UnitOutcome,
)
from portfolio.models.review import AssessorEntry, current_entries
from portfolio.units.services import UnitView, get_release, unit_view

E = TypeVar("E", bound=AssessorEntry)


@dataclass
class SubmittedItem:
    """An evidence item as the assessor sees it: the version last handed in."""

    item: EvidenceItem
    version: EvidenceVersion
    possibly_not_current: bool = False


@dataclass
class ReviewView:
    """Everything the review page shows, loaded in a fixed number of queries."""

    enrolment: Enrolment
    submission: Submission | None
    unit: UnitView
    items: list[SubmittedItem]
    decisions: dict[tuple[int, int], MappingDecision]
    judgements: dict[int, Judgement]
    checks: dict[tuple[int, EvidenceRule], EvidenceCheck]
    signoffs: dict[int, GapSignoff]
    outcome: UnitOutcome | None
    history: list[AssessorEntry] = field(default_factory=list)
    learner_notes: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def targets(self) -> list[Target]:
        return [t for t in self.unit.release.targets if not t.is_group]

    def mapping(self, version: EvidenceVersion, target: Target) -> str | None:
        """ "accepted", "rejected", "pending" (learner's, not yet decided) or None (not mapped)."""
        decision = self.decisions.get((version.id, target.id))
        if decision is not None:
            return "accepted" if decision.accepted else "rejected"
        if (version.id, target.id) in self.learner_notes:
            return "pending"
        return None

    def note(self, version: EvidenceVersion, target: Target) -> str:
        decision = self.decisions.get((version.id, target.id))
        if decision is not None and decision.source is MappingSource.ASSESSOR:
            return decision.note
        return self.learner_notes.get((version.id, target.id), "")

    def accepted_for(self, target: Target) -> list[SubmittedItem]:
        return [s for s in self.items if self.mapping(s.version, target) == "accepted"]

    def mapped_for(self, target: Target) -> list[SubmittedItem]:
        return [s for s in self.items if self.mapping(s.version, target) is not None]

    def is_gap(self, target: Target) -> bool:
        """No accepted evidence and not signed off."""
        return (
            not target.is_group and not self.accepted_for(target) and target.id not in self.signoffs
        )

    @property
    def gaps(self) -> list[Target]:
        return [t for t in self.targets if self.is_gap(t)]

    @property
    def coverage(self) -> Coverage:
        targets = self.targets
        return Coverage(sum(1 for t in targets if not self.is_gap(t)), len(targets))

    @property
    def unjudged(self) -> list[Target]:
        return [t for t in self.targets if t.id not in self.judgements]

    @property
    def all_satisfactory(self) -> bool:
        return not self.unjudged and all(
            j.finding is Finding.SATISFACTORY for j in self.judgements.values()
        )

    def outcome_choices(self) -> list[OutcomeResult]:
        return outcome_choices(self.enrolment.is_rpl)


def _submitted_versions(session: Session, enrolment: Enrolment) -> list[EvidenceVersion]:
    versions = session.scalars(
        select(EvidenceVersion)
        .join(EvidenceItem, EvidenceVersion.item_id == EvidenceItem.id)
        .where(
            EvidenceItem.enrolment_id == enrolment.id, EvidenceVersion.submission_id.is_not(None)
        )
        .options(
            selectinload(EvidenceVersion.item),
            selectinload(EvidenceVersion.files),
            selectinload(EvidenceVersion.mappings),
            selectinload(EvidenceVersion.submission),
        )
        .order_by(EvidenceItem.number, EvidenceVersion.version)
    ).all()
    latest: dict[int, EvidenceVersion] = {}
    for version in versions:
        latest[version.item_id] = version  # ordered by version, so the last one wins
    return list(latest.values())


def _entries(session: Session, model: type[E], enrolment: Enrolment, *load: object) -> list[E]:
    query = select(model).where(model.enrolment_id == enrolment.id).order_by(model.id)
    if load:
        query = query.options(*load)
    return list(session.scalars(query))


def review_view(session: Session, enrolment: Enrolment, *, currency_years: int = 2) -> ReviewView:
    """The review of an enrolment's latest submission, however many items and targets."""
    release = get_release(session, enrolment.unit_release.unit.code, enrolment.unit_release.release)
    assert release is not None
    submission = enrolment.submissions[-1] if enrolment.submissions else None
    versions = _submitted_versions(session, enrolment)
    limit = (
        local_date(submission.submitted_at) - timedelta(days=365 * currency_years)
        if submission
        else None
    )
    items = [SubmittedItem(v.item, v, bool(limit and v.work_date < limit)) for v in versions]
    learner_notes = {(v.id, m.target_id): m.note for v in versions for m in v.mappings}

    decisions_all = _entries(session, MappingDecision, enrolment)
    judgements_all = _entries(session, Judgement, enrolment, selectinload(Judgement.assessor))
    checks_all = _entries(session, EvidenceCheck, enrolment)
    signoffs_all = _entries(
        session,
        GapSignoff,
        enrolment,
        selectinload(GapSignoff.files),
        selectinload(GapSignoff.assessor),
    )
    outcomes_all = _entries(session, UnitOutcome, enrolment, selectinload(UnitOutcome.assessor))

    current_outcomes = current_entries(outcomes_all)
    history = _corrections(judgements_all, signoffs_all, outcomes_all)
    return ReviewView(
        enrolment=enrolment,
        submission=submission,
        unit=unit_view(release),
        items=items,
        decisions={(d.version_id, d.target_id): d for d in current_entries(decisions_all)},
        judgements={j.target_id: j for j in current_entries(judgements_all)},
        checks={(c.version_id, c.rule): c for c in current_entries(checks_all)},
        signoffs={s.target_id: s for s in current_entries(signoffs_all)},
        outcome=current_outcomes[-1] if current_outcomes else None,
        history=sorted(history, key=lambda row: row.recorded_at),
        learner_notes=learner_notes,
    )


def _corrections(*groups: Sequence[AssessorEntry]) -> list[AssessorEntry]:
    """Entries that corrected another, and the entries they replaced: both stay visible."""
    out: list[AssessorEntry] = []
    for rows in groups:
        replaced = {row.replaces_id for row in rows if row.replaces_id is not None}
        out.extend(row for row in rows if row.id in replaced or row.replaces_id is not None)
    return out
