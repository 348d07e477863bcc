"""The evidence pack: one learner, one unit, as a Word document an auditor can work from.

``pack_data`` loads everything in a fixed number of queries whatever the number of items;
``build_pack`` lays it out with python-docx: cover, mapping table (landscape), evidence
register, each item's content, third-party verification, gap sign-offs, declarations,
corrections and the audit trail.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portfolio.assessment.matrix import matrix_sections
from portfolio.assessment.review import ReviewView, review_view
from portfolio.assessment.rules import OUTCOME_DECLARATION
from portfolio.audit.history import HistoryRow, describe, enrolment_events_query
from portfolio.clock import local_date
from portfolio.credentials.rules import authorisation
from portfolio.exports.docx_support import (
    add_contents,
    add_page_number_footer,
    keep_rows_whole,
    landscape_section,
    monospace,
    portrait_section,
    set_header_text,
    shade_cell,
    xml_safe,
)
from portfolio.exports.house import Clock, facts, grid_row, grid_table
from portfolio.exports.letterhead import Letterhead, new_document
from portfolio.exports.markdown_docx import add_labelled, add_markdown
from portfolio.files.filetypes import path_safe_name
from portfolio.models import (
    Credential,
    CredentialBasis,
    CredentialKind,
    Enrolment,
    EvidenceRule,
    Submission,
    Target,
    UnitRelease,
    User,
    VerificationRequest,
    VerificationState,
)
from portfolio.models.base import StoredFileColumns, utcnow
from portfolio.text import day, file_size
from portfolio.verification import services as verification
from portfolio.verification.rules import observations

IMAGE_TYPES = {"image/png", "image/jpeg"}
SECTION_FILL = "EDEDED"


@dataclass
class PackData:
    enrolment: Enrolment
    review: ReviewView
    submissions: list[Submission]
    events: list[HistoryRow]
    #: Each submitted item's verification requests by item id, newest first.
    verifications: dict[int, list[VerificationRequest]] = field(default_factory=dict)
    #: The enrolment's requests for third-party reports, each answered one with its criteria
    #: (seen or not, and the note).
    reports: list[tuple[VerificationRequest, list[tuple[Target, bool, str]]]] = field(
        default_factory=list
    )
    #: The register entries of everyone who made a decision here, by person.
    credentials: dict[int, list[Credential]] = field(default_factory=dict)

    def decision_makers(self) -> list[tuple[User, date, datetime]]:
        """Everyone who judged, signed off, decided or countersigned, with the day and moment
        of their last decision here, in the order they first decided."""
        last: dict[int, tuple[User, date, datetime]] = {}
        entries = [
            *self.review.judgements.values(),
            *self.review.signoffs.values(),
            *([self.review.outcome] if self.review.outcome else []),
        ]
        made = [(e.assessor, e.recorded_at, getattr(e, "decided_on", None)) for e in entries]
        # Whoever countersigned what someone under direction made decided it with them.
        made += [
            (e.countersigned_by, e.countersigned_at, None) for e in entries if e.countersigned_at
        ]
        for user, moment, decided_on in sorted(made, key=lambda m: m[1]):
            last[user.id] = (user, decided_on or local_date(moment), moment)
        return list(last.values())

    def credential_state(self, user_id: int, on: date, known_at: datetime) -> str:
        """What the register, as it stood at ``known_at``, said of this unit on ``on``."""
        found = authorisation(
            self.credentials.get(user_id, []), self.release.unit.code, on, known_at
        )
        if not found.ok:
            return str(found)
        return f"Authorised on {on:%d/%m/%Y}: " + "; ".join(_held(e) for e in found.held) + "."

    @property
    def release(self) -> UnitRelease:
        return self.review.unit.release

    @property
    def reference(self) -> str:
        """A short name for the pack: learner and unit, safe in a file name."""
        learner = self.enrolment.learner
        who = learner.student_id or f"learner-{learner.id}"
        return path_safe_name(f"{who}-{self.release.unit.code}-r{self.release.release}")


def pack_data(session: Session, enrolment: Enrolment, *, currency_years: int = 2) -> PackData:
    """Everything the pack shows, in a fixed number of queries however many items it has."""
    review = review_view(session, enrolment, currency_years=currency_years)
    submissions = list(
        session.scalars(
            select(Submission)
            .where(Submission.enrolment_id == enrolment.id)
            .options(
                selectinload(Submission.submitted_by),
                selectinload(Submission.returned_by),
                selectinload(Submission.gap_feedback),
            )
            .order_by(Submission.round)
        )
    )
    events = describe(session, session.scalars(enrolment_events_query(enrolment)).all())
    verifications = verification.of_items(session, [s.item.id for s in review.items])
    asked = verification.reports_of(session, enrolment)
    reports = [(r, observations(r, review.targets)) for r in asked]
    data = PackData(enrolment, review, submissions, events, verifications, reports)
    deciders = [user.id for user, _, _ in data.decision_makers()]
    for entry in session.scalars(select(Credential).where(Credential.user_id.in_(deciders))):
        data.credentials.setdefault(entry.user_id, []).append(entry)
    return data


def _held(entry: Credential) -> str:
    equivalent = " (equivalent)" if entry.basis is CredentialBasis.EQUIVALENT else ""
    if entry.kind is CredentialKind.TRAINING_AND_ASSESSMENT:
        return f"{entry.code} {entry.title}{equivalent}"
    if entry.kind is CredentialKind.VOCATIONAL:
        return f"vocational competency in {entry.code}{equivalent}"
    until = f", reviewed {day(entry.ends_on)}" if entry.ends_on else ""
    return f"industry currency: {entry.title}{until}"


# --- The document ---------------------------------------------------------------------------


def build_pack(
    data: PackData,
    *,
    letterhead: Letterhead,
    open_file: Callable[[str], IO[bytes]],
) -> DocxDocument:
    """The evidence pack as a python-docx Document; ``open_file`` reads a stored file by key."""
    clock = Clock(letterhead.zone)
    document = new_document(letterhead)
    section = document.sections[0]
    learner = data.enrolment.learner
    release = data.release
    set_header_text(section, f"{learner.name} · {release.unit.code} release {release.release}")
    add_page_number_footer(section)

    _cover(document, data, letterhead, clock)
    contents = document.add_paragraph()  # the list is made once every heading is there
    _mapping(document, data, clock)
    _attempts(document, data, clock)
    _register(document, data, clock)
    _content(document, data, open_file)
    _verifications(document, data, clock)
    _signoffs(document, data, clock)
    _declarations(document, data, clock)
    _corrections(document, data, clock)
    _audit_trail(document, data, clock)
    for table in document.tables:
        keep_rows_whole(table)  # every row, added after the table was made too
    add_contents(document, contents, levels=2)
    return document


def _cover(document, data: PackData, letterhead: Letterhead, clock: Clock) -> None:
    learner = data.enrolment.learner
    release = data.release
    review = data.review
    document.add_paragraph(letterhead.issuer, style="Subtitle")
    document.add_heading("Evidence pack", level=0)
    document.add_paragraph(f"{release.unit.code} {release.title}", style="Subtitle")
    outcome = review.outcome
    rounds = "; ".join(
        f"round {s.round}: {clock.date(s.submitted_at)}"
        + (f" (returned {clock.date(s.returned_at)})" if s.returned_at else "")
        for s in data.submissions
    )
    facts(
        document,
        [
            ("Learner", learner.name),
            ("Student ID", learner.student_id or "not recorded"),
            ("USI", learner.usi or "not recorded"),
            ("Unit", f"{release.unit.code} {release.title}"),
            ("Release", f"{release.release} ({release.framework.label})"),
            ("Enrolment type", data.enrolment.kind_label),
            (
                "Assessor",
                outcome.assessor.name
                if outcome
                else (data.enrolment.assessor.name if data.enrolment.assessor else "none"),
            ),
            ("Submitted", rounds or "not submitted"),
            ("Activity", _activity(data.enrolment)),
            ("Attempts", _attempts_in_brief(data)),
            ("Decided", _decided(data)),
            ("Outcome", _outcome(data, clock)),
            *(
                [
                    (
                        "Assessor's credentials",
                        data.credential_state(
                            outcome.assessor_id, outcome.decided_on, outcome.recorded_at
                        ),
                    )
                ]
                if outcome
                else []
            ),
            *(
                [("Evidence", _destroyed(data.enrolment))]
                if data.enrolment.evidence_destroyed_on
                else []
            ),
        ],
    )
    document.add_paragraph()
    document.add_paragraph(
        f"Prepared {clock.datetime(utcnow())} from the portfolio record. Evidence files are "
        "identified by their SHA-256; the files themselves travel with the audit bundle."
    ).runs[0].italic = True
    document.add_heading("Contents", level=1)


def _destroyed(enrolment: Enrolment) -> str:
    if enrolment.records_destroyed_on:
        return (
            f"Records destroyed on {day(enrolment.records_destroyed_on)} under the retention "
            "rules (evidence, judgements, sign-offs and outcome); the audit trail holds the "
            "receipt."
        )
    return (
        f"Files and texts destroyed on {day(enrolment.evidence_destroyed_on)} under the "
        "retention rules; titles, dates, mappings and every decision are kept, and the audit "
        "trail holds a receipt for each item with its files' SHA-256."
    )


def _activity(enrolment: Enrolment) -> str:
    start = day(enrolment.activity_start)
    return (
        f"{start} to {day(enrolment.activity_end)}" if enrolment.activity_end else f"from {start}"
    )


def _attempts_in_brief(data: PackData) -> str:
    earlier = [
        f"attempt {o.attempt}: {o.result.label} ({day(o.decided_on)})"
        for o in data.review.earlier_outcomes
    ]
    return "; ".join([str(data.enrolment.attempt), *earlier])


def _decided(data: PackData) -> str:
    closure, outcome = data.enrolment.closure, data.review.outcome
    if data.enrolment.records_destroyed_on:
        return "destroyed with the records (see Evidence below, and the audit trail's receipt)"
    if closure is not None:
        return day(closure.closed_on)
    return day(outcome.decided_on) if outcome else "no outcome yet"


def _countersigned(entry, clock: Clock) -> str:
    """What the pack says of a record made under direction: who countersigned it and when, or
    that it still waits."""
    if not entry.countersign_needed:
        return ""
    if entry.countersigned_at is None:
        return "; made under direction, awaiting a countersignature"
    return (
        f"; made under direction, countersigned by {entry.countersigned_by.name} "
        f"{clock.date(entry.countersigned_at)}"
    )


def _outcome(data: PackData, clock: Clock) -> str:
    """The final outcome with its AVETMISS code: a closure, the last attempt's (saying when
    and why it was corrected, if it was), or none yet."""
    closure, outcome = data.enrolment.closure, data.review.outcome
    if data.enrolment.records_destroyed_on:
        return "destroyed with the records (see Evidence below, and the audit trail's receipt)"
    if closure is not None:
        return f"{closure.kind.label} (AVETMISS {closure.kind.avetmiss_code})"
    if outcome is not None:
        line = f"{outcome.result.label} (AVETMISS {outcome.result.avetmiss_code})"
        line += _countersigned(outcome, clock)
        if outcome.replaces_id is not None:
            line += (
                f", corrected on {clock.date(outcome.recorded_at)} ({outcome.correction_reason})"
            )
        return line
    return "no outcome yet"


def _attempts(document, data: PackData, clock: Clock) -> None:
    """Each earlier attempt's outcome and the plan of the one after it; a closure's record."""
    enrolment = data.enrolment
    if enrolment.attempt > 1:
        document.add_heading("Attempts", level=1)
        plans = {r.attempt: r for r in enrolment.reassessments}
        for earlier in data.review.earlier_outcomes:
            document.add_heading(f"Attempt {earlier.attempt}", level=2)
            document.add_paragraph(
                f"{earlier.result.label} (AVETMISS {earlier.result.avetmiss_code}), decided "
                f"{day(earlier.decided_on)} by {earlier.assessor.name}."
            )
            plan = plans.get(earlier.attempt + 1)
            if plan is not None:
                document.add_paragraph(
                    f"Attempt {plan.attempt} opened {clock.date(plan.opened_at)} by "
                    f"{plan.opened_by.name}, to submit by {day(plan.due_on)}: {xml_safe(plan.plan)}"
                )
                if plan.criteria:
                    document.add_paragraph("Criteria to work on: " + ", ".join(plan.criteria))
    closure = enrolment.closure
    if closure is not None:
        document.add_heading(closure.kind.label, level=1)
        rows = [
            ("Date", day(closure.closed_on)),
            ("Recorded by", closure.closed_by.name if closure.closed_by else "the operator"),
            ("Reason", closure.reason or "none given"),
        ]
        if closure.issuing_rto:
            rows += [
                ("Issuing RTO", closure.issuing_rto),
                ("Document number", closure.document_number or ""),
                ("Document date", day(closure.document_date)),
                (
                    "Verified copy",
                    "; ".join(f"{f.display_name} (SHA-256 {f.sha256})" for f in closure.files),
                ),
            ]
        facts(document, rows)


MAPPING_WIDTHS = [7.0, 2.8, 4.2, 6.0, 4.0]


def _mapping(document, data: PackData, clock: Clock) -> None:
    landscape_section(document)
    document.add_heading("Mapping of evidence to the unit", level=1)
    review = data.review
    document.add_paragraph(
        "Every performance criterion, performance evidence and knowledge evidence item of the "
        "release, the evidence accepted for it, the assessor's judgement and comment, and how "
        "any gap was closed."
    )
    table = grid_table(
        document,
        [
            "Requirement",
            "Evidence accepted",
            "Judgement (by, on)",
            "Assessor's comment",
            "Gap sign-off",
        ],
        MAPPING_WIDTHS,
    )
    for section in matrix_sections(review):
        cells = table.add_row().cells
        merged = cells[0].merge(cells[-1])
        merged.text = ""
        merged.paragraphs[0].add_run(section.title).bold = True
        shade_cell(merged, SECTION_FILL)
        for target in section.targets:
            label = f"{target.ref} {target.text}"
            if target.is_group:
                cells = table.add_row().cells
                merged = cells[0].merge(cells[-1])
                merged.text = label
                continue
            judgement = review.judgements.get(target.id)
            signoff = review.signoffs.get(target.id)
            grid_row(
                table,
                [
                    label,
                    ", ".join(f"E{s.item.number}" for s in review.accepted_for(target)) or "none",
                    f"{judgement.finding.label} ({judgement.assessor.name}, "
                    f"{clock.date(judgement.recorded_at)}{_countersigned(judgement, clock)})"
                    if judgement
                    else "not judged",
                    judgement.comment if judgement else "",
                    f"{signoff.method.label}, {day(signoff.held_on)}" if signoff else "",
                ],
                MAPPING_WIDTHS,
            )
    portrait_section(document)


#: Ref, title, type, work date, files, rules: the page's 17 cm, with room for a date and the
#: longest word of a type ("correspondence") on one line, and each SHA-256 on two (in 6.5 pt
#: monospace), in Calibri or a font of its metrics (Carlito).
REGISTER_WIDTHS = [1.0, 2.8, 2.6, 2.2, 5.5, 2.9]
REGISTER_FONT = Pt(9)
HASH_FONT = Pt(6.5)


def _register(document, data: PackData, clock: Clock) -> None:
    document.add_heading("Evidence register", level=1)
    review = data.review
    table = grid_table(
        document,
        ["Ref", "Title", "Type", "Work done", "Files (size, SHA-256)", "Rules of evidence"],
        REGISTER_WIDTHS,
    )
    for submitted in review.items:
        version = submitted.version
        checks = []
        for rule in EvidenceRule:
            check = review.checks.get((version.id, rule))
            if check is None:
                checks.append(f"{rule.label}: not checked")
            elif check.confirmed:
                checks.append(
                    f"{rule.label}: confirmed" + (f" ({check.note})" if check.note else "")
                )
            else:
                checks.append(
                    f"{rule.label}: flagged ({check.note})"
                    + (f"; overridden: {check.override_reason}" if check.override_reason else "")
                )
        if submitted.possibly_not_current:
            checks.append("Dated more than the currency period before submission")
        checks.extend(
            f"Verified by {v.signer_name}, {v.verifier_position}"
            for v in data.verifications.get(submitted.item.id, [])
            if v.version_id == version.id and v.state is VerificationState.CONFIRMED
        )
        cells = grid_row(
            table,
            [
                f"E{submitted.item.number}",
                f"{version.title} (version {version.version})",
                version.evidence_type.label,
                day(version.work_date),
                "" if version.files else "no files (written evidence)",
                "\n".join(checks),
            ],
            REGISTER_WIDTHS,
        )
        _register_files(cells[4], version.files, clock)
        for cell in cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = run.font.size or REGISTER_FONT


def _register_files(cell, files, clock: Clock) -> None:
    """Each file's name, size and upload date, then its SHA-256 in a small monospace font
    (two lines in the column, never five)."""
    for n, f in enumerate(files):
        paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        uploaded = clock.date(f.uploaded_at)
        paragraph.add_run(xml_safe(f"{f.display_name} ({file_size(f.size)}, uploaded {uploaded})"))
        digest = cell.add_paragraph()
        digest.add_run("SHA-256 ").font.size = HASH_FONT
        monospace(digest.add_run(f.sha256)).font.size = HASH_FONT


def _content(document, data: PackData, open_file: Callable[[str], IO[bytes]]) -> None:
    document.add_heading("Evidence", level=1)
    review = data.review
    if not review.items:
        document.add_paragraph("No evidence was submitted.")
    for submitted in review.items:
        version = submitted.version
        document.add_heading(f"E{submitted.item.number} {version.title}", level=2)
        meta = document.add_paragraph()
        meta.add_run(
            f"{version.evidence_type.label} · work done {day(version.work_date)}"
            f" · version {version.version}, submitted in round {version.submission.round}"
        ).italic = True
        mapped = [
            f"{t.ref} ({review.mapping(version, t)})"
            for t in review.targets
            if review.mapping(version, t) is not None
        ]
        if mapped:
            document.add_paragraph("Mapped to: " + ", ".join(mapped))
        if version.description:
            add_markdown(document, version.description, heading_offset=2)
        for evidence_file in version.files:
            _file(document, evidence_file, open_file)


def _file(document, evidence_file: StoredFileColumns, open_file) -> None:
    if evidence_file.content_type in IMAGE_TYPES:
        with open_file(evidence_file.storage_key) as fp:
            document.add_picture(fp, width=Cm(12))
        caption = document.add_paragraph(style="Caption")
        caption.add_run(f"{evidence_file.display_name}, SHA-256 {evidence_file.sha256}")
        return
    paragraph = document.add_paragraph(style="List Bullet")
    paragraph.add_run(evidence_file.display_name).bold = True
    paragraph.add_run(
        f" ({file_size(evidence_file.size)}, {evidence_file.content_type}), "
        f"SHA-256 {evidence_file.sha256}: in the audit bundle"
    )


SIGNATURE_WIDTH = Cm(5)


def _verifications(document, data: PackData, clock: Clock) -> None:
    """Each request to a third party: to verify a submitted item (who, what they said, what
    they saw by SHA-256, their signature) or for a report (who, each criterion seen or not,
    their signature); unanswered ones in brief."""
    document.add_heading("Third-party verification and reports", level=1)
    asked = [(s, data.verifications.get(s.item.id, [])) for s in data.review.items]
    if not any(requests for _, requests in asked) and not data.reports:
        document.add_paragraph("No workplace supervisor or other third party was asked.")
        return
    for submitted, requests in asked:
        for request in requests:
            _verification(document, submitted, request, clock)
    for request, observed in data.reports:
        _report(document, request, observed, clock)


def _third_party(request: VerificationRequest, clock: Clock) -> list[tuple[str, str]]:
    """Who a third party is, who asked them and when, as rows of facts."""
    return [
        ("Verifier", request.verifier_name),
        ("Position", request.verifier_position),
        ("Organisation", request.verifier_organisation),
        ("Contact", request.verifier_email),
        ("Relationship to the learner", request.relationship_to_learner),
        ("Asked by", f"{request.requested_by.name}, {clock.datetime(request.requested_at)}"),
    ]


def _signature(document, request: VerificationRequest, clock: Clock) -> None:
    _drawn(document, request.signature_png, request.signer_name, clock.datetime(request.closed_at))


def _drawn(document, png: bytes | None, name: str, when: str) -> None:
    """A drawn signature as a picture, captioned with who signed and when (if there is one)."""
    if png:
        document.add_picture(io.BytesIO(png), width=SIGNATURE_WIDTH)
        document.add_paragraph(style="Caption").add_run(xml_safe(f"Signature of {name}, {when}"))


def _report(document, request: VerificationRequest, observed, clock: Clock) -> None:
    item = request.report_item
    document.add_heading(
        f"Report by {request.verifier_name}, {request.state.label.lower()}"
        + (f" (E{item.number})" if item else ""),
        level=2,
    )
    rows = [*_third_party(request, clock), ("State", request.state.label)]
    if request.answered:
        rows += [
            ("Work last seen", day(request.observed_on)),
            ("Signed", f"{request.signer_name}, {clock.datetime(request.closed_at)}"),
        ]
    facts(document, rows)
    if not request.answered:
        return
    widths = [2.0, 9.5, 1.8, 3.7]
    table = grid_table(document, ["Criterion", "Words", "Seen", "Note"], widths)
    for target, seen, note in observed:
        grid_row(table, [target.ref, target.text, "Yes" if seen else "No", note], widths)
    if request.comment:
        document.add_paragraph(xml_safe(f"Comment: {request.comment}"))
    _signature(document, request, clock)


def _verification(document, submitted, request: VerificationRequest, clock: Clock) -> None:
    version = request.version
    document.add_heading(
        f"E{submitted.item.number}: {request.verifier_name}, {request.state.label.lower()}",
        level=2,
    )
    covers = (
        "the submitted version"
        if version.id == submitted.version.id
        else f"not the submitted version {submitted.version.version}: not verified by this"
    )
    rows = [
        *_third_party(request, clock),
        ("About", f"Version {version.version} ({covers})"),
        ("State", request.state.label),
    ]
    if request.answered:
        rows.append(("Signed", f"{request.signer_name}, {clock.datetime(request.closed_at)}"))
        rows.append(
            (
                "Verifier checked",
                f"{request.check_method.label} by {request.checked_by.name}, "
                f"{clock.date(request.checked_at)}"
                + (f": {request.check_note}" if request.check_note else "")
                if request.check_method and request.checked_by
                else "Not recorded",
            )
        )
    elif request.closed_at:
        rows.append(("Closed", clock.datetime(request.closed_at)))
    facts(document, rows)
    if not request.answered:
        return
    for words, confirmed in verification.statements_for(request):
        paragraph = document.add_paragraph(style="List Bullet")
        paragraph.add_run("Yes: " if confirmed else "No: ").bold = True
        paragraph.add_run(words)
    if request.comment:
        document.add_paragraph(xml_safe(f"Comment: {request.comment}"))
    hashes = request.confirmed_hashes or {"text_sha256": "", "files": []}
    seen = document.add_paragraph()
    seen.add_run("What the verifier saw, by SHA-256").bold = True
    for name, digest in [
        (f"Text of version {version.version}", hashes["text_sha256"]),
        *((f["name"], f["sha256"]) for f in hashes["files"]),
    ]:
        line = document.add_paragraph(style="List Bullet")
        line.add_run(xml_safe(f"{name}: "))
        monospace(line.add_run(digest)).font.size = HASH_FONT
    _signature(document, request, clock)


def _signoffs(document, data: PackData, clock: Clock) -> None:
    document.add_heading("Gap sign-offs", level=1)
    review = data.review
    targets = {t.id: t for t in review.targets}
    if not review.signoffs:
        document.add_paragraph("No gap was signed off: every requirement had accepted evidence.")
    # A record that covered several criteria is shown once, with the criteria it covers.
    records: dict[object, list[int]] = {}
    for target_id, signoff in review.signoffs.items():
        records.setdefault(signoff.record_key or ("single", target_id), []).append(target_id)
    for covered in records.values():
        signoff = review.signoffs[covered[0]]
        if len(covered) == 1:
            target = targets[covered[0]]
            document.add_heading(f"{target.ref} {target.text}", level=2)
        else:
            refs = ", ".join(targets[target_id].ref for target_id in covered)
            document.add_heading(f"{refs}: one record", level=2)
            document.add_paragraph("This record covers:")
            for target_id in covered:
                paragraph = document.add_paragraph(style="List Bullet")
                paragraph.add_run(targets[target_id].ref).bold = True
                paragraph.add_run(f" {targets[target_id].text}")
        facts(
            document,
            [
                ("Method", signoff.method.label),
                ("Date", day(signoff.held_on)),
                ("Assessor", signoff.assessor.name),
                ("Recorded", clock.datetime(signoff.recorded_at)),
                *([("Correction", signoff.correction_reason)] if signoff.correction_reason else []),
            ],
        )
        if signoff.notes:
            document.add_paragraph(signoff.notes)
        if signoff.checklist:
            _checklist(document, signoff.checklist)
        for number, qa in enumerate(signoff.questions, start=1):
            question = document.add_paragraph()
            question.add_run(f"Question {number}: ").bold = True
            question.add_run(qa["question"])
            answer = document.add_paragraph()
            answer.add_run("Answer: ").bold = True
            answer.add_run(qa["answer"])
        for evidence_file in signoff.files:
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(evidence_file.display_name).bold = True
            paragraph.add_run(f" ({file_size(evidence_file.size)}), SHA-256 {evidence_file.sha256}")


def _checklist(document, checklist: dict) -> None:
    """An observation checklist as the observer ticked it."""
    document.add_paragraph().add_run(f"Observation checklist: {checklist['title']}").bold = True
    widths = [2.0, 9.0, 1.6, 4.4]
    table = grid_table(document, ["Criterion", "Watched for", "Seen", "Note"], widths)
    for line in checklist["items"]:
        grid_row(
            table,
            [line["ref"], line["item"], "Yes" if line["seen"] else "No", line["note"]],
            widths,
        )


def _declarations(document, data: PackData, clock: Clock) -> None:
    document.add_heading("Declarations", level=1)
    learner = data.enrolment.learner
    for submission in data.submissions:
        document.add_heading(f"Learner's declaration, round {submission.round}", level=2)
        document.add_paragraph(submission.declaration)
        document.add_paragraph(
            f"Declared by {submission.submitted_by.name} ({learner.email}) on "
            f"{clock.datetime(submission.submitted_at)}."
        )
        _drawn(
            document,
            submission.signature_png,
            submission.submitted_by.name,
            clock.datetime(submission.submitted_at),
        )
    outcome = data.review.outcome
    document.add_heading("Assessor's declaration", level=2)
    if outcome is None:
        document.add_paragraph("No outcome has been recorded yet.")
        return
    document.add_paragraph(outcome.declaration or OUTCOME_DECLARATION)
    _decision_makers(document, data, clock)
    document.add_paragraph(
        f"Signed by {outcome.assessor.name} on {day(outcome.decided_on)} "
        f"(recorded {clock.datetime(outcome.recorded_at)}): {outcome.result.label}."
    )
    _drawn(
        document, outcome.signature_png, outcome.assessor.name, clock.datetime(outcome.recorded_at)
    )


def _decision_makers(document, data: PackData, clock: Clock) -> None:
    """Each decision-maker's credentials as the register stood on their last decision here:
    not today's."""
    document.add_heading("Decision-makers' credentials", level=2)
    widths = [4.0, 2.6, 10.4]
    table = grid_table(
        document, ["Assessor", "Last decided", "Credential register on that day"], widths
    )
    for user, on, at in data.decision_makers():
        grid_row(table, [user.name, day(on), data.credential_state(user.id, on, at)], widths)


