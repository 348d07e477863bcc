"""Small python-docx helpers every exported Word document uses.

python-docx covers paragraphs, runs, tables and sections but not fields (page numbers, a table
of contents), repeating table header rows or cell shading; these write the WordprocessingML for
them directly, in the element order the schema requires, so both Word and LibreOffice read it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docx.document import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Length
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

__all__ = [
    "add_contents",
    "add_field",
    "add_page_number_footer",
    "keep_rows_whole",
    "keep_table_on_page",
    "landscape_section",
    "monospace",
    "portrait_section",
    "repeat_header_row",
    "rotate_text",
    "set_cell_margins",
    "set_column_widths",
    "set_header_text",
    "set_page_numbers",
    "shade_cell",
    "xml_safe",
]

# Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF).
# lxml refuses them outright, so one stray character in learner text would sink a document.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MONOSPACE = "Courier New"
_HEX_COLOUR = re.compile(r"^#?([0-9A-Fa-f]{6})$")
_HEADING = re.compile(r"^Heading ([1-9])$")

# Successors of the elements inserted below, from the schema's sequences (CT_TrPr, CT_TcPr).
_TR_PR_AFTER_CANT_SPLIT = (
    "w:trHeight",
    "w:tblHeader",
    "w:tblCellSpacing",
    "w:jc",
    "w:hidden",
    "w:ins",
    "w:del",
    "w:trPrChange",
)
_TR_PR_AFTER_TBL_HEADER = _TR_PR_AFTER_CANT_SPLIT[2:]
_TC_PR_AFTER_TEXT_DIRECTION = (
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)
# Successors of w:tblCellMar in CT_TblPr.
_TBL_PR_AFTER_CELL_MAR = ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
_TC_PR_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", *_TC_PR_AFTER_TEXT_DIRECTION)


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _set_on_off(parent, tag: str, successors: Sequence[str]) -> None:
    if parent.find(qn(tag)) is None:
        parent.insert_element_before(OxmlElement(tag), *successors)


def repeat_header_row(table: Table, rows: int = 1) -> None:
    """Mark the first ``rows`` rows as header rows, repeated at the top of every page."""
    for tr in table._tbl.tr_lst[:rows]:
        _set_on_off(tr.get_or_add_trPr(), "w:tblHeader", _TR_PR_AFTER_TBL_HEADER)


def keep_rows_whole(table: Table) -> None:
    """Stop any row from breaking across a page (``w:cantSplit`` on every row)."""
    for tr in table._tbl.tr_lst:
        _set_on_off(tr.get_or_add_trPr(), "w:cantSplit", _TR_PR_AFTER_CANT_SPLIT)


def keep_table_on_page(table: Table) -> None:
    """Keep a short table on one page: rows stay whole and each row keeps with the next."""
    keep_rows_whole(table)
    for row in table.rows[:-1]:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def add_field(paragraph: Paragraph, instruction: str, placeholder: str = "") -> None:
    """Append a complex field (``PAGE``, ``NUMPAGES``, ``TOC ...``) to ``paragraph``.

    ``placeholder`` is the field's cached result, shown until Word or LibreOffice works the
    field out (page fields are worked out on every layout; a TOC when it is updated).
    """

    def run_with(child) -> None:
        r = OxmlElement("w:r")
        r.append(child)
        paragraph._p.append(r)

    def fld_char(kind: str):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    run_with(fld_char("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {xml_safe(instruction).strip()} "
    run_with(instr)
    run_with(fld_char("separate"))
    if placeholder:
        paragraph.add_run(xml_safe(placeholder))
    run_with(fld_char("end"))


def _first_empty_or_new(container) -> Paragraph:
    paragraphs = container.paragraphs
    if paragraphs and not paragraphs[0].text and len(paragraphs) == 1:
        return paragraphs[0]
    return container.add_paragraph()


def add_page_number_footer(
    section: Section,
    prefix: str = "Page ",
    *,
    separator: str = " of ",
    alignment: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
) -> Paragraph:
    """Put "Page 3 of 12" (PAGE and NUMPAGES fields) in the section's footer.

    The footer becomes this section's own; sections added afterwards inherit it.
    """
    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = _first_empty_or_new(footer)
    paragraph.alignment = alignment
    if prefix:
        paragraph.add_run(xml_safe(prefix))
    add_field(paragraph, "PAGE", "1")
    if separator:
        paragraph.add_run(xml_safe(separator))
        add_field(paragraph, "NUMPAGES", "1")
    return paragraph


def set_header_text(
    section: Section,
    text: str,
    *,
    alignment: WD_ALIGN_PARAGRAPH | None = None,
) -> Paragraph:
    """Make the section's header read ``text`` (one paragraph; sections added later inherit it)."""
    header = section.header
    header.is_linked_to_previous = False
    paragraphs = header.paragraphs
    for extra in paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    paragraph = paragraphs[0] if paragraphs else header.add_paragraph()
    paragraph.text = xml_safe(text)
    if alignment is not None:
        paragraph.alignment = alignment
    return paragraph


