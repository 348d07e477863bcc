"""Read units for pages and exports, with a fixed number of queries.

A release never changes once loaded (a new release is a new row), so the pages of an
enrolment read it from ``released``: a plain, read-only copy made once per process and kept
under the release's id, with no query at all after the first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portfolio.models import Element, Framework, Target, TargetKind, Unit, UnitRelease
from portfolio.units.loader import expand_criterion_refs


@dataclass
class UnitSummary:
    release: UnitRelease
    release_count: int
    elements: int
    counts: Counter[TargetKind]


def list_units(session: Session) -> list[UnitSummary]:
    """Every unit's newest release with its counts: three queries whatever the number of units."""
    newest = (
        select(
            UnitRelease.unit_id,
            func.max(UnitRelease.release).label("release"),
            func.count().label("release_count"),
        )
        .group_by(UnitRelease.unit_id)
        .subquery()
    )
    rows = session.execute(
        select(UnitRelease, newest.c.release_count)
        .join(
            newest,
            (UnitRelease.unit_id == newest.c.unit_id) & (UnitRelease.release == newest.c.release),
        )
        .join(Unit)
        .options(selectinload(UnitRelease.unit))
        .order_by(Unit.code)
    ).all()
    ids = [release.id for release, _ in rows]
    target_counts: defaultdict[int, Counter[TargetKind]] = defaultdict(Counter)
    for release_id, kind, count in session.execute(
        select(Target.unit_release_id, Target.kind, func.count())
        .where(Target.unit_release_id.in_(ids))
        .group_by(Target.unit_release_id, Target.kind)
    ):
        target_counts[release_id][kind] = count
    # .all(): a Result has keys(), so dict() would take it for a mapping.
    element_counts: dict[int, int] = dict(
        session.execute(
            select(Element.unit_release_id, func.count())
            .where(Element.unit_release_id.in_(ids))
            .group_by(Element.unit_release_id)
        ).all()
    )
    return [
        UnitSummary(release, count, element_counts.get(release.id, 0), target_counts[release.id])
        for release, count in rows
    ]


def get_release(session: Session, code: str, release: int | None = None) -> UnitRelease | None:
    """One release of a unit (the newest where none is named), with everything a page shows."""
    query = (
        select(UnitRelease)
        .join(Unit)
        .where(Unit.code == code.upper())
        .options(
            selectinload(UnitRelease.unit).selectinload(Unit.releases),
            selectinload(UnitRelease.elements),
            selectinload(UnitRelease.targets),
        )
        .order_by(UnitRelease.release.desc())
        .limit(1)
    )
    if release is not None:
        query = query.where(UnitRelease.release == release)
    return session.scalars(query).first()


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: int
    code: str


@dataclass(frozen=True, slots=True)
class ElementRef:
    id: int
    unit_release_id: int
    number: str
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class TargetRef:
    """A target as pages, documents and services read it: every column, none of the ORM."""

    id: int
    unit_release_id: int
    kind: TargetKind
    anchor: str
    ref: str
    text: str
    element_id: int | None
    parent_id: int | None
    depth: int
    position: int
    is_group: bool

    @property
    def judged_alone(self) -> bool:
        """As ``Target.judged_alone``: every target but a group heading."""
        return not self.is_group


@dataclass(frozen=True)
class ReleaseRef:
    """A loaded release, copied out of the session: safe to share between requests."""

    id: int
    unit_id: int
    unit: UnitRef
    release: int
    title: str
    framework: Framework
    application: list[str]
    band: str | None
    unit_weight: int | None
    competency_field: str | None
    sector: str | None
    criteria_intro: str | None
    performance_evidence_intro: str | None
    performance_evidence_notes: list[str]
    knowledge_evidence_intro: str | None
    knowledge_evidence_notes: list[str]
    assessment_conditions: list[Any]
    foundation_skills: dict[str, Any] | None
    range_statement: dict[str, Any] | None
    source_file: str
    content_sha256: str
    elements: tuple[ElementRef, ...]
    targets: tuple[TargetRef, ...]

    @property
    def code(self) -> str:
        return self.unit.code