def _corrections(document, data: PackData, clock: Clock) -> None:
    document.add_heading("Corrections", level=1)
    history = data.review.history
    if not history:
        document.add_paragraph("No entry was corrected after the outcome.")
        return
    widths = [3.2, 3.5, 5.5, 5.0]
    table = grid_table(document, ["When", "Who", "Entry", "Why"], widths)
    for entry in history:
        if hasattr(entry, "finding"):
            what = f"{entry.target.ref}: {entry.finding.label}"
        elif hasattr(entry, "result"):
            what = f"Outcome: {entry.result.label}"
        else:
            what = f"Sign-off of {entry.target.ref}"
        why = entry.correction_reason or "replaced by the correction below"
        grid_row(table, [clock.datetime(entry.recorded_at), entry.assessor.name, what, why], widths)


def _audit_trail(document, data: PackData, clock: Clock) -> None:
    document.add_heading("Audit trail", level=1)
    document.add_paragraph(
        "Every recorded change to this enrolment, oldest first, from the append-only audit log."
    )
    widths = [2.8, 3.0, 3.4, 7.8]
    table = grid_table(document, ["When", "Who", "What", "Details"], widths)
    for row in data.events:
        cells = grid_row(
            table,
            [
                clock.datetime(row.occurred_at),
                f"{row.actor} ({row.role})",
                f"{row.action_label} {row.subject}".strip(),
                "",
            ],
            widths,
        )
        # Comments and notes are Markdown: shown as Word formatting, as everywhere else.
        for change in row.changes:
            value = change.after if change.before is None else f"{change.before} → {change.after}"
            add_labelled(cells[3], change.label, value)
