"""The review page's coverage matrix: the unit's targets in blocks, by element, then the
performance and knowledge evidence lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from portfolio.assessment.review import Cell, ReviewView
from portfolio.models import Element, Target
from portfolio.units.services import TargetNode


@dataclass
class MatrixSection:
    """A block of rows of the coverage matrix: an element's criteria, or an evidence list."""

    title: str
    anchor: str
    targets: list[Target]
    element: Element | None = None


def _flatten(nodes: Iterable[TargetNode]) -> list[Target]:
    out: list[Target] = []
    for node in nodes:
        out.append(node.target)
        out.extend(_flatten(node.children))
    return out


def matrix_sections(view: ReviewView) -> list[MatrixSection]:
    """The unit's targets as the matrix shows them: grouped by element, evidence lists after."""
    unit = view.unit
    sections = [
        MatrixSection(
            f"Element {ev.element.number} {ev.element.title}",
            f"element-{ev.element.number}",
            ev.targets,
            ev.element,
        )
        for ev in unit.elements
    ]
    if unit.criteria:
        sections.append(MatrixSection("Performance criteria", "criteria", unit.criteria))
    if unit.performance_evidence:
        sections.append(
            MatrixSection(
                "Performance evidence", "performance-evidence", _flatten(unit.performance_evidence)
            )
        )
    if unit.knowledge_evidence:
        sections.append(
            MatrixSection(
                "Knowledge evidence", "knowledge-evidence", _flatten(unit.knowledge_evidence)
            )
        )
    return sections


class Grid:
    """The matrix's rows as the page draws them. The "map evidence yourself" list of each
    criterion offers the items not yet mapped to it; each item's ``<option>`` is made once for
    the page, not once for every criterion (a unit of 60 criteria and 20 items would otherwise
    build 1,200)."""

    def __init__(self, view: ReviewView) -> None:
        self.view = view
        self._options = [
            Markup('<option value="{}">E{} {}</option>').format(
                s.version.id, s.item.number, s.version.title
            )
            for s in view.items
        ]

    def row(self, target: Target) -> tuple[list[Cell | Markup], Markup]:
        """The target's marks, with each run of items not mapped to it as its empty cells made
        at once (most of a matrix is empty: the page loops over the marks, not over every
        item), and the options of the items not mapped to it."""
        out: list[Cell | Markup] = []
        mapped = set()
        after = 0  # the position after the last mark
        for n, cell in self.view.marks(target):
            if n > after:
                out.append(_EMPTY * (n - after))
            out.append(cell)
            mapped.add(n)
            after = n + 1
        if after < len(self._options):
            out.append(_EMPTY * (len(self._options) - after))
        unmapped = Markup("".join(o for n, o in enumerate(self._options) if n not in mapped))
        return out, unmapped


#: An item not mapped to a target, in the matrix.
_EMPTY = Markup('<td class="text-center"></td>')
