"""The evidence pack, matrix and bundle, built from enrolments made through the real services."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import docx
from sqlalchemy import select

from portfolio.assessment import gaps, review, rules
from portfolio.exports.bundle import Selection, stream_bundle
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import build_matrix, cohort_ids, matrix_data
from portfolio.exports.pack import build_pack, pack_data
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import (
    AuditEvent,
    EvidenceItem,
    Target,
)
from tests.exports.conftest import exportable_targets, matrix_grids


def _pack(enrolment):
    data = pack_data(db.session, enrolment)
    document = build_pack(
        data, letterhead=Letterhead("Test RTO", "91234"), open_file=storage().open
    )
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return data, docx.Document(buffer), buffer


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def test_pack_has_the_structure_an_auditor_reads(decided) -> None:
    """Headings, a mapping row for every target, the register with hashes, the declarations."""
    enrolment = decided(items=2, files=("pdf", "png", "docx"))
    data, document, _ = _pack(enrolment)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings == [
        "Contents",
        "Mapping of evidence to the unit",
        "Evidence register",
        "Evidence",
        "Third-party verification and reports",
        "Gap sign-offs",
        "Declarations",
        "Corrections",
        "Audit trail",
    ]
    text = _text(document)
    assert "Lee Learner 0" in text and "S1000" in text and "TLII5018" in text
    assert "Competent (AVETMISS 20)" in text
    mapping = document.tables[1]
    rows = [row.cells[0].text for row in mapping.rows[1:]]
    for target in exportable_targets(enrolment):
        assert any(text.startswith(f"{target.ref} ") for text in rows), target.ref
    for submitted in data.review.items:
        for f in submitted.version.files:
            assert f.sha256 in text
    assert "Competency conversation, 20/11/2026" in text
    assert "What is the QMS?" in text and "The depot's quality manual." in text
    assert "I declare that the evidence in this portfolio is my own work" in text
    assert "Unit outcome recorded" in text  # the audit trail, in plain words
    # Word structure: a repeating header row, landscape mapping, page numbers, inline images.
    assert mapping.rows[0]._tr.trPr is not None and "tblHeader" in mapping.rows[0]._tr.trPr.xml
    assert document.sections[1].orientation == 1  # landscape
    assert "PAGE" in document.sections[0].footer._element.xml
    assert len(document.inline_shapes) == 2
    assert any(p.style.name == "Heading 4" and p.text == "What I did" for p in document.paragraphs)


def test_pack_builder_runs_a_fixed_number_of_queries(decided, count_queries) -> None:
    """One item or six: the pack costs the same number of queries."""
    small, large = decided(items=1), decided(items=6)
    db.session.expire_all()
    with count_queries() as few:
        pack_data(db.session, small)
    db.session.expire_all()
    with count_queries() as many:
        data = pack_data(db.session, large)
    assert len(data.review.items) == 6
    assert many.count == few.count, many.statements


def test_pack_opens_in_libreoffice_with_every_criterion(decided, to_pdf_text, tmp_path) -> None:
    """LibreOffice converts the pack; the PDF names the unit and every criterion."""
    enrolment = decided(items=2, files=("pdf", "png", "docx"))
    _, _, buffer = _pack(enrolment)
    path = tmp_path / "pack.docx"
    path.write_bytes(buffer.getvalue())
    text, pages = to_pdf_text(path)
    assert 5 <= pages <= 40
    assert "TLII5018" in text
    for target in exportable_targets(enrolment):
        assert target.ref in text, target.ref
    # Nothing broken mid-number or mid-word: no date cut short ("01/09/202" then "6"), no
    # hash or word split over lines.
    assert not re.search(r"\b\d{2}/\d{2}/\d{1,3}\b", text)
    assert "Report" in text and "Competent" in text


def test_matrix_shows_the_cohort_against_every_requirement(decided, to_pdf_text, tmp_path) -> None:
    """Totals on the cover, a column per learner, a row per requirement; LibreOffice reads it."""
    first, second = decided(items=1), decided(items=1)
    ids = cohort_ids(db.session, "TLII5018")
    assert ids == [first.id, second.id]
    document = build_matrix(
        matrix_data(db.session, "TLII5018", ids), letterhead=Letterhead("Test RTO", "91234")
    )
    path = tmp_path / "matrix.docx"
    document.save(path)
    read = docx.Document(path)
    [grid] = matrix_grids(read)
    assert [c.text.split("\n")[0] for c in grid.rows[0].cells[1:]] == [
        "Lee Learner 0",
        "Lee Learner 1",
    ]
    assert len(grid.rows) == 1 + len(exportable_targets(first))
    # Every criterion judged satisfactory; the last one on a conversation that signed it off.
    assert [{c.text for c in row.cells[1:]} for row in grid.rows[1:]] == [{"S"}] * (
        len(grid.rows) - 2
    ) + [{"S/O"}]
    text, pages = to_pdf_text(path)
    assert "TLII5018" in text and pages >= 2
    for target in exportable_targets(first):
        assert target.ref in text


def test_bundle_manifest_matches_the_files_in_the_zip(decided) -> None:
    """Every file in the ZIP is in the manifest with its SHA-256, and the originals are there."""
    enrolment = decided(items=2, files=("pdf", "png", "docx"))
    originals = {
        f.sha256
        for item in db.session.scalars(
            select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
        )
        for f in item.current_version.files
    }
    body = b"".join(stream_bundle(db.session, Selection(unit_code="TLII5018")))
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    names = set(archive.namelist()) - {"manifest.json"}
    assert set(listed) == names
    for name in names:
        content = archive.read(name)
        assert hashlib.sha256(content).hexdigest() == listed[name]["sha256"]
        assert len(content) == listed[name]["size"]
    assert manifest["enrolments"] == 1
    assert any(n.endswith(".docx") and "/evidence-pack-" in n for n in names)
    assert sum(1 for n in names if "/evidence/" in n) == 6  # three files per item
    in_zip = {listed[n]["sha256"] for n in names if "/evidence/" in n}
    assert in_zip == originals  # the originals, byte for byte
    assert {
        "outcomes-register.csv",
        "outcomes-register.xlsx",
        "mapping-matrix-TLII5018.docx",
    } <= names


def test_exports_are_in_the_audit_log(decided, client, make_user, login) -> None:
    """Downloading a pack and a register records who took a copy of what."""
    enrolment = decided(items=1)
    login(make_user("admin", name="Ada Admin"))
    pack = client.post(f"/enrolments/{enrolment.id}/evidence-pack.docx")
    assert pack.status_code == 200
    assert pack.headers["Content-Disposition"].startswith("attachment;")
    assert docx.Document(io.BytesIO(pack.data)).paragraphs
    register = client.post("/admin/exports/register", data={"r-format": "csv"})
    assert register.status_code == 200 and b"AVETMISS" in register.data
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.created").order_by(AuditEvent.seq)
    ).all()
    assert [e.after["kind"] for e in events] == ["pack", "register"]
    assert events[0].enrolment_id == enrolment.id


def test_two_files_with_one_name_both_reach_the_bundle(make_user, make_enrolment) -> None:
    """Two phone photos both called image.png are two members, each with its extension."""
    from datetime import date

    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item, submit
    from portfolio.files.uploads import store_upload
    from portfolio.models import EvidenceType
    from tests.files import png_bytes

    learner = make_user("learner")
    enrolment = make_enrolment(learner=learner)
    photos = [store_upload(io.BytesIO(png_bytes(4 + n, 3)), "image.png") for n in range(2)]
    create_item(
        db.session,
        actor=learner,
        enrolment=enrolment,
        fields=ItemFields("Site photos", EvidenceType.PHOTO, date(2026, 9, 1), ""),
        files=photos,
    )
    submit(db.session, actor=learner, enrolment=enrolment, declared=True)
    db.session.commit()
    body = b"".join(stream_bundle(db.session, Selection(enrolment_ids=[enrolment.id])))
    archive = zipfile.ZipFile(io.BytesIO(body))
    evidence = [n for n in archive.namelist() if "/evidence/" in n]
    assert len(evidence) == len(set(evidence)) == 2
    assert all(n.endswith("-image.png") for n in evidence)
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in evidence} == {
        p.sha256 for p in photos
    }


def test_today_is_the_rto_s_date(app) -> None:
    """Dates the services record are the RTO's, not the server's."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portfolio.clock import today

    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        app.config["RTO_TIMEZONE"] = zone
        assert today() == datetime.now(ZoneInfo(zone)).date()


