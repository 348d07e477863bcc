"""The unit mapping matrix: one unit's requirements against a cohort of learners, in Word.

Each cell says where a learner stands on a requirement: judged satisfactory, not yet
satisfactory, signed off, evidence accepted but not judged, or a gap. A cover gives the totals.
The data comes in a fixed number of queries however many learners the cohort has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.clock import local_date
from portfolio.enrolments.progress import attempt_outcomes
from portfolio.enrolments.services import enrolments_by_id
from portfolio.errors import ServiceError
from portfolio.exports.docx_support import (
    add_page_number_footer,
    keep_rows_whole,
    keep_table_on_page,
    repeat_header_row,
    rotate_text,
    set_cell_margins,
    set_column_widths,
    set_header_text,
    shade_cell,
)
from portfolio.exports.letterhead import Letterhead, new_document
from portfolio.models import (
    AssessmentState,
    Enrolment,
    Finding,
    GapSignoff,
    Judgement,
    MappingDecision,
    Target,
    Unit,
    UnitOutcome,
    UnitRelease,
)
from portfolio.models.review import current_entries

# What a cell shows, with its legend; the letters read in black and white too, and a gap
# signed off by another method keeps that fact once it is judged.
MARKS = {
    "satisfactory": ("S", "Judged satisfactory on the evidence"),
    "signed_off_satisfactory": (
        "S/O",
        "Judged satisfactory on a gap sign-off (conversation, observation, third-party report)",
    ),
    "not_yet": ("N", "Judged not yet satisfactory"),
    "signed_off": ("O", "Gap signed off by another method, not judged yet"),
    "covered": ("E", "Evidence accepted, not judged yet"),
    "gap": ("–", "No accepted evidence"),
}
FILLS = {
    "satisfactory": "C6EFCE",
    "signed_off_satisfactory": "C6EFCE",
    "not_yet": "FFC7CE",
    "signed_off": "DDEBF7",
    "gap": "FFF2CC",
}
#: The grid's measures: the first column holds a criterion's code and a short title, each
#: learner's column a mark; as many learners as fit the page's width go in one block.
FIRST_COLUMN = Cm(5.6)
LEARNER_COLUMN = Cm(0.8)
SHORT_TITLE = 26  # characters of a criterion's wording in the grid (the key has it all)
HEADER_HEIGHT = Cm(4.4)
HEADER_FONT = Pt(7)
MARGIN = Cm(1.27)


@dataclass
class MatrixData:
    unit: Unit
    releases: list[UnitRelease]
    enrolments: list[Enrolment]
    targets: dict[int, list[Target]]  # by release id, in unit order, without group headings
    status: dict[tuple[int, int], str] = field(default_factory=dict)  # (enrolment, target)
    #: The decided outcome of each enrolment's last attempt.
    outcomes: dict[int, UnitOutcome] = field(default_factory=dict)
    description: str = ""

    def standing(self, enrolment: Enrolment) -> str:
        """Under the learner's name: the final outcome, or where the enrolment stands, and
        the attempt when it is not the first (each attempt before it ended not yet competent)."""
        outcome = self.outcomes.get(enrolment.id)
        now = outcome.result.label if outcome else enrolment.state.label
        return f"{now}, attempt {enrolment.attempt}" if enrolment.attempt > 1 else now

    def counts(self) -> dict[str, int]:
        decided = list(self.outcomes.values())
        return {
            "learners": len(self.enrolments),
            "decided": len(decided),
            "achieved": sum(1 for o in decided if o.result.is_achieved),
            "not_achieved": sum(1 for o in decided if not o.result.is_achieved),
        }


def cohort_ids(
    session: Session,
    unit_code: str,
    *,
    enrolled_from: date | None = None,
    enrolled_to: date | None = None,
) -> list[int]:
    """Enrolments in a unit (any release), optionally those enrolled within a date range."""
    if enrolled_from and enrolled_to and enrolled_from > enrolled_to:
        raise ServiceError("The start date is after the end date.", "enrolled_from")
    query = (
        select(Enrolment.id, Enrolment.created_at)
        .join(UnitRelease, Enrolment.unit_release_id == UnitRelease.id)
        .join(Unit, UnitRelease.unit_id == Unit.id)
        .where(Unit.code == unit_code.strip().upper())
        .order_by(Enrolment.id)
    )
    ids = []
    for enrolment_id, created_at in session.execute(query):
        day = local_date(created_at)
        if (enrolled_from and day < enrolled_from) or (enrolled_to and day > enrolled_to):
            continue
        ids.append(enrolment_id)
    return ids


def matrix_data(
    session: Session, unit_code: str, enrolment_ids: Sequence[int], *, description: str = ""
) -> MatrixData:
    """The cohort's standing on every requirement; seven queries whatever its size."""
    unit = session.scalar(select(Unit).where(Unit.code == unit_code.strip().upper()))
    if unit is None:
        raise ServiceError(f"There is no unit {unit_code}.", "unit")
    enrolments = [
        e
        for e in sorted(
            enrolments_by_id(session, enrolment_ids).values(), key=lambda e: e.learner.name.lower()
        )
        if e.unit_release.unit_id == unit.id
    ]
    ids = [e.id for e in enrolments]
    release_ids = {e.unit_release_id for e in enrolments}
    targets: defaultdict[int, list[Target]] = defaultdict(list)
    for target in session.scalars(
        select(Target)
        .where(Target.unit_release_id.in_(release_ids), Target.judged_alone)
        .order_by(Target.unit_release_id, Target.position)
    ):
        targets[target.unit_release_id].append(target)
    releases = list({e.unit_release.id: e.unit_release for e in enrolments}.values())

    def current(model):
        # In the order they were recorded: a later attempt's entry stands over an earlier one.
        return current_entries(
            session.scalars(select(model).where(model.enrolment_id.in_(ids)).order_by(model.id))
        )

    status: dict[tuple[int, int], str] = {}
    for decision in current(MappingDecision):
        if decision.accepted:
            status[(decision.enrolment_id, decision.target_id)] = "covered"
    signed_off = set()
    for signoff in current(GapSignoff):
        signed_off.add((signoff.enrolment_id, signoff.target_id))
        status[(signoff.enrolment_id, signoff.target_id)] = "signed_off"
    for judgement in current(Judgement):
        key = (judgement.enrolment_id, judgement.target_id)
        if judgement.finding is not Finding.SATISFACTORY:
            status[key] = "not_yet"
        elif key in signed_off:
            status[key] = "signed_off_satisfactory"
        else:
            status[key] = "satisfactory"
    decided = [e for e in enrolments if e.state is AssessmentState.DECIDED]
    outcomes = attempt_outcomes(session, decided)
    return MatrixData(
        unit,
        sorted(releases, key=lambda r: r.release),
        enrolments,
        dict(targets),
        status,
        outcomes,
        description,
    )


