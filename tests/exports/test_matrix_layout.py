"""The unit mapping matrix at cohort size: A4 (or the RTO's paper), criteria as codes with a
key, learners in blocks that fit the page, rows whole, marks that keep a sign-off."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import docx
from docx.enum.section import WD_ORIENT
from docx.shared import Mm

from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import MARKS, MatrixData, build_matrix, cohort_ids, matrix_data
from portfolio.extensions import db
from portfolio.models import (
    AssessmentState,
    Enrolment,
    OutcomeResult,
    Target,
    TargetKind,
    Unit,
    UnitOutcome,
    UnitRelease,
    User,
)
from tests.exports.conftest import exportable_targets, matrix_grids

WORDING = (
    "Customer needs are researched, clarified, assessed and included in plans to achieve "
    "quality, time and cost targets, with the client's agreement recorded in writing"
)


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    return width, height


def cohort(learners: int, targets: int) -> MatrixData:
    """A cohort built in memory: ``learners`` decided learners against ``targets`` criteria,
    every fifth mark a sign-off, every seventh not yet satisfactory."""
    unit = Unit(code="BSBXX501")
    release = UnitRelease(id=1, unit=unit, release=1, title="Manage quality customer service")
    criteria = [
        Target(
            id=n,
            unit_release_id=1,
            kind=TargetKind.PERFORMANCE_CRITERION,
            ref=f"{n // 4 + 1}.{n % 4 + 1}",
            text=f"{WORDING} ({n})",
            position=n,
        )
        for n in range(targets)
    ]
    people = [
        Enrolment(
            id=n,
            learner=User(name=f"Learner Surname-Number{n:03d}", email=f"l{n}@example.org"),
            unit_release_id=1,
            unit_release=release,
            state=AssessmentState.DECIDED,
            attempt=1 + (n % 9 == 0),
        )
        for n in range(learners)
    ]
    status = {}
    for e in people:
        for t in criteria:
            n = e.id + t.id
            status[(e.id, t.id)] = (
                "signed_off_satisfactory"
                if n % 5 == 0
                else "not_yet"
                if n % 7 == 0
                else "satisfactory"
            )
    outcomes = {
        e.id: UnitOutcome(enrolment_id=e.id, attempt=e.attempt, result=OutcomeResult.COMPETENT)
        for e in people
    }
    return MatrixData(unit, [release], people, {1: criteria}, status, outcomes, "Test cohort")


def test_a_hundred_learners_and_thirty_criteria_fit_the_page_target(to_pdf_text, tmp_path):
    """At most one page per 15 learners per 30 criteria, each block of learners on a page of
    its own with every criterion, nothing broken mid-word."""
    data = cohort(100, 30)
    path = tmp_path / "matrix.docx"
    build_matrix(data, letterhead=Letterhead("Test RTO", "91234")).save(path)
    document = docx.Document(path)
    blocks = matrix_grids(document)
    assert [len(t.columns) - 1 for t in blocks] == [25, 25, 25, 25]
    assert all(len(t.rows) == 31 for t in blocks)
    text, pages = to_pdf_text(path)
    assert pages <= 100 / 15  # 6 pages for 100 learners and 30 criteria
    grid_pages = [p for p in text.split("\f") if "Criterion" in p and "learners" in p]
    assert len(grid_pages) == 4  # a block a page: no row carried over to another page
    for page in grid_pages:
        assert re.findall(r"^\s*(\d+\.\d+) Customer needs", page, re.M) == [
            t.ref for t in data.targets[1]
        ]  # the same rows, in the same order, in every block
    # Marks and names whole: "S/O" never broken into "S/" and "O", no name split.
    words = set(text.split())
    assert "S/O" in words and "S/" not in words
    assert "Surname-Number042" in text.replace("\n", " ")
    # Rendered as pages: A4 landscape (at 50 dpi, 585 x 414 pixels), every page.
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "50",
            str(next(tmp_path.glob("pdf-*/matrix.pdf"))),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    sizes = {png_size(p) for p in sorted(tmp_path.glob("page-*.png"))}
    assert sizes == {(585, 414)}


def test_the_key_gives_each_code_its_whole_wording_and_the_grid_a_short_title():
    data = cohort(3, 5)
    document = build_matrix(data, letterhead=Letterhead("Test RTO", "91234"))
    key = next(t for t in document.tables if t.rows[0].cells[0].text == "Code")
    assert [(r.cells[0].text, r.cells[1].text) for r in key.rows[1:]] == [
        (t.ref, t.text) for t in data.targets[1]
    ]
    [grid] = matrix_grids(document)
    titles = [r.cells[0].text for r in grid.rows[1:]]
    assert titles[0] == "1.1 Customer needs are…"
    assert all(len(title) <= 40 for title in titles)
    legend = next(t for t in document.tables if t.rows[0].cells[0].text == "S")
    assert [r.cells[0].text for r in legend.rows] == [mark for mark, _ in MARKS.values()]


def test_the_matrix_is_on_the_rtos_paper_in_landscape():
    data = cohort(2, 2)
    a4 = build_matrix(data, letterhead=Letterhead("Test RTO")).sections[0]
    assert a4.orientation == WD_ORIENT.LANDSCAPE
    assert (round(a4.page_width.mm), round(a4.page_height.mm)) == (297, 210)
    letter = build_matrix(data, letterhead=Letterhead("Test RTO", paper="Letter")).sections[0]
    assert (letter.page_width, letter.page_height) == (Mm(279.4), Mm(215.9))


def test_a_signed_off_gap_keeps_its_sign_off_once_judged(decided) -> None:
    """The ``decided`` learner's last criterion was closed by a conversation, then every
    criterion judged satisfactory: that one is "S/O", not a plain "S"; the rest are "S"."""
    enrolment = decided(items=1)
    targets = exportable_targets(enrolment)
    ids = cohort_ids(db.session, "TLII5018")
    document = build_matrix(
        matrix_data(db.session, "TLII5018", ids), letterhead=Letterhead("Test RTO")
    )
    [grid] = matrix_grids(document)
    assert grid.rows[0].cells[1].text.split("\n") == [enrolment.learner.name, "Competent"]
    rows = [(r.cells[0].text, r.cells[1].text) for r in grid.rows[1:]]
    assert len(rows) == len(targets)
    for (title, _), target in zip(rows, targets, strict=True):
        assert title.startswith(f"{target.ref} ")
    assert [mark for _, mark in rows] == ["S"] * (len(targets) - 1) + ["S/O"]