def test_matrix_cohort_dates_are_the_rto_s_dates(decided, app) -> None:
    """Enrolled at 9 am in Sydney on 5 March is 4 March in UTC; the range means Sydney's 5 March."""
    enrolment = decided(items=1)
    enrolment.created_at = datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    db.session.commit()
    assert app.config["RTO_TIMEZONE"] == "Australia/Sydney"
    march_5 = date(2026, 3, 5)
    assert cohort_ids(db.session, "TLII5018", enrolled_from=march_5) == [enrolment.id]
    assert cohort_ids(db.session, "TLII5018", enrolled_to=march_5 - timedelta(days=1)) == []


def test_pack_shows_a_corrected_sign_off_and_the_one_it_replaced(decided) -> None:
    """The sign-off section has the correction with its reason; Corrections lists both."""
    enrolment = decided(items=1)
    view = review.review_view(db.session, enrolment)
    [(target_id, old)] = view.signoffs.items()
    target = db.session.get(Target, target_id)
    gaps.correct_signoff(
        db.session,
        actor=old.assessor,
        view=view,
        target=target,
        method=old.method,
        held_on=old.held_on - timedelta(days=1),
        notes="Talked it through at the depot.",
        questions=[rules.Conversation("What is the QMS?", "The depot's quality manual.")],
        reason="Held the day before.",
    )
    db.session.commit()
    _, document, _ = _pack(enrolment)
    text = _text(document)
    assert "Talked it through at the depot." in text and "Held the day before." in text
    assert f"Sign-off of {target.ref}" in text and "replaced by the correction below" in text


