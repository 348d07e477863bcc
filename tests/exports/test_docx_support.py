"""Word helpers: fields, header rows, sections, shading and widths; one LibreOffice round trip."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Inches

from portfolio.exports.docx_support import (
    add_contents,
    add_field,
    add_page_number_footer,
    keep_rows_whole,
    keep_table_on_page,
    landscape_section,
    portrait_section,
    repeat_header_row,
    set_column_widths,
    set_header_text,
    set_page_numbers,
    shade_cell,
    xml_safe,
)
from portfolio.exports.markdown_docx import add_markdown
from portfolio.exports.pdf import Converter
from tests.exports.conftest import require_programs


def saved(document: Document) -> Document:
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return docx.Document(buffer)


def field_parts(paragraph) -> list[tuple[str, str]]:
    """The field markup of a paragraph in order: ("begin", ""), ("instr", " PAGE "), ..."""
    parts = []
    for element in paragraph._p.iter(qn("w:fldChar"), qn("w:instrText")):
        if element.tag == qn("w:fldChar"):
            parts.append((element.get(qn("w:fldCharType")), ""))
        else:
            parts.append(("instr", element.text))
    return parts


def child_tags(element) -> list[str]:
    return [child.tag.split("}")[1] for child in element]


# -- tables --------------------------------------------------------------------------------------


def test_repeat_header_row_marks_only_the_header_rows_once() -> None:
    document = docx.Document()
    table = document.add_table(4, 2)
    repeat_header_row(table)
    repeat_header_row(table)
    rows = saved(document).tables[0].rows
    assert [len(row._tr.xpath("./w:trPr/w:tblHeader")) for row in rows] == [1, 0, 0, 0]

    repeat_header_row(table, rows=2)
    rows = saved(document).tables[0].rows
    assert [len(row._tr.xpath("./w:trPr/w:tblHeader")) for row in rows] == [1, 1, 0, 0]


def test_row_properties_are_written_in_schema_order() -> None:
    document = docx.Document()
    table = document.add_table(3, 1)
    table.rows[0].height = Cm(1)
    repeat_header_row(table)
    keep_table_on_page(table)
    tr_pr = saved(document).tables[0].rows[0]._tr.trPr
    assert child_tags(tr_pr) == ["cantSplit", "trHeight", "tblHeader"]


def test_keep_table_on_page_keeps_rows_whole_and_with_the_next() -> None:
    document = docx.Document()
    table = document.add_table(3, 2)
    keep_table_on_page(table)
    rows = saved(document).tables[0].rows
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in rows)
    keeps = [row.cells[0].paragraphs[0].paragraph_format.keep_with_next for row in rows]
    assert keeps == [True, True, None]

    other = document.add_table(2, 1)
    keep_rows_whole(other)
    keep_rows_whole(other)
    assert [len(row._tr.xpath("./w:trPr/w:cantSplit")) for row in other.rows] == [1, 1]


def test_shade_cell_sets_one_fill_in_schema_order() -> None:
    document = docx.Document()
    cell = document.add_table(1, 1).cell(0, 0)
    cell.vertical_alignment = 1  # CENTER: a w:vAlign that w:shd must precede
    shade_cell(cell, "#d9e2f3")
    shade_cell(cell, "FFF2CC")
    tc_pr = saved(document).tables[0].cell(0, 0)._tc.tcPr
    shadings = tc_pr.findall(qn("w:shd"))
    assert [shd.get(qn("w:fill")) for shd in shadings] == ["FFF2CC"]
    assert child_tags(tc_pr) == ["tcW", "shd", "vAlign"]


@pytest.mark.parametrize("bad", ["red", "#12345", "1234567", "#GGGGGG", ""])
def test_shade_cell_refuses_anything_but_six_hex_digits(bad: str) -> None:
    cell = docx.Document().add_table(1, 1).cell(0, 0)
    with pytest.raises(ValueError, match="hex"):
        shade_cell(cell, bad)


def test_set_column_widths_sets_the_grid_every_cell_and_merged_spans() -> None:
    document = docx.Document()
    table = document.add_table(3, 3)
    table.cell(2, 0).merge(table.cell(2, 1))
    set_column_widths(table, [Cm(2), Inches(1), Cm(5)])
    table = saved(document).tables[0]
    assert not table.autofit
    twips = [Cm(2).twips, Inches(1).twips, Cm(5).twips]  # Word stores widths in twips
    assert [col.w.twips for col in table._tbl.tblGrid.gridCol_lst] == twips
    for row in table.rows[:2]:
        assert [tc.width.twips for tc in row._tr.tc_lst] == twips
    merged_row = table.rows[2]._tr.tc_lst
    assert [tc.width.twips for tc in merged_row] == [twips[0] + twips[1], twips[2]]
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    assert tbl_w.get(qn("w:type")) == "dxa"


def test_set_column_widths_wants_one_width_per_column() -> None:
    table = docx.Document().add_table(1, 3)
    with pytest.raises(ValueError, match="3 columns"):
        set_column_widths(table, [Cm(1), Cm(2)])


# -- fields, header and footer ---------------------------------------------------------------


def test_add_field_writes_a_complex_field() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph("Date: ")
    add_field(paragraph, "DATE \\@ yyyy-MM-dd", "2024-01-01")
    paragraph = saved(document).paragraphs[0]
    assert field_parts(paragraph) == [
        ("begin", ""),
        ("instr", " DATE \\@ yyyy-MM-dd "),
        ("separate", ""),
        ("end", ""),
    ]
    assert paragraph.text == "Date: 2024-01-01"
    instr = paragraph._p.find(f".//{qn('w:instrText')}")
    assert instr.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"


def test_page_number_footer_has_page_and_numpages_fields() -> None:
    document = docx.Document()
    add_page_number_footer(document.sections[0])
    footer = saved(document).sections[0].footer
    assert not footer.is_linked_to_previous
    (paragraph,) = footer.paragraphs
    assert paragraph.text == "Page 1 of 1"
    assert [part for part in field_parts(paragraph) if part[0] == "instr"] == [
        ("instr", " PAGE "),
        ("instr", " NUMPAGES "),
    ]
    assert [kind for kind, _ in field_parts(paragraph) if kind != "instr"] == [
        "begin",
        "separate",
        "end",
    ] * 2
    assert str(paragraph.alignment) == "CENTER (1)"


def test_page_number_footer_without_total() -> None:
    document = docx.Document()
    add_page_number_footer(document.sections[0], prefix="p. ", separator="")
    paragraph = saved(document).sections[0].footer.paragraphs[0]
    assert paragraph.text == "p. 1"
    assert [text for kind, text in field_parts(paragraph) if kind == "instr"] == [" PAGE "]


def test_set_header_text_replaces_what_was_there() -> None:
    document = docx.Document()
    section = document.sections[0]
    section.header.add_paragraph("old second line")
    set_header_text(section, "Learner \x01 one")
    set_header_text(section, "Ann Lee — BSBWHS411 Release 1")
    header = saved(document).sections[0].header
    assert not header.is_linked_to_previous
    assert [p.text for p in header.paragraphs] == ["Ann Lee — BSBWHS411 Release 1"]


def contents_document() -> tuple[Document, list[str]]:
    document = docx.Document()
    document.add_heading("Title", level=0)
    document.add_heading("Contents", level=1)
    marker = document.add_paragraph()
    for n in range(3):
        document.add_heading(f"Part {n}", level=1)
        document.add_heading(f"Part {n}, detail", level=2)
        document.add_heading(f"Part {n}, too deep", level=3)
        document.add_paragraph("text").add_run().add_break(WD_BREAK.PAGE)
    return document, add_contents(document, marker, levels=2)


def test_contents_lists_the_headings_after_it_each_with_a_page_reference() -> None:
    document, names = contents_document()
    read = saved(document)
    entries = read.paragraphs[2:8]
    assert [p.text.split("\t")[0] for p in entries] == [
        "Part 0",
        "Part 0, detail",
        "Part 1",
        "Part 1, detail",
        "Part 2",
        "Part 2, detail",
    ]
    assert names == [f"_Toc{n}" for n in range(1, 7)]
    for entry, name in zip(entries, names, strict=True):
        assert [t for kind, t in field_parts(entry) if kind == "instr"] == [f" PAGEREF {name} \\h "]
        assert entry._p.find(qn("w:hyperlink")).get(qn("w:anchor")) == name
    bookmarks = [b.get(qn("w:name")) for b in read.element.body.iter(qn("w:bookmarkStart"))]
    assert bookmarks == names
    assert "TOC" not in read.element.body.xml  # no field Word would ask to update


def test_page_numbers_are_stored_as_the_references_results() -> None:
    document, names = contents_document()
    assert set_page_numbers(document, {name: n + 2 for n, name in enumerate(names)}) == 6
    entries = saved(document).paragraphs[2:8]
    assert [p.text.split("\t")[1] for p in entries] == ["2", "3", "4", "5", "6", "7"]
    set_page_numbers(document, {names[0]: 9})  # numbered again: replaced, not appended
    assert saved(document).paragraphs[2].text.split("\t")[1] == "9"


def test_libreoffice_numbers_the_contents_as_it_lays_the_pages_out() -> None:
    require_programs("soffice", "pdfinfo")
    document, _ = contents_document()
    assert Converter().number_contents(document)
    entries = saved(document).paragraphs[2:8]
    assert [p.text.split("\t")[1] for p in entries] == ["1", "1", "2", "2", "3", "3"]


# -- sections ------------------------------------------------------------------------------------


def test_landscape_then_portrait_sections_swap_the_page_size() -> None:
    document = docx.Document()
    first = document.sections[0]
    add_page_number_footer(first)
    width, height = first.page_width, first.page_height
    document.add_paragraph("portrait text")
    wide = landscape_section(document)
    document.add_paragraph("landscape text")
    tall = portrait_section(document)
    assert (wide.start_type, tall.start_type) == (2, 2)  # WD_SECTION.NEW_PAGE
    sections = saved(document).sections
    assert [section.orientation for section in sections] == [
        WD_ORIENT.PORTRAIT,
        WD_ORIENT.LANDSCAPE,
        WD_ORIENT.PORTRAIT,
    ]
    assert (sections[1].page_width, sections[1].page_height) == (height, width)
    assert (sections[2].page_width, sections[2].page_height) == (width, height)
    assert sections[1].footer.is_linked_to_previous  # page numbers carry on
    assert sections[1].footer.paragraphs[0].text == "Page 1 of 1"


def test_landscape_section_on_a_landscape_document_stays_landscape() -> None:
    document = docx.Document()
    landscape_section(document)
    again = landscape_section(document)
    assert again.orientation == WD_ORIENT.LANDSCAPE
    assert again.page_width > again.page_height


def test_xml_safe_replaces_only_what_xml_cannot_hold() -> None:
    assert xml_safe("a\tb\nc\rd é 🧯 \ufffd") == "a\tb\nc\rd é 🧯 \ufffd"
    assert xml_safe("\x00\x08\x0b\x0c\x1f\ud800\ufffe\uffff") == "\ufffd" * 8


# -- LibreOffice ---------------------------------------------------------------------------------


def test_libreoffice_renders_a_document_built_with_these_helpers(
    tmp_path: Path, to_pdf_text
) -> None:
    document = docx.Document()
    section = document.sections[0]
    set_header_text(section, "Ann Lee — BSBWHS411")
    add_page_number_footer(section)
    document.add_heading("Evidence pack BSBWHS411", 1)
    add_markdown(
        document,
        "The learner **ran** the toolbox talk. See [the record](https://example.com/r).\n\n"
        "- Hazard identified in the loading bay\n"
        "- Controls agreed with the supervisor\n"
        "  - Signage ordered\n",
    )
    table = document.add_table(41, 3)
    table.style = "Table Grid"
    for cell, label in zip(table.rows[0].cells, ["Ref", "Criterion", "Judgement"], strict=True):
        cell.text = label
        shade_cell(cell, "D9E2F3")
    for number, row in enumerate(table.rows[1:], start=1):
        row.cells[0].text = f"E{number:02d}"
        row.cells[1].text = f"Criterion {number}.1: the learner shows how the hazard is controlled"
        row.cells[2].text = "Satisfactory"
    repeat_header_row(table)
    set_column_widths(table, [Cm(2), Cm(10), Cm(4)])
    path = tmp_path / "pack.docx"
    document.save(path)

    text, pages = to_pdf_text(path)

    assert pages >= 2, "the 40-row table should run onto a second page"
    flat = re.sub(r"\s+", " ", text)
    for expected in (
        "Evidence pack BSBWHS411",
        "Ann Lee — BSBWHS411",
        "Hazard identified in the loading bay",
        "Controls agreed with the supervisor",
        "Signage ordered",
        "the record",
        "E40",
        f"Page 1 of {pages}",
        f"Page {pages} of {pages}",
    ):
        assert expected in flat, expected
    page_texts = text.split("\f")
    assert "E40" not in page_texts[0]
    second = page_texts[1]
    assert re.search(r"Ref\s+Criterion\s+Judgement", second), "header row did not repeat"
