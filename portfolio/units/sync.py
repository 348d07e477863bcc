"""Load checked unit files into the database: one transaction, idempotent, never rewriting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portfolio.models import Element, Framework, Target, TargetKind, Unit, UnitRelease
from portfolio.units.loader import LoadedUnit, Problem
from portfolio.units.schema import ListItem, UnitDocument


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class TargetSpec:
    """A target as the file defines it, before it has a row."""

    kind: TargetKind
    anchor: str
    ref: str
    text: str
    element_number: str | None = None
    parent_anchor: str | None = None
    depth: int = 0


def derive_targets(document: UnitDocument) -> list[TargetSpec]:
    """Everything a learner maps evidence to, in the order of the file."""
    specs: list[TargetSpec] = []
    for element in document.elements:
        if not element.criteria:
            specs.append(
                TargetSpec(
                    TargetKind.ELEMENT,
                    f"el-{element.number}",
                    f"E{element.number}",
                    element.title,
                    element_number=element.number,
                )
            )
        for criterion in element.criteria:
            specs.append(
                TargetSpec(
                    TargetKind.PERFORMANCE_CRITERION,
                    f"pc-{criterion.number}",
                    criterion.number,
                    criterion.with_items(),
                    element_number=element.number,
                )
            )
    for criterion in document.criteria:
        specs.append(
            TargetSpec(
                TargetKind.PERFORMANCE_CRITERION,
                f"pc-{criterion.number}",
                criterion.number,
                criterion.with_items(),
            )
        )
    for section, kind, prefix in (
        (document.performance_evidence, TargetKind.PERFORMANCE_EVIDENCE, "pe"),
        (document.knowledge_evidence, TargetKind.KNOWLEDGE_EVIDENCE, "ke"),
    ):
        if section is not None:
            specs.extend(_list_targets(section.items, kind, prefix))
    return specs


def _list_targets(
    items: list[ListItem], kind: TargetKind, prefix: str, numbers: tuple[int, ...] = ()
) -> Iterator[TargetSpec]:
    parent = f"{prefix}-{'.'.join(map(str, numbers))}" if numbers else None
    for index, item in enumerate(items, start=1):
        position = (*numbers, index)
        dotted = ".".join(map(str, position))
        yield TargetSpec(
            kind,
            f"{prefix}-{dotted}",
            f"{prefix.upper()} {dotted}",
            item.text,
            parent_anchor=parent,
            depth=len(numbers),
        )
        yield from _list_targets(item.items, kind, prefix, position)


def sync_units(session: Session, loaded: list[LoadedUnit]) -> SyncReport:
    """Add every release not yet in the database. Flushes; the caller commits or rolls back.

    A release already loaded with the same content is left alone. One loaded with different
    content is refused: assessments are pinned to releases, so a release never changes.
    """
    report = SyncReport()
    codes = {unit.document.code for unit in loaded}
    existing = {
        unit.code: unit
        for unit in session.scalars(
            select(Unit).where(Unit.code.in_(codes)).options(selectinload(Unit.releases))
        )
    }
    to_add: list[LoadedUnit] = []
    for item in loaded:
        doc = item.document
        label = f"{doc.code} release {doc.release}"
        unit = existing.get(doc.code)
        current = (
            next((r for r in unit.releases if r.release == doc.release), None) if unit else None
        )
        if current is None:
            to_add.append(item)
        elif current.content_sha256 == item.content_sha256:
            report.unchanged.append(label)
        else:
            reason = (
                f"{label} is already loaded with different content; a loaded release is never "
                f"rewritten, so give the changed unit a new release number"
            )
            report.problems.append(Problem(item.file, None, "release", reason))
    if report.problems:
        return report

    for item in to_add:
        doc = item.document
        unit = existing.get(doc.code)
        if unit is None:
            unit = existing[doc.code] = Unit(code=doc.code)
            session.add(unit)
        session.add(_build_release(unit, item))
        report.added.append(f"{doc.code} release {doc.release}")
    session.flush()
    return report


def _build_release(unit: Unit, item: LoadedUnit) -> UnitRelease:
    doc = item.document
    dump = doc.model_dump(mode="json", exclude_none=True)
    release = UnitRelease(
        unit=unit,
        release=doc.release,
        title=doc.title,
        framework=Framework(doc.framework),
        application=list(doc.application),
        band=doc.band,
        unit_weight=doc.unit_weight,
        competency_field=doc.competency_field,
        sector=doc.sector,
        criteria_intro=doc.criteria_intro,
        performance_evidence_intro=doc.performance_evidence and doc.performance_evidence.intro,
        performance_evidence_notes=doc.performance_evidence.notes
        if doc.performance_evidence
        else [],
        knowledge_evidence_intro=doc.knowledge_evidence and doc.knowledge_evidence.intro,
        knowledge_evidence_notes=doc.knowledge_evidence.notes if doc.knowledge_evidence else [],
        assessment_conditions=dump.get("assessment_conditions", []),
        foundation_skills=dump.get("foundation_skills"),
        range_statement=dump.get("range_statement"),
        source_file=item.file.rsplit("/", 1)[-1],
        content_sha256=item.content_sha256,
    )
    elements = {
        element.number: Element(
            unit_release=release, number=element.number, title=element.title, position=position
        )
        for position, element in enumerate(doc.elements, start=1)
    }
    specs = derive_targets(doc)
    parents = {spec.parent_anchor for spec in specs}
    targets: dict[str, Target] = {}
    for position, spec in enumerate(specs, start=1):
        targets[spec.anchor] = Target(
            unit_release=release,
            kind=spec.kind,
            anchor=spec.anchor,
            ref=spec.ref,
            text=spec.text,
            element=elements[spec.element_number] if spec.element_number else None,
            parent=targets[spec.parent_anchor] if spec.parent_anchor else None,
            depth=spec.depth,
            position=position,
            is_group=spec.anchor in parents,
        )
    return release
