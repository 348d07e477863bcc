"""PDF beside Word: the pack and the matrix converted by LibreOffice on demand, with a time
limit, and a clear answer when LibreOffice is missing or stuck."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import docx
from sqlalchemy import select

from portfolio.exports.bundle import Selection, stream_bundle
from portfolio.extensions import db
from portfolio.models import AuditEvent, Job
from tests.exports.conftest import require_programs
from tests.exports.test_views import fetch


def pdf_text(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def exports() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.created")))


def test_the_pack_downloads_as_pdf(client, admin, decided, tmp_path) -> None:
    require_programs("soffice", "pdftotext")
    enrolment = decided(items=1)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(".pdf")
    assert response.data.startswith(b"%PDF")
    text = pdf_text(tmp_path, response.data)
    assert "Evidence pack" in text and "TLII5018" in text and "Lee Learner 0" in text
    [event] = exports()
    assert event.after["description"].endswith("(PDF)")


def test_the_matrix_downloads_as_pdf(client, admin, decided, tmp_path) -> None:
    require_programs("soffice", "pdftotext")
    decided(), decided()
    response = fetch(client, "/admin/exports/matrix.docx?m-unit=TLII5018&m-format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].endswith(".pdf")
    text = pdf_text(tmp_path, response.data)
    assert "Unit mapping matrix: TLII5018" in text
    assert "Criteria of release" in text and "S/O" in text


def test_without_libreoffice_the_answer_says_so_and_nothing_is_logged(
    app, client, admin, decided
) -> None:
    app.config["LIBREOFFICE"] = "/nonexistent/soffice"
    enrolment = decided(items=1)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.pdf")
    assert response.status_code == 503
    assert "PDF downloads need LibreOffice on the server" in response.text
    assert "Download the Word file instead." in response.text
    assert exports() == []
    word = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    assert word.status_code == 200  # the Word file is still there


def test_a_conversion_past_its_time_is_stopped(app, client, admin, decided, tmp_path) -> None:
    stuck = tmp_path / "soffice"
    stuck.write_text("#!/bin/sh\nsleep 60 &\nsleep 60\n")
    stuck.chmod(0o755)
    app.config.update(LIBREOFFICE=str(stuck), PDF_SECONDS=1)
    enrolment = decided(items=1)
    started = time.monotonic()
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.pdf")
    assert time.monotonic() - started < 15
    assert response.status_code == 503
    assert "Making the PDF took longer than 1 seconds, so it was stopped." in response.text
    left = subprocess.run(["pgrep", "-f", str(stuck)], capture_output=True, text=True)
    assert left.stdout == ""  # the converter and what it started are gone


def test_the_bundle_carries_a_pdf_beside_each_word_document(decided) -> None:
    require_programs("soffice")
    decided(items=1)
    body = b"".join(stream_bundle(db.session, Selection(unit_code="TLII5018", pdfs=True)))
    archive = zipfile.ZipFile(io.BytesIO(body))
    words = sorted(n for n in archive.namelist() if n.endswith(".docx") and "/evidence/" not in n)
    pdfs = sorted(n for n in archive.namelist() if n.endswith(".pdf") and "/evidence/" not in n)
    assert [n.removesuffix(".pdf") for n in pdfs] == [n.removesuffix(".docx") for n in words]
    assert len(pdfs) == 2  # the pack and the matrix
    assert all(archive.read(n).startswith(b"%PDF") for n in pdfs)
    manifest = json.loads(archive.read("manifest.json"))
    assert set(pdfs) <= {entry["path"] for entry in manifest["files"]}
    assert manifest["selection"].endswith(", with PDFs")


def test_a_bundle_with_pdfs_is_refused_at_once_without_libreoffice(app, client, admin, decided):
    app.config["LIBREOFFICE"] = "/nonexistent/soffice"
    decided(items=1)
    page = client.post("/admin/exports/bundles", data={"b-unit": "TLII5018", "b-pdfs": "y"})
    assert page.status_code == 400
    assert "PDFs need LibreOffice on the server" in page.text
    assert db.session.scalars(select(Job)).all() == []


def test_the_word_packs_contents_has_the_pages_libreoffice_lays_out(
    client, admin, decided, to_pdf_text, tmp_path
) -> None:
    """No "Update Field" prompt: each entry carries its page, and the heading is on it."""
    require_programs("soffice", "pdfinfo")
    enrolment = decided(items=3, files=("pdf", "png"))
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    path = tmp_path / "pack.docx"
    path.write_bytes(response.data)
    document = docx.Document(path)
    start = next(i for i, p in enumerate(document.paragraphs) if p.text == "Contents") + 1
    entries = []
    for paragraph in document.paragraphs[start:]:
        if "\t" not in paragraph.text:
            break
        title, page = paragraph.text.rsplit("\t", 1)
        entries.append((title, int(page)))
    titles = [title for title, _ in entries]
    assert titles[:3] == ["Mapping of evidence to the unit", "Evidence register", "Evidence"]
    assert "Audit trail" in titles and len(entries) >= 10
    text, pages = to_pdf_text(path)
    on_page = text.split("\f")
    for title, page in entries:
        assert 1 <= page <= pages
        assert title in on_page[page - 1], (title, page)
    assert [page for _, page in entries] == sorted(page for _, page in entries)


def test_without_pdfinfo_the_word_pack_still_downloads_with_blank_numbers(
    client, admin, decided, tmp_path, monkeypatch
) -> None:
    """poppler-utils missing: Word shows no page numbers (LibreOffice still works them out)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    soffice = shutil.which("soffice")
    if soffice:
        (bin_dir / "soffice").symlink_to(soffice)
    monkeypatch.setenv("PATH", str(bin_dir))  # soffice, if any, but no pdfinfo
    enrolment = decided(items=1)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    start = next(i for i, p in enumerate(document.paragraphs) if p.text == "Contents") + 1
    entry = document.paragraphs[start].text
    assert entry == "Mapping of evidence to the unit\t"