def _copy(row: object, into: type, **extra: Any) -> Any:
    """The row's values of the fields ``into`` has, as an ``into``."""
    names = [f.name for f in fields(into) if f.name not in extra]
    return into(**{name: getattr(row, name) for name in names}, **extra)


def released(session: Session, release_id: int) -> UnitView:
    """The release with this id, arranged for display, from a read-only copy kept for the
    life of the process (per app: each app has its own database). Made once, in four
    queries; after that an enrolment's pages read their unit without a query."""
    cache: dict[int, UnitView] = current_app.extensions.setdefault("released_units", {})
    found = cache.get(release_id)
    if found is None:
        release = session.scalars(
            select(UnitRelease)
            .where(UnitRelease.id == release_id)
            .options(
                selectinload(UnitRelease.unit),
                selectinload(UnitRelease.elements),
                selectinload(UnitRelease.targets),
            )
        ).one()
        copy = _copy(
            release,
            ReleaseRef,
            unit=UnitRef(release.unit.id, release.unit.code),
            elements=tuple(_copy(e, ElementRef) for e in release.elements),
            targets=tuple(_copy(t, TargetRef) for t in release.targets),
        )
        found = cache[release_id] = unit_view(copy)
    return found


#: A release or target as loaded in the session, or its read-only copy: pages read either.
AnyRelease = UnitRelease | ReleaseRef
AnyTarget = Target | TargetRef


@dataclass
class TargetNode:
    target: AnyTarget
    children: list[TargetNode] = field(default_factory=list)


@dataclass
class ElementView:
    element: Element | ElementRef
    targets: list[AnyTarget]


@dataclass
class UnitView:
    """A release arranged as the unit page and documents present it."""

    release: AnyRelease
    elements: list[ElementView]
    criteria: list[AnyTarget]
    performance_evidence: list[TargetNode]
    knowledge_evidence: list[TargetNode]
    # Foundation skill rows with their criterion references expanded to anchors.
    skill_links: list[list[tuple[str, str | None]]]
    by_id: dict[int, AnyTarget] = field(init=False, repr=False)
    #: The targets judged one by one (not the headings of sub-lists), in the unit's order:
    #: what coverage, the review and the outcome count.
    judged: list[AnyTarget] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {t.id: t for t in self.release.targets}
        self.judged = [t for t in self.release.targets if t.judged_alone]

    @property
    def target_count(self) -> int:
        return len(self.release.targets)


def unit_view(release: AnyRelease) -> UnitView:
    """Arrange a loaded release (no further queries) for display."""
    by_element: defaultdict[int, list[AnyTarget]] = defaultdict(list)
    loose: list[AnyTarget] = []
    roots: defaultdict[TargetKind, list[TargetNode]] = defaultdict(list)
    nodes: dict[int, TargetNode] = {}
    for target in release.targets:
        if target.kind in (TargetKind.PERFORMANCE_CRITERION, TargetKind.ELEMENT):
            if target.element_id is None:
                loose.append(target)
            else:
                by_element[target.element_id].append(target)
            continue
        node = nodes[target.id] = TargetNode(target)
        if target.parent_id is None:
            roots[target.kind].append(node)
        else:
            nodes[target.parent_id].children.append(node)

    numbers = [t.ref for t in release.targets if t.kind is TargetKind.PERFORMANCE_CRITERION]
    skill_links = []
    for skill in (release.foundation_skills or {}).get("skills", []):
        links = []
        for ref in skill.get("criteria", []):
            expanded = expand_criterion_refs([ref], numbers)
            first = expanded[0] if isinstance(expanded, list) and expanded else None
            links.append((ref, f"pc-{first}" if first else None))
        skill_links.append(links)

    return UnitView(
        release=release,
        elements=[ElementView(e, by_element[e.id]) for e in release.elements],
        criteria=loose,
        performance_evidence=roots[TargetKind.PERFORMANCE_EVIDENCE],
        knowledge_evidence=roots[TargetKind.KNOWLEDGE_EVIDENCE],
        skill_links=skill_links,
    )