def test_pack_tables_fit_the_page_and_keep_their_rows_whole(decided) -> None:
    """Every row of every table stays on one page; the register's SHA-256s are small
    monospace, its dates have room; the audit trail shows Markdown as formatting."""
    enrolment = decided(items=2, files=("pdf", "png"))
    _, document, _ = _pack(enrolment)
    assert document.paragraphs[0].text == "Test RTO (RTO 91234)"
    for table in document.tables:
        for row in table.rows:
            assert row._tr.trPr is not None and "cantSplit" in row._tr.trPr.xml
    register = next(t for t in document.tables if t.rows[0].cells[0].text == "Ref")
    hashes = [
        run
        for row in register.rows[1:]
        for paragraph in row.cells[4].paragraphs
        for run in paragraph.runs
        if len(run.text) == 64
    ]
    assert len(hashes) == 4
    assert {(r.font.name, r.font.size.pt) for r in hashes} == {("Courier New", 6.5)}
    assert sum(c.width for c in register.rows[1].cells) <= document.sections[0].page_width - (
        document.sections[0].left_margin + document.sections[0].right_margin
    )
    trail = next(t for t in document.tables if t.rows[0].cells[0].text == "When")
    details = "\n".join(row.cells[3].text for row in trail.rows[1:])
    assert "**" not in details
    bold = {
        run.text
        for row in trail.rows[1:]
        for paragraph in row.cells[3].paragraphs
        for run in paragraph.runs
        if run.bold
    }
    assert any(text.endswith(":") for text in bold)  # each change's label


def test_the_cover_says_when_and_why_the_outcome_was_corrected(decided, make_user) -> None:
    from portfolio.assessment import outcome as outcomes
    from portfolio.models import OutcomeResult

    enrolment = decided(items=1)
    admin_assessor = enrolment.assessor
    outcomes.correct_outcome(
        db.session,
        actor=admin_assessor,
        view=review.review_view(db.session, enrolment),
        result=OutcomeResult.NOT_YET_COMPETENT,
        reason="The observation record was for another learner.",
    )
    db.session.commit()
    _, document, _ = _pack(enrolment)
    cover = document.tables[0]
    [line] = [r.cells[1].text for r in cover.rows if r.cells[0].text == "Outcome"]
    assert line.startswith("Not yet competent (AVETMISS 30), corrected on ")
    assert line.endswith("(The observation record was for another learner.)")