def _new_section(document: Document, orientation: WD_ORIENT, start: WD_SECTION) -> Section:
    section = document.add_section(start)
    width, height = section.page_width, section.page_height
    landscape = orientation == WD_ORIENT.LANDSCAPE
    if width is not None and height is not None and (width > height) != landscape:
        section.page_width, section.page_height = height, width
    section.orientation = orientation
    return section


def landscape_section(document: Document, start: WD_SECTION = WD_SECTION.NEW_PAGE) -> Section:
    """Start a new landscape section (page size swapped) and return it.

    Its header and footer carry on from the section before.
    """
    return _new_section(document, WD_ORIENT.LANDSCAPE, start)


def portrait_section(document: Document, start: WD_SECTION = WD_SECTION.NEW_PAGE) -> Section:
    """Start a new portrait section (page size swapped back if needed) and return it."""
    return _new_section(document, WD_ORIENT.PORTRAIT, start)


def add_contents(document: Document, marker: Paragraph, levels: int = 2) -> list[str]:
    """Replace ``marker`` with a contents list of the headings after it (Heading 1 to
    ``levels``): each entry links to its heading, with its page number after a dotted tab.

    The number is a PAGEREF field to a bookmark on the heading: LibreOffice works it out as it
    lays the page out; Word shows the result stored with the field, which ``set_page_numbers``
    writes (from LibreOffice's layout) and which is blank until then. No TOC field: Word would
    show "Update Field" or ask on opening. Returns the bookmarks, in order.
    """
    body = marker._p.getparent()
    after = False
    headings: list[tuple[int, Paragraph]] = []
    for element in body.iterchildren(qn("w:p")):
        if element is marker._p:
            after = True
            continue
        paragraph = Paragraph(element, marker._parent)
        match = _HEADING.match(paragraph.style.name if paragraph.style is not None else "")
        if after and match and int(match.group(1)) <= levels and paragraph.text.strip():
            headings.append((int(match.group(1)), paragraph))
    section = document.sections[0]
    width = section.page_width - section.left_margin - section.right_margin
    names = []
    for n, (level, heading) in enumerate(headings, start=1):
        name = f"_Toc{n}"
        names.append(name)
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(n))
        start.set(qn("w:name"), name)
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(n))
        heading._p.insert(0 if heading._p.pPr is None else 1, start)  # after its properties
        heading._p.append(end)
        entry = marker.insert_paragraph_before()
        entry.paragraph_format.left_indent = Length(int(Cm(0.6) * (level - 1)))
        entry.paragraph_format.tab_stops.add_tab_stop(
            width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), name)
        entry._p.append(link)
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = xml_safe(heading.text.strip())
        text.set(qn("xml:space"), "preserve")
        run.append(text)
        link.append(run)
        entry.add_run("\t")
        add_field(entry, f"PAGEREF {name} \\h", "")
    body.remove(marker._p)
    return names


