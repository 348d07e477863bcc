"""Every export on the RTO's paper (A4 unless PAPER_SIZE says Letter), with its name and code."""

from __future__ import annotations

import io

import docx
import pytest
from docx.shared import Mm

from portfolio import create_app
from portfolio.config import ConfigurationError
from tests.exports.test_views import fetch


def test_the_pack_is_a4_by_default_with_the_rto_code_on_its_cover(app, client, admin, decided):
    app.config.update(RTO_NAME="Harbour Skills College", RTO_CODE="91234")
    enrolment = decided(items=1)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    document = docx.Document(io.BytesIO(response.data))
    sizes = {(round(s.page_width.mm), round(s.page_height.mm)) for s in document.sections}
    assert sizes <= {(210, 297), (297, 210)}  # landscape pages are A4 turned
    assert (210, 297) in sizes
    assert document.paragraphs[0].text == "Harbour Skills College (RTO 91234)"


def test_letter_paper_when_the_rto_chooses_it(app, client, admin, decided):
    app.config["PAPER_SIZE"] = "Letter"
    enrolment = decided(items=1)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    first = docx.Document(io.BytesIO(response.data)).sections[0]
    assert (first.page_width, first.page_height) == (Mm(215.9), Mm(279.4))
    matrix = fetch(client, "/admin/exports/matrix.docx?m-unit=TLII5018")
    turned = docx.Document(io.BytesIO(matrix.data)).sections[0]
    assert (turned.page_width, turned.page_height) == (Mm(279.4), Mm(215.9))


def test_paper_size_is_read_in_any_case_and_an_unknown_one_stops_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    database = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    assert (
        create_app({"SQLALCHEMY_DATABASE_URI": database, "PAPER_SIZE": "letter"}).config[
            "PAPER_SIZE"
        ]
        == "Letter"
    )
    with pytest.raises(ConfigurationError, match="PAPER_SIZE must be A4 or Letter, not 'A5'"):
        create_app({"SQLALCHEMY_DATABASE_URI": database, "PAPER_SIZE": "A5"})
