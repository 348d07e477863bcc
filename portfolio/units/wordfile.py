"""The text of a unit's Word file, read from the document's structure (python-docx).

training.gov.au's "Complete" Word file and the copies RTOs keep show the nesting of their lists
by paragraph style ("List Bullet", "List Bullet 2", ...) or by list level, and hold the elements
and the foundation skills in tables. Flattened to text, both are lost. Here every paragraph and
every table cell's paragraph becomes a line in document order; a list paragraph is bulleted and
indented by its level, so the parser reads the nesting the file shows instead of guessing it
from wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

INDENT = "  "
# "List Bullet 2", "List Number 3", "SIBulletList2", "List Paragraph": a list paragraph's style;
# a digit at the end is its level, counted from 1.
LIST_STYLE = re.compile(r"(bullet|list|number)\D*?(\d)?\s*$", re.IGNORECASE)


def text_from_docx(stream: IO[bytes]) -> str:
    """Every paragraph of the body, tables' cells included, a line each, in document order."""
    document = docx.Document(stream)
    return "\n".join(_lines(document.element.body, document)) + "\n"


def _lines(container, parent) -> Iterator[str]:
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            line = _paragraph_line(Paragraph(child, parent))
            if line:
                yield line
        elif child.tag == qn("w:tbl"):
            yield from _table_lines(Table(child, parent))
        elif child.tag == qn("w:sdt"):  # a content control: its content is the document's
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _lines(content, parent)


def _table_lines(table: Table) -> Iterator[str]:
    """Each row's cells in turn; a merged cell (the same cell in several places) once."""
    seen: list[object] = []  # the cells' elements, kept so that none is compared after reuse
    for row in table.rows:
        for cell in row.cells:
            if any(cell._tc is done for done in seen):
                continue
            seen.append(cell._tc)
            yield from _lines(cell._tc, cell)


def _paragraph_line(paragraph: Paragraph) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    level = _list_level(paragraph)
    if level is None:
        return text
    return f"{INDENT * level}• {text}"


def _list_level(paragraph: Paragraph) -> int | None:
    """The paragraph's list level from 0, or None when it is not a list item: its own
    numbering level, else its style's name ("List Bullet 2" is level 1)."""
    properties = paragraph._p.pPr
    numbering = properties.numPr if properties is not None else None
    if numbering is not None and numbering.numId is not None and numbering.numId.val != 0:
        level = numbering.ilvl
        return int(level.val) if level is not None else 0
    style = paragraph.style
    while style is not None:
        found = LIST_STYLE.search(style.name or "")
        if found and "heading" not in (style.name or "").lower():
            return int(found.group(2)) - 1 if found.group(2) else 0
        style = style.base_style
    return None
