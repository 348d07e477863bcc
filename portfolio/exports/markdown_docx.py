"""A learner's Markdown description as real Word formatting.

The dialect is the one the web pages show (``portfolio.rendering``): CommonMark plus
tables and strikethrough, with raw HTML kept as literal text. Headings become Word heading
styles shifted down (so a learner's ``#`` sits under the document's own headings), lists use
Word's list styles, links become clickable hyperlinks for http, https and mailto only, and
images are never fetched: their alt text stands in for them.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Inches, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from markdown_it import MarkdownIt
from markdown_it.token import Token

from portfolio.exports.docx_support import monospace, repeat_header_row, xml_safe

__all__ = ["add_markdown"]

LINK_COLOUR = RGBColor(0x05, 0x63, 0xC1)
_CODE_FILL = "F2F2F2"
_LINK_SCHEMES = {"http", "https", "mailto"}
_ALIGNMENTS = {
    "text-align:left": WD_ALIGN_PARAGRAPH.LEFT,
    "text-align:center": WD_ALIGN_PARAGRAPH.CENTER,
    "text-align:right": WD_ALIGN_PARAGRAPH.RIGHT,
}
_INDENT = Cm(0.75)
# Successors of w:pBdr and w:shd in CT_PPr, for inserting them in schema order.
_P_PR_AFTER_SHD = (
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_P_PR_AFTER_P_BDR = ("w:shd", *_P_PR_AFTER_SHD)

# The same parser settings as the web rendering; "html": False turns raw HTML into text.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def add_markdown(document_or_cell: Any, text: str, *, heading_offset: int = 2) -> None:
    """Append ``text`` (Markdown) to a Document or a table cell as Word formatting.

    A ``#`` heading becomes "Heading 1+heading_offset" (capped at Heading 9). Empty or blank
    text adds nothing. Any input renders; nothing in it is fetched or executed.
    """
    if not text or not text.strip():
        return
    tokens = _markdown.parse(xml_safe(text))
    _Renderer(document_or_cell, heading_offset).render(tokens)


#: What Markdown reads as more than text inside a line (emphasis, code, links, escapes,
#: entities, HTML, strikethrough), and any space but the plain one (tabs, line breaks, the
#: other blanks Markdown and Python strip differently) or a control character.
_NOT_PLAIN = re.compile(r"[\\`*_\[\]<>&~!]|[^\S ]|[\x00-\x1f\x7f]")


def add_labelled(cell: Any, label: str, value: str) -> None:
    """Append "**label:** value" (``value`` Markdown) to a table cell, as ``add_markdown``
    would, without parsing a value that has no Markdown in it: a long table of plain values
    (the pack's audit trail) is built several times faster, and reads the same."""
    if _NOT_PLAIN.search(value) or _NOT_PLAIN.search(label):
        add_markdown(cell, f"**{label}:** {value}")
        return
    renderer = _Renderer(cell, 2)
    paragraph = renderer.block_paragraph()
    renderer.add_run(paragraph, f"{label}:", bold=True)
    if value.strip(" "):  # a paragraph's trailing spaces are not part of it
        renderer.add_run(paragraph, f" {value.rstrip(' ')}")


@dataclass
class _Item:
    kind: str  # "bullet" or "number"
    has_block: bool = False


def _apply_style(paragraph: Paragraph, *names: str) -> bool:
    """Give ``paragraph`` the first of ``names`` the document has; False if it has none."""
    for name in names:
        try:
            paragraph.style = name
        except KeyError:
            continue
        return True
    return False


def _plain_text(tokens: list[Token] | None) -> str:
    parts: list[str] = []
    for token in tokens or []:
        if token.type in {"text", "code_inline", "html_inline"}:
            parts.append(token.content)
        elif token.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif token.children:
            parts.append(_plain_text(token.children))
    return "".join(parts)


def _has_content(p) -> bool:
    """Whether a ``w:p`` holds anything but its properties."""
    return any(child.tag != qn("w:pPr") for child in p)


def _link_target(href: str | None) -> str | None:
    """The URL to link to, or None when it is not an http, https or mailto address."""
    if not href:
        return None
    href = href.strip()
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return None
    return href if scheme in _LINK_SCHEMES else None


def _add_paragraph_property(paragraph: Paragraph, element, successors: tuple[str, ...]) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    for old in p_pr.findall(element.tag):
        p_pr.remove(old)
    p_pr.insert_element_before(element, *successors)


def _shade_paragraph(paragraph: Paragraph, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    _add_paragraph_property(paragraph, shd, _P_PR_AFTER_SHD)


def _rule_below(paragraph: Paragraph) -> None:
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(name), value)
    border.append(bottom)
    _add_paragraph_property(paragraph, border, _P_PR_AFTER_P_BDR)


class _Renderer:
    def __init__(self, target: Any, heading_offset: int) -> None:
        self.target = target
        self.heading_offset = heading_offset
        self.items: list[_Item] = []
        self.lists: list[str] = []
        self.quote_depth = 0
        self.current: Paragraph | None = None
        # A cell ends in a paragraph, empty in a new cell or after a table; the first block
        # reuses it rather than leaving a blank line.
        self.reusable: Paragraph | None = None
        if isinstance(target, _Cell):
            last = target._tc[-1] if len(target._tc) else None
            if last is not None and last.tag == qn("w:p") and not _has_content(last):
                self.reusable = Paragraph(last, target)

    # -- blocks -----------------------------------------------------------------------------

    def render(self, tokens: list[Token]) -> None:
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind == "table_open":
                index = self.table(tokens, index)
                continue
            if kind == "paragraph_open":
                self.current = self.block_paragraph()
            elif kind == "heading_open":
                self.current = self.heading(token.tag)
            elif kind in {"paragraph_close", "heading_close"}:
                self.current = None
            elif kind == "inline":
                if self.current is not None:
                    self.inline(self.current, token.children or [])
            elif kind in {"bullet_list_open", "ordered_list_open"}:
                self.lists.append("bullet" if kind == "bullet_list_open" else "number")
            elif kind in {"bullet_list_close", "ordered_list_close"}:
                if self.lists:
                    self.lists.pop()
            elif kind == "list_item_open":
                self.items.append(_Item(self.lists[-1] if self.lists else "bullet"))
            elif kind == "list_item_close":
                if self.items and not self.items[-1].has_block:
                    self.block_paragraph()  # an empty item still shows its bullet
                if self.items:
                    self.items.pop()
            elif kind == "blockquote_open":
                self.quote_depth += 1
            elif kind == "blockquote_close":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif kind in {"fence", "code_block"}:
                self.code_block(token.content)
            elif kind == "html_block":
                paragraph = self.block_paragraph()
                self.add_run(paragraph, token.content.rstrip("\n"))
            elif kind == "hr":
                _rule_below(self.new_paragraph())
            index += 1

    def new_paragraph(self) -> Paragraph:
        for item in self.items:
            item.has_block = True
        if self.reusable is not None:
            paragraph, self.reusable = self.reusable, None
            return paragraph
        return self.target.add_paragraph()

    def block_paragraph(self) -> Paragraph:
        """A paragraph styled for where it stands: in a list item, a quote, or plain."""
        first_in_item = bool(self.items) and not self.items[-1].has_block
        paragraph = self.new_paragraph()
        if self.items:
            depth = min(len(self.lists), 3) or 1
            if first_in_item:
                base = "List Bullet" if self.items[-1].kind == "bullet" else "List Number"
            else:
                base = "List Continue"
            names = [base if level == 1 else f"{base} {level}" for level in range(depth, 0, -1)]
            if not _apply_style(paragraph, *names):
                paragraph.paragraph_format.left_indent = _INDENT * depth
        elif self.quote_depth:
            styled = _apply_style(paragraph, "Quote")
            extra = self.quote_depth - (1 if styled else 0)
            if extra:
                paragraph.paragraph_format.left_indent = _INDENT * extra
        return paragraph

    def heading(self, tag: str) -> Paragraph:
        try:
            level = int(tag.lstrip("h"))
        except ValueError:
            level = 1
        level = max(1, min(9, level + self.heading_offset))
        paragraph = self.new_paragraph()
        if not _apply_style(paragraph, f"Heading {level}"):
            paragraph.paragraph_format.keep_with_next = True
        return paragraph

    def code_block(self, content: str) -> None:
        paragraph = self.new_paragraph()
        depth = len(self.lists) + self.quote_depth
        if depth:
            paragraph.paragraph_format.left_indent = _INDENT * depth
        _shade_paragraph(paragraph, _CODE_FILL)
        run = self.add_run(paragraph, content.rstrip("\n"))
        monospace(run)

    def add_table(self, rows: int, cols: int) -> Table:
        target = self.target
        if isinstance(target, Document):
            body = target.element.body
            blocks = [child for child in body if child.tag in {qn("w:p"), qn("w:tbl")}]
            if blocks and blocks[-1].tag == qn("w:tbl"):
                target.add_paragraph()  # adjacent tables would merge into one
            return target.add_table(rows, cols)
        if isinstance(target, _Cell):
            if self.reusable is not None:
                # The cell's empty paragraph goes (add_table ends the cell with a fresh one),
                # unless it keeps two tables apart.
                p = self.reusable._p
                before = p.getprevious()
                if before is None or before.tag != qn("w:tbl"):
                    p.getparent().remove(p)
                self.reusable = None
            table = target.add_table(rows, cols)
            self.reusable = target.paragraphs[-1]
            return table
        try:
            return target.add_table(rows, cols)
        except TypeError:  # headers, footers and the like want a width
            return target.add_table(rows, cols, Inches(6))

    def table(self, tokens: list[Token], index: int) -> int:
        """Render the table starting at ``tokens[index]``; return the index after it."""
        rows: list[tuple[bool, list[tuple[list[Token], str | None]]]] = []
        header = False
        while index < len(tokens) and tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "thead_open":
                header = True
            elif token.type == "thead_close":
                header = False
            elif token.type == "tr_open":
                rows.append((header, []))
            elif token.type in {"th_open", "td_open"} and rows:
                inline = tokens[index + 1] if index + 1 < len(tokens) else None
                children = (inline.children or []) if inline and inline.type == "inline" else []
                style = token.attrGet("style")
                rows[-1][1].append((children, style if isinstance(style, str) else None))
            index += 1
        index += 1  # past table_close
        cols = max((len(cells) for _, cells in rows), default=0)
        if not rows or not cols:
            return index
        for item in self.items:
            item.has_block = True
        table = self.add_table(len(rows), cols)
        _apply_style_table(table)
        for row, (is_header, cells) in zip(table.rows, rows, strict=True):
            for cell, (children, style) in zip(row.cells, cells, strict=False):
                paragraph = cell.paragraphs[0]
                if style in _ALIGNMENTS:
                    paragraph.alignment = _ALIGNMENTS[style]
                self.inline(paragraph, children, bold=is_header)
        header_rows = sum(1 for is_header, _ in rows if is_header)
        if header_rows:
            repeat_header_row(table, header_rows)
        return index

    # -- inline -----------------------------------------------------------------------------

    def add_run(
        self,
        paragraph: Paragraph,
        text: str,
        *,
        hyperlink=None,
        bold: bool = False,
        italic: bool = False,
        strike: bool = False,
    ) -> Run:
        if hyperlink is not None:
            r = OxmlElement("w:r")
            hyperlink.append(r)
            run = Run(r, paragraph)
            run.font.color.rgb = LINK_COLOUR
            run.font.underline = True
        else:
            run = paragraph.add_run()
        run.text = xml_safe(text)
        if bold:
            run.bold = True
        if italic:
            run.italic = True
        if strike:
            run.font.strike = True
        return run

    def inline(self, paragraph: Paragraph, children: list[Token], *, bold: bool = False) -> None:
        strong = 1 if bold else 0
        emphasis = strike = 0
        hyperlink = None
        for token in children:
            kind = token.type
            if kind == "strong_open":
                strong += 1
            elif kind == "strong_close":
                strong = max(0, strong - 1)
            elif kind == "em_open":
                emphasis += 1
            elif kind == "em_close":
                emphasis = max(0, emphasis - 1)
            elif kind == "s_open":
                strike += 1
            elif kind == "s_close":
                strike = max(0, strike - 1)
            elif kind == "link_open":
                href = token.attrGet("href")
                url = _link_target(href if isinstance(href, str) else None)
                hyperlink = _hyperlink(paragraph, url) if url else None
            elif kind == "link_close":
                hyperlink = None
            else:
                formats = {
                    "hyperlink": hyperlink,
                    "bold": strong > 0,
                    "italic": emphasis > 0,
                    "strike": strike > 0,
                }
                if kind == "softbreak":
                    self.add_run(paragraph, " ", **formats)
                elif kind == "hardbreak":
                    self.add_run(paragraph, "", **formats).add_break()
                elif kind == "code_inline":
                    monospace(self.add_run(paragraph, token.content, **formats))
                elif kind == "image":
                    alt = _plain_text(token.children) or token.content or "[image]"
                    self.add_run(paragraph, alt, **formats)
                elif token.content:  # text, html_inline, anything else with words in it
                    self.add_run(paragraph, token.content, **formats)


def _hyperlink(paragraph: Paragraph, url: str):
    """A ``w:hyperlink`` appended to ``paragraph``, pointing at ``url`` (external)."""
    r_id = paragraph.part.relate_to(xml_safe(url), RT.HYPERLINK, is_external=True)
    hyperlink = OxmlElement("w:hyperlink")
    hyperlink.set(qn("r:id"), r_id)
    hyperlink.set(qn("w:history"), "1")
    paragraph._p.append(hyperlink)
    return hyperlink


def _apply_style_table(table: Table) -> None:
    with contextlib.suppress(KeyError):  # a template without it keeps its default
        table.style = "Table Grid"
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.space_after = Pt(0)
