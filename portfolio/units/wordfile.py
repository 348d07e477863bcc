"""The text of a unit's Word file, read from the document's structure (python-docx).

training.gov.au's "Complete" Word file and the copies RTOs keep show the nesting of their lists
by paragraph style ("List Bullet", "List Bullet 2", ...) or by list level, and hold the elements
and the foundation skills in tables. Flattened to text, both are lost. Here every paragraph and
every table cell's paragraph becomes a line in document order; a list paragraph is bulleted and
indented by its level, so the parser reads the nesting the file shows instead of guessing it
from wording.
"""

from __future__ import annotations

import html
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
    """Every paragraph of the body in document order, a line each; each table row a Markdown
    table row (its cells' paragraphs joined by ``<br>``), so that which cell a line is in
    survives: a foundation skills row's first cell is its skill, whatever the skill is called.
    Where there is a table the whole text is Markdown, so Markdown's marks in the text are
    escaped."""
    document = docx.Document(stream)
    # Each style's list level, worked out once: python-docx looks a style up slowly.
    levels: dict[str | None, int | None] = {}
    return markdown_lines(list(_blocks(document.element.body, document, levels)))


def markdown_lines(blocks: list[str | list[list[str]]]) -> str:
    """Lines and table rows (each a list of its cells' lines) as the text the parser reads:
    a row as a Markdown table row, its cells' lines joined by ``<br>``. Where there is a
    table the whole text is Markdown, so Markdown's marks in the lines are escaped."""
    markdown = any(isinstance(block, list) for block in blocks)
    lines = []
    for block in blocks:
        if isinstance(block, list):
            cells = ["<br>".join(_escaped(line.strip()) for line in cell) for cell in block]
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(_escaped(block) if markdown else block)
    return "\n".join(lines) + "\n"


def _escaped(line: str) -> str:
    """A line of text as Markdown that reads back as the same text (its indentation kept),
    escaping only what Markdown would change, so that it stays readable in the text box."""
    line = re.sub("&", _ampersand, line)  # "&amp;" in the text, not "&"
    line = re.sub(r"<(?=[A-Za-z/!])", "&lt;", line)  # "<br>" in the text, not "<"
    line = re.sub(r"([\\*|]|\[(?=[^\]]*\]\())", lambda m: "\\" + m.group(1), line)
    # A run of underscores is bold to Markdown in pairs: each one of it is escaped.
    line = re.sub(r"_{2,}", lambda m: "\\_" * len(m.group()), line)
    return re.sub(r"^(\s*)#", r"\1\\#", line)


def _ampersand(match: re.Match[str]) -> str:
    """``&amp;`` where the text after it would be read as a character reference."""
    rest = match.string[match.end() : match.end() + 40]
    return "&amp;" if html.unescape("&" + rest) != "&" + rest else "&"


def _blocks(container, parent, levels: dict) -> Iterator[str | list[list[str]]]:
    """The body's paragraphs (a line each) and table rows (a list of each cell's lines)."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            line = _paragraph_line(Paragraph(child, parent), levels)
            if line:
                yield line
        elif child.tag == qn("w:tbl"):
            yield from _rows(Table(child, parent), levels)
        elif child.tag == qn("w:sdt"):  # a content control: its content is the document's
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(content, parent, levels)


def _rows(table: Table, levels: dict) -> Iterator[list[list[str]]]:
    """Each row's cells. A cell merged across columns is given once; merged down rows, its
    text is in its first row and the rows below have an empty cell in its place, so the
    columns stay where they are. A table inside a cell gives its lines to the cell."""
    # Cells read, by id: the elements are kept as the values, so no id is reused meanwhile.
    seen: dict[int, object] = {}
    for row in table.rows:
        cells: list[list[str]] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue
            previous = cell._tc
            if id(cell._tc) in seen:
                cells.append([])
                continue
            seen[id(cell._tc)] = cell._tc
            lines: list[str] = []
            for block in _blocks(cell._tc, cell, levels):
                if isinstance(block, list):
                    lines += [line for inner in block for line in inner]
                else:
                    lines.append(block)
            cells.append(lines)
        if any(cells):
            yield cells


def _paragraph_line(paragraph: Paragraph, levels: dict) -> str:
    text = " ".join(paragraph.text.split())
    if not text:
        return ""
    level = _list_level(paragraph, levels)
    if level is None:
        return text
    return f"{INDENT * level}• {text}"


def _list_level(paragraph: Paragraph, levels: dict) -> int | None:
    """The paragraph's list level from 0, or None when it is not a list item: its own
    numbering level, else its style's (``levels`` keeps each style's once found)."""
    properties = paragraph._p.pPr
    numbering = properties.numPr if properties is not None else None
    if numbering is not None and numbering.numId is not None and numbering.numId.val != 0:
        level = numbering.ilvl
        return int(level.val) if level is not None else 0
    style_id = paragraph._p.style
    if style_id not in levels:
        levels[style_id] = _style_level(paragraph.style)
    return levels[style_id]


def _style_level(style) -> int | None:
    """A paragraph style's list level: from its name ("List Bullet 2" is level 1), else its
    own numbering; None for a style that is no list's (a heading, a body text)."""
    while style is not None:
        if "heading" in (style.name or "").lower():
            return None
        found = LIST_STYLE.search(style.name or "")
        if found:
            return int(found.group(2)) - 1 if found.group(2) else 0
        # A list style numbers its paragraphs itself, whatever it is called. (Word's own
        # "List Bullet 2" has a numbering of its own at level 0: its name tells the level.)
        own = style.element.pPr.numPr if style.element.pPr is not None else None
        if own is not None and own.numId is not None and own.numId.val != 0:
            return int(own.ilvl.val) if own.ilvl is not None else 0
        style = style.base_style
    return None
