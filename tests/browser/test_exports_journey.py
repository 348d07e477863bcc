"""An admin exports the demo's assessed portfolio: pack, matrix, register and a bundle."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import docx
from playwright.sync_api import Page, expect

from tests.exports.conftest import matrix_grids


def test_admin_exports_everything_an_auditor_asks_for(
    page: Page, live_url: str, log_in, accessible
) -> None:
    log_in("admin@example.org", "admin-demo-pass")

    page.get_by_role("link", name="Audit log").first.click()
    expect(page.get_by_role("cell", name=re.compile("Unit outcome recorded")).first).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Exports").first.click()
    expect(page.get_by_role("heading", name="Exports for audit")).to_be_visible()
    accessible(page)

    matrix_form = page.get_by_role("region", name="Unit mapping matrix")
    matrix_form.get_by_label("Unit").select_option("TLII5018")
    with page.expect_download() as matrix_download:
        matrix_form.get_by_role("button", name="Download the matrix").click()
    assert matrix_download.value.suggested_filename.endswith(".docx")
    [grid] = matrix_grids(docx.Document(matrix_download.value.path()))
    assert any("Sam Learner" in cell.text for cell in grid.rows[0].cells)
    matrix_form.get_by_label("PDF").check()
    with page.expect_download() as pdf_download:
        matrix_form.get_by_role("button", name="Download the matrix").click()
    assert pdf_download.value.suggested_filename.endswith(".pdf")
    assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_label("Excel (.xlsx)").check()
    with page.expect_download() as register_download:
        page.get_by_role("button", name="Download the register").click()
    assert register_download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("button", name="Build the bundle").click()
    expect(page.get_by_role("heading", name=re.compile("^Audit bundle"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Ready: 1 enrolment,"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "1")
    accessible(page)
    with page.expect_download() as bundle_download:
        page.get_by_role("button", name="Download the bundle (.zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(bundle_download.value.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert {entry["path"] for entry in manifest["files"]} == set(archive.namelist()) - {
        "manifest.json"
    }
    pack_name = next(n for n in archive.namelist() if "/evidence-pack-" in n)
    pack = docx.Document(io.BytesIO(archive.read(pack_name)))
    assert any(p.text == "Evidence pack" for p in pack.paragraphs)