def build_matrix(data: MatrixData, *, letterhead: Letterhead) -> DocxDocument:
    """The matrix as a Word document, landscape: the totals, the legend and a key giving each
    criterion's code and full wording, then the grid in blocks of learners that fit the page,
    each block with every criterion in the same order."""
    document = new_document(letterhead, margin=MARGIN, font_size=8)
    first = document.sections[0]
    first.orientation = WD_ORIENT.LANDSCAPE
    first.page_width, first.page_height = first.page_height, first.page_width
    first.header_distance = first.footer_distance = Cm(0.6)
    set_header_text(first, f"{letterhead.issuer} · {data.unit.code} mapping matrix")
    add_page_number_footer(first)
    document.add_heading(f"Unit mapping matrix: {data.unit.code}", level=1)
    document.add_paragraph(" · ".join(filter(None, [letterhead.issuer, data.description]))).runs[
        0
    ].italic = True
    _totals(document, data)
    _legend(document)
    for release in data.releases:
        _key(document, release, data.targets.get(release.id, []))
    width = first.page_width - first.left_margin - first.right_margin
    per_block = max(1, int((width - FIRST_COLUMN) // LEARNER_COLUMN))
    for release in data.releases:
        cohort = [e for e in data.enrolments if e.unit_release_id == release.id]
        targets = data.targets.get(release.id, [])
        blocks = max(1, -(-len(cohort) // per_block))
        size = -(-len(cohort) // blocks)  # blocks as even as they can be
        for start in range(0, len(cohort), size):
            block = cohort[start : start + size]
            heading = document.add_heading(
                f"Release {release.release}: learners {start + 1}–{start + len(block)} "
                f"of {len(cohort)}",
                level=2,
            )
            heading.paragraph_format.page_break_before = True
            _grid(document, data, targets, block)
    if not data.enrolments:
        document.add_paragraph("No learner in this selection is enrolled in the unit.")
    return document


def _totals(document, data: MatrixData) -> None:
    counts = data.counts()
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in (
        ("Learners", counts["learners"]),
        ("With an outcome", counts["decided"]),
        ("Competent or RPL granted", counts["achieved"]),
        ("Not yet competent or RPL not granted", counts["not_achieved"]),
        ("Releases", ", ".join(f"{r.release} ({r.title})" for r in data.releases) or "none"),
    ):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, str(value)
    set_column_widths(table, [Cm(6), Cm(12)])
    keep_table_on_page(table)


def _legend(document) -> None:
    document.add_heading("Marks", level=2)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for state, (mark, meaning) in MARKS.items():
        cells = table.add_row().cells
        cells[0].text, cells[1].text = mark, meaning
        cells[0].paragraphs[0].runs[0].bold = True
        if state in FILLS:
            shade_cell(cells[0], FILLS[state])
    set_column_widths(table, [Cm(1.2), Cm(16.8)])
    keep_table_on_page(table)


def _key(document, release: UnitRelease, targets: list[Target]) -> None:
    """Each criterion's code with its whole wording: the grid shows the code and a few words."""
    document.add_heading(f"Criteria of release {release.release}: {release.title}", level=2)
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    header = table.rows[0].cells
    header[0].text, header[1].text = "Code", "Criterion"
    for cell in header:
        cell.paragraphs[0].runs[0].bold = True
        shade_cell(cell, "D9E2F3")
    for target in targets:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = target.ref, target.text
    repeat_header_row(table)
    keep_rows_whole(table)
    set_column_widths(table, [Cm(1.6), Cm(25.4) - 2 * MARGIN])


def short_title(target: Target) -> str:
    """A criterion's code and the first words of its wording, cut between words."""
    words, title = target.text.split(), ""
    for word in words:
        if len(title) + len(word) + 1 > SHORT_TITLE:
            return f"{target.ref} {title}…"
        title = f"{title} {word}".strip()
    return f"{target.ref} {title}"


def _grid(document, data: MatrixData, targets: list[Target], block: list[Enrolment]) -> None:
    table = document.add_table(rows=1, cols=len(block) + 1)
    table.style = "Table Grid"
    header = table.rows[0]
    header.height = HEADER_HEIGHT
    header.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    header.cells[0].text = "Criterion"
    header.cells[0].paragraphs[0].runs[0].bold = True
    for cell, enrolment in zip(header.cells[1:], block, strict=True):
        cell.text = enrolment.learner.name
        name = cell.paragraphs[0].runs[0]
        name.bold, name.font.size = True, HEADER_FONT
        standing = cell.add_paragraph(data.standing(enrolment)).runs[0]
        standing.italic, standing.font.size = True, HEADER_FONT
        rotate_text(cell)
    for cell in header.cells:
        shade_cell(cell, "D9E2F3")
    for target in targets:
        cells = table.add_row().cells
        cells[0].text = short_title(target)
        for cell, enrolment in zip(cells[1:], block, strict=True):
            state = data.status.get((enrolment.id, target.id), "gap")
            cell.text = MARKS[state][0]
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if state in FILLS:
                shade_cell(cell, FILLS[state])
    repeat_header_row(table)
    keep_rows_whole(table)
    set_cell_margins(table, Cm(0.05))
    set_column_widths(table, [FIRST_COLUMN] + [LEARNER_COLUMN] * len(block))