def set_page_numbers(document: Document, pages: dict[str, int]) -> int:
    """Store each contents entry's page (by bookmark) as its PAGEREF field's result, which
    Word shows as it is; returns how many were set."""
    done = 0
    for instr in document.element.body.iter(qn("w:instrText")):
        parts = (instr.text or "").split()
        if len(parts) < 2 or parts[0] != "PAGEREF" or parts[1] not in pages:
            continue
        run = instr.getparent()
        for sibling in run.itersiblings(qn("w:r")):
            if sibling.find(qn("w:fldChar")) is not None:
                kind = sibling.find(qn("w:fldChar")).get(qn("w:fldCharType"))
                if kind == "end":
                    result = OxmlElement("w:r")
                    text = OxmlElement("w:t")
                    text.text = str(pages[parts[1]])
                    result.append(text)
                    sibling.addprevious(result)
                    done += 1
                    break
                continue
            if sibling.find(qn("w:t")) is not None:  # a result stored before: replaced
                sibling.find(qn("w:t")).text = str(pages[parts[1]])
                done += 1
                break
    return done


def shade_cell(cell: _Cell, hex_fill: str) -> None:
    """Fill a table cell with a background colour given as "D9E2F3" or "#D9E2F3"."""
    match = _HEX_COLOUR.match(hex_fill)
    if not match:
        raise ValueError(f"hex_fill must be six hex digits, not {hex_fill!r}")
    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:shd")):
        tc_pr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), match.group(1).upper())
    tc_pr.insert_element_before(shd, *_TC_PR_AFTER_SHD)


def set_column_widths(table: Table, widths: Sequence[Length | int]) -> None:
    """Fix the table's column widths (``Cm``/``Inches``/EMU), one per grid column.

    Word reads the grid; LibreOffice goes by each cell's width, so both are set (a merged cell
    gets the sum of the columns it spans), and the layout is made fixed so neither autofits.
    """
    tbl = table._tbl
    grid_cols = tbl.tblGrid.gridCol_lst
    if len(widths) != len(grid_cols):
        raise ValueError(f"{len(widths)} widths given for a table of {len(grid_cols)} columns")
    widths = [Length(int(width)) for width in widths]
    table.autofit = False
    for grid_col, width in zip(grid_cols, widths, strict=True):
        grid_col.w = width
    for tr in tbl.tr_lst:
        column = tr.grid_before
        for tc in tr.tc_lst:
            span = tc.grid_span
            tc.width = Length(sum(widths[column : column + span]))
            column += span
    tbl_w = tbl.tblPr.find(qn("w:tblW"))
    if tbl_w is not None:
        tbl_w.set(qn("w:type"), "dxa")
        tbl_w.set(qn("w:w"), str(Length(sum(widths)).twips))


def rotate_text(cell: _Cell) -> None:
    """Run the cell's text bottom to top (a narrow column's heading, read with the head
    turned left); the row's height is then the line's length."""
    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:textDirection")):
        tc_pr.remove(old)
    direction = OxmlElement("w:textDirection")
    direction.set(qn("w:val"), "btLr")
    tc_pr.insert_element_before(direction, *_TC_PR_AFTER_TEXT_DIRECTION)


def set_cell_margins(table: Table, left: Length, right: Length | None = None) -> None:
    """The table's default left and right cell margins (Word's default is 0.19 cm a side,
    which leaves a narrow column little room for its text)."""
    tbl_pr = table._tbl.tblPr
    for old in tbl_pr.findall(qn("w:tblCellMar")):
        tbl_pr.remove(old)
    margins = OxmlElement("w:tblCellMar")
    for side, width in (("w:left", left), ("w:right", right if right is not None else left)):
        element = OxmlElement(side)
        element.set(qn("w:w"), str(Length(int(width)).twips))
        element.set(qn("w:type"), "dxa")
        margins.append(element)
    tbl_pr.insert_element_before(margins, *_TBL_PR_AFTER_CELL_MAR)


def monospace(run: Run) -> Run:
    """Set the run in the monospace font, for every script (a hash, code)."""
    run.font.name = MONOSPACE
    r_fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:cs"), MONOSPACE)
    r_fonts.set(qn("w:eastAsia"), MONOSPACE)
    return run
