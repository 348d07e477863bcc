"""Read units for pages and exports, with a fixed number of queries."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portfolio.models import Element, Target, TargetKind, Unit, UnitRelease
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


@dataclass
class TargetNode:
    target: Target
    children: list[TargetNode] = field(default_factory=list)


@dataclass
class ElementView:
    element: Element
    targets: list[Target]


@dataclass
class UnitView:
    """A release arranged as the unit page and documents present it."""

    release: UnitRelease
    elements: list[ElementView]
    criteria: list[Target]
    performance_evidence: list[TargetNode]
    knowledge_evidence: list[TargetNode]
    # Foundation skill rows with their criterion references expanded to anchors.
    skill_links: list[list[tuple[str, str | None]]]

    @property
    def target_count(self) -> int:
        return len(self.release.targets)


def unit_view(release: UnitRelease) -> UnitView:
    """Arrange a loaded release (no further queries) for display."""
    by_element: defaultdict[int, list[Target]] = defaultdict(list)
    loose: list[Target] = []
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
