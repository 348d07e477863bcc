"""The validation report (.docx, in the house style of the evidence pack) and the validation
bundle: the report, the draw with its seed, findings and actions, beside each sampled
enrolment's pack and files (the audit bundle of the sample).

``report_data`` loads a validation in a fixed number of queries; ``build_report`` lays it out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from docx.document import Document as DocxDocument
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portfolio.exports.bundle import Member
from portfolio.exports.docx_support import add_page_number_footer, keep_rows_whole, set_header_text
from portfolio.exports.house import Clock, facts, grid_row, grid_table
from portfolio.exports.jobs import build_bundle
from portfolio.exports.letterhead import Letterhead, new_document
from portfolio.extensions import db
from portfolio.models import (
    Enrolment,
    Job,
    OutcomeResult,
    Target,
    Unit,
    User,
    Validation,
    ValidationAction,
    ValidationPlan,
    ValidationSample,
    ValidationValidator,
)
from portfolio.spreadsheets import csv_cell
from portfolio.validation import rules
from portfolio.validation.services import redraw

#: How anyone draws the sample again, as the report and the bundle say it.
HOW_TO_REDRAW = (
    "Each enrolment's key is the SHA-256 (hex) of the seed, a colon and the enrolment's id. "
    "Strata are the deciding assessor and the outcome. Each stratum gets one place while places "
    "last (strata in order of their lowest key); the rest are shared in proportion to what is "
    "left in each stratum (largest remainder, ties to the lower key). Each stratum gives its "
    "enrolments with the lowest keys."
)


@dataclass
class ReportData:
    validation: Validation
    people: dict[int, User]
    #: Each sampled enrolment's criteria in unit order (not group headings).
    targets: dict[int, list[Target]]

    @property
    def unit(self):
        return self.validation.plan.unit

    def name(self, user_id: int | None) -> str:
        return self.people[user_id].name if user_id in self.people else "unknown"

    def outcome_of(self, sample: ValidationSample) -> tuple[str, str]:
        """The deciding assessor and outcome the enrolment was drawn with."""
        row = next(
            r for r in self.validation.population if r["enrolment_id"] == sample.enrolment_id
        )
        return self.name(row["assessor_id"]), OutcomeResult(row["result"]).label


def report_data(session: Session, validation_id: int) -> ReportData:
    validation = session.scalars(
        select(Validation)
        .where(Validation.id == validation_id)
        .options(
            selectinload(Validation.plan)
            .selectinload(ValidationPlan.unit)
            .selectinload(Unit.releases),
            selectinload(Validation.validators).selectinload(ValidationValidator.user),
            selectinload(Validation.samples)
            .selectinload(ValidationSample.enrolment)
            .selectinload(Enrolment.learner),
            selectinload(Validation.samples).selectinload(ValidationSample.findings),
            selectinload(Validation.actions).selectinload(ValidationAction.owner),
        )
    ).one()
    ids = {row["assessor_id"] for row in validation.population}
    ids |= {validation.drawn_by_id, validation.tool_reviewed_by_id, validation.completed_by_id}
    ids |= {f.validator_id for s in validation.samples for f in s.findings}
    ids |= {a.closed_by_id for a in validation.actions}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids - {None})))}
    releases = {s.enrolment.unit_release_id for s in validation.samples}
    by_release: dict[int, list[Target]] = {r: [] for r in releases}
    for target in session.scalars(
        select(Target)
        .where(Target.unit_release_id.in_(releases), Target.judged_alone)
        .order_by(Target.position)
    ):
        by_release[target.unit_release_id].append(target)
    targets = {s.enrolment_id: by_release[s.enrolment.unit_release_id] for s in validation.samples}
    return ReportData(validation, people, targets)


def build_report(data: ReportData, *, letterhead: Letterhead) -> DocxDocument:
    """The validation report as a python-docx Document."""
    clock = Clock(letterhead.zone)
    v = data.validation
    document = new_document(letterhead)
    section = document.sections[0]
    set_header_text(
        section,
        f"Validation of {data.unit.code} · decided {clock.date(v.period_from)} to "
        f"{clock.date(v.period_to)}",
    )
    add_page_number_footer(section)
    document.add_paragraph(letterhead.issuer, style="Subtitle")
    document.add_heading("Validation report", level=0)
    document.add_paragraph(f"{data.unit.code} {data.unit.title}", style="Subtitle")
    _summary(document, data, clock)
    _sample(document, data)
    _disagreements(document, data)
    _tool(document, data, clock)
    _actions(document, data, clock)
    _redraw(document, data)
    for table in document.tables:
        keep_rows_whole(table)
    return document


def _summary(document, data: ReportData, clock: Clock) -> None:
    v = data.validation
    validators = "; ".join(
        f"{x.user.name} ("
        + ("holds a training and assessment credential" if x.holds_tae else "no TAE credential")
        + ")"
        for x in v.validators
    )
    facts(
        document,
        [
            ("Unit", f"{data.unit.code} {data.unit.title}"),
            ("Period", f"Decided {clock.date(v.period_from)} to {clock.date(v.period_to)}"),
            ("Risk rating", f"{v.risk.label}: " + "; ".join(v.reasons)),
            ("Frequency", f"Validated at least {rules.frequency(v.risk)}"),
            ("Sample size rule", v.rule),
            ("Population", f"{len(v.population)} decided enrolments"),
            ("Sample", f"{len(v.samples)} enrolments"),
            ("Seed", v.seed),
            ("Drawn", f"{clock.datetime(v.drawn_at)} by {data.name(v.drawn_by_id)}"),
            ("Validators", validators),
            (
                "State",
                f"Completed {clock.datetime(v.completed_at)} by {data.name(v.completed_by_id)}"
                if v.completed_at
                else "In progress",
            ),
        ],
    )


def _sample(document, data: ReportData) -> None:
    document.add_heading("The sample", level=1)
    table = grid_table(
        document,
        ["#", "Learner", "Assessor", "Outcome", "Validator", "Agree", "Disagree"],
        [0.8, 4.0, 3.2, 2.6, 3.2, 1.3, 1.6],
    )
    for sample in data.validation.samples:
        assessor, outcome = data.outcome_of(sample)
        learner = sample.enrolment.learner
        agree = sum(1 for f in sample.findings if f.agrees)
        disagree = len(sample.findings) - agree
        validators = sorted({data.name(f.validator_id) for f in sample.findings})
        grid_row(
            table,
            [
                str(sample.position),
                f"{learner.name} ({learner.student_id or f'learner {learner.id}'}), "
                f"enrolment {sample.enrolment_id}",
                assessor,
                outcome,
                ", ".join(validators) or "not yet reviewed",
                str(agree),
                str(disagree),
            ],
        )


def _disagreements(document, data: ReportData) -> None:
    document.add_heading("Where the validators did not agree", level=1)
    rows = [
        (sample, finding)
        for sample in data.validation.samples
        for finding in sample.findings
        if not finding.agrees
    ]
    if not rows:
        document.add_paragraph("The validators agreed with every judgement they reviewed.")
        return
    refs = {t.id: t for targets in data.targets.values() for t in targets}
    table = grid_table(document, ["#", "Criterion", "Validator", "Why not"], [0.8, 6.0, 3.2, 6.5])
    for sample, finding in rows:
        target = refs.get(finding.target_id)
        grid_row(
            table,
            [
                str(sample.position),
                f"{target.ref} {target.text}" if target else str(finding.target_id),
                data.name(finding.validator_id),
                finding.note,
            ],
        )


def _tool(document, data: ReportData, clock: Clock) -> None:
    v = data.validation
    document.add_heading("The assessment tool", level=1)
    if v.tool_reviewed_at is None:
        document.add_paragraph("Not yet reviewed.")
        return
    answers = {
        "consistent": v.tool_consistent,
        "sufficient": v.tool_sufficient,
        "valid": v.tool_valid,
    }
    facts(
        document,
        [
            *(
                (question + "?", "Yes" if answers[key] else "No")
                for key, question in rules.TOOL_QUESTIONS.items()
            ),
            ("What should change", v.tool_note or "nothing"),
            (
                "Reviewed",
                f"{clock.datetime(v.tool_reviewed_at)} by {data.name(v.tool_reviewed_by_id)}",
            ),
        ],
    )


def _actions(document, data: ReportData, clock: Clock) -> None:
    document.add_heading("Actions", level=1)
    actions = data.validation.actions
    if not actions:
        document.add_paragraph("No action was opened.")
        return
    table = grid_table(
        document,
        ["What is to change", "Owner", "Due", "Closed", "What was changed"],
        [5.0, 2.8, 2.2, 2.6, 4.0],
    )
    for action in actions:
        grid_row(
            table,
            [
                action.what,
                action.owner.name,
                clock.date(action.due_on),
                f"{clock.date(action.closed_at)} by {data.name(action.closed_by_id)}"
                if action.closed_at
                else "open",
                action.changed,
            ],
        )


def _redraw(document, data: ReportData) -> None:
    v = data.validation
    document.add_heading("Drawing the sample again", level=1)
    document.add_paragraph(HOW_TO_REDRAW)
    same = redraw(v) == [s.enrolment_id for s in v.samples]
    document.add_paragraph(
        f"Drawn again from the seed {v.seed!r} and the {len(v.population)} enrolments of the "
        "population when this report was made: "
        + (
            "the same enrolments, in the same order."
            if same
            else "A DIFFERENT SAMPLE. The record was changed after the draw; ask the RTO why."
        )
    )


# -- The bundle ---------------------------------------------------------------------------------


def draw_record(data: ReportData) -> dict:
    """The draw as the bundle keeps it: enough to draw it again."""
    v = data.validation
    return {
        "validation": v.id,
        "unit": data.unit.code,
        "period": [v.period_from.isoformat(), v.period_to.isoformat()],
        "risk": v.risk.value,
        "reasons": v.reasons,
        "rule": v.rule,
        "seed": v.seed,
        "algorithm": HOW_TO_REDRAW,
        "population": v.population,
        "sample": [s.enrolment_id for s in v.samples],
        "drawn_at": v.drawn_at.isoformat(timespec="seconds"),
    }


def _csv(rows: Iterable[list[object]]) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text).writerows([csv_cell(value) for value in row] for row in rows)
    return text.getvalue().encode("utf-8")


def validation_members(
    session: Session, validation_id: int, letterhead: Letterhead
) -> Callable[[Callable[[str, Iterable[bytes]], Member]], Iterator[Member]]:
    """The report, the draw, the findings and the actions, as bundle members."""

    def members(member: Callable[[str, Iterable[bytes]], Member]) -> Iterator[Member]:
        data = report_data(session, validation_id)
        document = io.BytesIO()
        build_report(data, letterhead=letterhead).save(document)
        yield member("validation/validation-report.docx", [document.getvalue()])
        record = json.dumps(draw_record(data), indent=2, ensure_ascii=False)
        yield member("validation/sample.json", [record.encode("utf-8")])
        refs = {t.id: t.ref for targets in data.targets.values() for t in targets}
        findings = [
            ["Position", "Enrolment", "Criterion", "Agrees", "Note", "Validator", "Recorded"]
        ]
        findings += [
            [
                s.position,
                s.enrolment_id,
                refs.get(f.target_id, f.target_id),
                "yes" if f.agrees else "no",
                f.note,
                data.name(f.validator_id),
                f.recorded_at.isoformat(timespec="seconds"),
            ]
            for s in data.validation.samples
            for f in s.findings
        ]
        yield member("validation/findings.csv", [_csv(findings)])
        actions = [["What", "Owner", "Due", "Opened", "Closed", "What was changed"]]
        actions += [
            [
                a.what,
                a.owner.name,
                a.due_on,
                a.opened_at.isoformat(timespec="seconds"),
                a.closed_at.isoformat(timespec="seconds") if a.closed_at else "",
                a.changed,
            ]
            for a in data.validation.actions
        ]
        yield member("validation/actions.csv", [_csv(actions)])

    return members


def build_validation_bundle(job_id: str) -> None:
    """The job: the sample's audit bundle with the validation's own members."""
    job = db.session.get(Job, job_id)
    validation_id = job.params.get("validation_id") if job is not None else None
    extra = (
        validation_members(db.session, validation_id, Letterhead.from_config(current_app.config))
        if validation_id
        else None
    )
    build_bundle(job_id, extra=extra, kind="Validation bundle")


#: The dotted name the job queue runs.
BUILD = f"{__name__}.build_validation_bundle"
