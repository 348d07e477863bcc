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

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.clock import local_date
from portfolio.enrolments.services import enrolments_by_id
from portfolio.errors import ServiceError
from portfolio.exports.docx_support import (
    add_page_number_footer,
    landscape_section,
    repeat_header_row,
    set_header_text,
    shade_cell,
)
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

# What a cell shows, with its legend; the letters read in black and white too.
MARKS = {
    "satisfactory": ("S", "Judged satisfactory"),
    "not_yet": ("N", "Judged not yet satisfactory"),
    "signed_off": ("O", "Gap signed off by another method (conversation, observation, ...)"),
    "covered": ("E", "Evidence accepted, not judged yet"),
    "gap": ("–", "No accepted evidence"),
}
FILLS = {"satisfactory": "C6EFCE", "not_yet": "FFC7CE", "signed_off": "DDEBF7", "gap": "FFF2CC"}
COLUMNS_PER_TABLE = 10


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
    #: Outcomes of earlier attempts, oldest first.
    earlier: dict[int, list[UnitOutcome]] = field(default_factory=dict)

    def standing(self, enrolment: Enrolment) -> str:
        """Under the learner's name: the final outcome, or where the enrolment stands, with
        the attempts before it."""
        outcome = self.outcomes.get(enrolment.id)
        now = outcome.result.label if outcome else enrolment.state.label
        if enrolment.attempt > 1:
            now = f"{now} (attempt {enrolment.attempt})"
        history = [
            f"attempt {o.attempt}: {o.result.label}" for o in self.earlier.get(enrolment.id, [])
        ]
        return "; ".join([now, *history])

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
        .where(Target.unit_release_id.in_(release_ids), Target.is_group.is_(False))
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
    for signoff in current(GapSignoff):
        status[(signoff.enrolment_id, signoff.target_id)] = "signed_off"
    for judgement in current(Judgement):
        key = (judgement.enrolment_id, judgement.target_id)
        if judgement.finding is Finding.SATISFACTORY:
            status[key] = "satisfactory"
        else:
            status[key] = "not_yet"
    by_id = {e.id: e for e in enrolments}
    outcomes: dict[int, UnitOutcome] = {}
    earlier: defaultdict[int, list[UnitOutcome]] = defaultdict(list)
    for o in current(UnitOutcome):
        enrolment = by_id[o.enrolment_id]
        if o.attempt < enrolment.attempt:
            earlier[o.enrolment_id].append(o)
        elif enrolment.state is AssessmentState.DECIDED:
            outcomes[o.enrolment_id] = o
    return MatrixData(
        unit,
        sorted(releases, key=lambda r: r.release),
        enrolments,
        dict(targets),
        status,
        outcomes,
        description,
        dict(earlier),
    )


def build_matrix(data: MatrixData, *, rto_name: str) -> DocxDocument:
    """The matrix as a Word document: a cover with totals, then one table per release."""
    document = Document()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(9.5)
    first = document.sections[0]
    set_header_text(first, f"{data.unit.code} mapping matrix")
    add_page_number_footer(first)
    document.add_paragraph(rto_name, style="Subtitle")
    document.add_heading(f"Unit mapping matrix: {data.unit.code}", level=0)
    if data.description:
        document.add_paragraph(data.description)
    counts = data.counts()
    totals = document.add_table(rows=0, cols=2)
    totals.style = "Table Grid"
    for label, value in (
        ("Learners", counts["learners"]),
        ("With an outcome", counts["decided"]),
        ("Competent or RPL granted", counts["achieved"]),
        ("Not yet competent or RPL not granted", counts["not_achieved"]),
        ("Releases", ", ".join(f"{r.release} ({r.title})" for r in data.releases) or "none"),
    ):
        cells = totals.add_row().cells
        cells[0].text, cells[1].text = label, str(value)
    document.add_heading("Key", level=2)
    for key, (mark, meaning) in MARKS.items():
        paragraph = document.add_paragraph(style="List Bullet")
        paragraph.add_run(f"{mark}  ").bold = True
        paragraph.add_run(meaning)
        del key
    landscape_section(document)
    for release in data.releases:
        cohort = [e for e in data.enrolments if e.unit_release_id == release.id]
        targets = data.targets.get(release.id, [])
        document.add_heading(f"Release {release.release}: {release.title}", level=1)
        for start in range(0, len(cohort), COLUMNS_PER_TABLE):
            _table(document, data, targets, cohort[start : start + COLUMNS_PER_TABLE])
            document.add_paragraph()
    if not data.enrolments:
        document.add_paragraph("No learner in this selection is enrolled in the unit.")
    return document


def _table(document, data: MatrixData, targets: list[Target], cohort: list[Enrolment]) -> None:
    table = document.add_table(rows=1, cols=len(cohort) + 1)
    table.style = "Table Grid"
    header = table.rows[0].cells
    header[0].text = "Requirement"
    for cell, enrolment in zip(header[1:], cohort, strict=True):
        cell.text = enrolment.learner.name
        cell.add_paragraph(data.standing(enrolment)).runs[0].italic = True
    for cell in header:
        for run in cell.paragraphs[0].runs:
            run.bold = True
        shade_cell(cell, "D9E2F3")
    repeat_header_row(table)
    for target in targets:
        cells = table.add_row().cells
        cells[0].text = f"{target.ref} {target.text[:90]}{'…' if len(target.text) > 90 else ''}"
        cells[0].width = Cm(7)
        for cell, enrolment in zip(cells[1:], cohort, strict=True):
            state = data.status.get((enrolment.id, target.id), "gap")
            cell.text = MARKS[state][0]
            if state in FILLS:
                shade_cell(cell, FILLS[state])
