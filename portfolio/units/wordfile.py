"""The text of a unit's Word file, read from the document's structure.

training.gov.au's "Complete" Word file and the copies RTOs keep show the nesting of their lists
by paragraph style ("List Bullet", "List Bullet 2", ...) or by list level, number their lists
with Word's own numbering, and hold the elements and the foundation skills in tables. Flattened
to text, all of that is lost. Here every paragraph and every table cell's paragraph becomes
a line in document order, its text as Word shows it; a list paragraph is bulleted or numbered
as Word shows it and indented by its level, so the parser reads the nesting and the numbers the
file shows instead of guessing them from wording.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, NamedTuple

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from lxml.etree import XMLSyntaxError

from portfolio.units.parse import ALWAYS_GOES_ON, GOES_ON, LEVELS, RELEASE, names_a_section

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
    formatting = _Formatting(document)
    return markdown_lines(list(_blocks(document.element.body, formatting)))


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
    line = re.sub(r"([\\*|])", lambda m: "\\" + m.group(1), line)
    # A "[" is a link's start to Markdown where "](" follows it.
    links_end = line.rfind("](")
    line = line[:links_end].replace("[", "\\[") + line[links_end:] if links_end > 0 else line
    # A run of underscores is bold to Markdown in pairs: each one of it is escaped.
    line = re.sub(r"_{2,}", lambda m: "\\_" * len(m.group()), line)
    return re.sub(r"^(\s*)#", r"\1\\#", line)


def _ampersand(match: re.Match[str]) -> str:
    """``&amp;`` where the text after it would be read as a character reference."""
    rest = match.string[match.end() : match.end() + 40]
    return "&amp;" if html.unescape("&" + rest) != "&" + rest else "&"


def _blocks(container, formatting: _Formatting) -> Iterator[str | list[list[str]]]:
    """The body's paragraphs (a line each) and table rows (a list of each cell's lines)."""
    for child in _within(container, "w:p", "w:tbl"):
        if child.tag == qn("w:p"):
            yield from _paragraph_lines(child, formatting)
        else:
            yield from _rows(child, formatting)


def _within(element, *tags: str) -> Iterator:
    """``element``'s children of ``tags``, also those a content control or custom XML wraps
    (python-docx sees neither: a table's rows in a repeating content control were lost)."""
    wanted = {qn(tag) for tag in tags}
    for child in element.iterchildren():
        if child.tag in wanted:
            yield child
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None and not _placeholder(child):
                yield from _within(content, *tags)
        elif child.tag == qn("w:customXml"):
            yield from _within(child, *tags)


def _rows(table, formatting: _Formatting) -> Iterator[list[list[str]]]:
    """Each row's cells. A cell merged across columns is given once; merged down rows, its
    text is in its first row and the rows below have an empty cell in its place, so the
    columns stay where they are. A table inside a cell gives its lines to the cell."""
    for row in _within(table, "w:tr"):
        cells: list[list[str]] = []
        for cell in _within(row, "w:tc"):
            properties = cell.find(qn("w:tcPr"))
            merged = properties.find(qn("w:vMerge")) if properties is not None else None
            if merged is not None and merged.get(qn("w:val"), "continue") != "restart":
                cells.append([])
                continue
            lines: list[str] = []
            for block in _blocks(cell, formatting):
                if isinstance(block, list):
                    lines += [line for inner in block for line in inner]
                else:
                    lines.append(block)
            cells.append(lines)
        if any(cells):
            yield cells


def _paragraph_lines(paragraph, formatting: _Formatting) -> list[str]:
    """A paragraph's lines: a list item is one line, with the number Word shows; another
    paragraph is split at its line breaks as ``_broken_lines`` says (an elements table's
    criteria are often one paragraph, a criterion a line)."""
    if formatting.hidden(formatting.style_id(paragraph)):
        return []  # a paragraph style's hidden text: Word shows none of it
    shown = _shown_text(paragraph, formatting.hidden)
    found = formatting.item(paragraph)  # an empty list paragraph has its number too
    if not shown.strip():
        return []
    if found is None:
        return _broken_lines(shown, formatting.heading(paragraph))
    level, number = found
    return [f"{INDENT * level}{_read_number(number)} {' '.join(shown.split())}"]


#: A line that starts the next item whatever the line before it ends with: a number, a
#: letter or Roman numeral marking an item, a bullet.
NEXT_ITEM = re.compile(
    r"(?:\(?\d{1,3}(?:\.\d{1,3})?[.)]?|\(?(?:[a-zA-Z]|[ivxIVX]{1,6})[.)]|[•●◦▪■\-–*·])\s"
)


def _broken_lines(shown: str, kind: str | None = None) -> list[str]:
    """A paragraph's lines, one for each line break, except where the line before a break goes
    on after it and the next starts no item: "and", "of", a comma, ... before a line in lower
    case; "the", "of", "for", ... (words no item ends with) before any line ("requirements of
    the" / "Australian Standards"); or the next is in brackets ("(Release 1)"). A heading
    (``kind`` "heading") is one line, but for a line that names a section or a release
    ("Release 1") on its own, or that follows a line naming a section whose name it does not
    go on ("Knowledge Evidence" and its lead-in)."""
    parts = [" ".join(part.split()) for part in shown.split("\n")]
    lines: list[str] = []
    for line in (part for part in parts if part):
        if not lines:
            lines.append(line)
        elif kind == "heading":
            whole = f"{lines[-1]} {line}"
            own = names_a_section(line) or RELEASE.match(line) or names_a_section(lines[-1])
            if own and not names_a_section(whole) and line[0] != "(":
                lines.append(line)
            else:
                lines[-1] = whole  # "Performance" and "Evidence" on two lines of a heading
        elif NEXT_ITEM.match(line):
            lines.append(line)
        elif (
            GOES_ON.search(lines[-1]) and (line[0].islower() or ALWAYS_GOES_ON.search(lines[-1]))
        ) or line.startswith("("):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


def _read_number(number: str) -> str:
    """A list number as the parser reads one: "3." for "3", "3)" or "(3)"; "1.2" for "1.2."; an
    element's label ("Element 2:") as it is; any other number ("1.a", "1st", "(a)", "1.2.3")
    a bullet: the level it is at tells its nesting."""
    single = re.fullmatch(r"\(?(\d{1,3})[.)]?", number)
    if single:
        return f"{single.group(1)}."
    double = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.?", number)
    if double:
        return f"{double.group(1)}.{double.group(2)}"
    if re.fullmatch(r"element\s*\d{1,2}\s*[:.\-–]", number, re.IGNORECASE):
        return number
    return "•"


#: What a paragraph holds that is not its text as shown: text deleted with changes tracked
#: (or moved away), and drawings and text boxes (frames of their own beside the paragraph).
NOT_SHOWN = {qn(tag) for tag in ("w:del", "w:moveFrom", "w:drawing", "w:pict", "w:pPr", "w:rPr")}
NOT_SHOWN |= {"{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"}


def _shown_text(element, hidden_style: Callable[[str | None], bool]) -> str:
    """The text of a paragraph as Word shows it: its runs wherever they are (python-docx reads
    only those at the top and in links), so text inserted with changes tracked, in a content
    control, a field's result or a smart tag is read, and text deleted with changes tracked or
    hidden is not."""
    parts = []
    for child in element.iterchildren():
        if child.tag in NOT_SHOWN or _placeholder(child):
            continue
        if child.tag == qn("w:r"):
            if not _hidden(child, hidden_style):
                parts += map(_run_text, child.iterchildren())
        else:
            parts.append(_shown_text(child, hidden_style))
    return "".join(parts)


def _placeholder(element) -> bool:
    """Whether ``element`` is a content control showing its placeholder ("Click or tap here to
    enter text."): nothing was typed into it."""
    if element.tag != qn("w:sdt"):
        return False
    properties = element.find(qn("w:sdtPr"))
    return properties is not None and properties.find(qn("w:showingPlcHdr")) is not None


def _run_text(part) -> str:
    """A run's part as text: a line break (of any kind, a page's too) a new line."""
    if part.tag == qn("w:t"):
        return part.text or ""
    if part.tag in BREAKS:
        return "\n"
    return SHOWN_AS.get(part.tag, "")


BREAKS = {qn("w:br"), qn("w:cr")}
SHOWN_AS = {qn("w:tab"): " ", qn("w:ptab"): " ", qn("w:noBreakHyphen"): "-"}


def _hidden(run, hidden_style: Callable[[str | None], bool]) -> bool:
    """Whether a run is hidden text (Word's "Hidden" font effect, set on the run or by its
    character style), which Word does not show."""
    properties = run.rPr
    vanish = properties.find(qn("w:vanish")) if properties is not None else None
    if vanish is not None:
        return _on(vanish)
    style = properties.find(qn("w:rStyle")) if properties is not None else None
    return style is not None and hidden_style(style.get(qn("w:val")))


def _on(toggle, attribute: str = "w:val", absent: str = "true") -> bool:
    """A Word on/off property's value: on unless it says "0", "false" or "off"."""
    return toggle.get(qn(attribute), absent) not in ("0", "false", "off")


class _Formatting:
    """The document's formatting. A list paragraph's level is its own numbering's, else its style's
    (by name, "List Bullet 2", or by the style's numbering). A numbered list's paragraph is
    given the number Word shows before it, worked out from the document's numbering
    definitions and counted as Word and LibreOffice count: on through the list (also across
    table cells and across lists of one definition), the levels below restarting after each
    item of a level above. It also tells the paragraphs that are headings or titles by their
    style, and the styles that hide their text."""

    def __init__(self, document) -> None:
        # Each style's (level, numbering), worked out once: python-docx looks a style up slowly.
        self._styles: dict[str | None, tuple[int, str | None] | None] = {}
        self._lists: dict[str, tuple[str, dict[int, _Level], set[int]]] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._used: set[str] = set()
        self._hidden: dict[str | None, bool] = {}
        styles = list(document.styles.element.iterchildren(qn("w:style")))
        self._by_id = {style.get(qn("w:styleId")): style for style in styles}
        # A paragraph that names no style has the default paragraph style.
        self._default = next(
            (
                style.get(qn("w:styleId"))
                for style in styles
                if style.get(qn("w:type")) == "paragraph" and _on(style, "w:default", "false")
            ),
            None,
        )
        numbering = _numbering(document)
        if numbering is None:
            return
        abstract = {
            node.get(qn("w:abstractNumId")): node
            for node in numbering.iterchildren(qn("w:abstractNum"))
        }
        nums = {num.get(qn("w:numId")): num for num in numbering.iterchildren(qn("w:num"))}
        for num in nums.values():
            definition = abstract.get(_value(num.find(qn("w:abstractNumId"))))
            definition = self._linked(definition, abstract, nums)
            if definition is None:
                continue
            levels = {
                level.ilvl: level for level in map(_Level.of, definition.iterchildren(qn("w:lvl")))
            }
            restarts = set()
            for override in num.iterchildren(qn("w:lvlOverride")):
                ilvl = _level(override.get(qn("w:ilvl")))
                replaced = override.find(qn("w:lvl"))
                if replaced is not None:
                    levels[ilvl] = _Level.of(replaced, ilvl)
                start = _value(override.find(qn("w:startOverride")))
                if start is not None and ilvl in levels:
                    levels[ilvl] = levels[ilvl]._replace(start=_number_in(start, 1))
                    restarts.add(ilvl)
            # Lists of one definition count on together; a list that sets a level's start
            # restarts that level where it is first used, and the others count on from there.
            counter = definition.get(qn("w:abstractNumId"))
            self._lists[num.get(qn("w:numId"))] = (counter, levels, restarts)

    def _linked(self, definition, abstract: dict, nums: dict):
        """A definition that only names a list style (``w:numStyleLink``): the style's list."""
        link = definition.find(qn("w:numStyleLink")) if definition is not None else None
        if link is None:
            return definition
        style = self._by_id.get(link.get(qn("w:val")))
        if style is None:
            return None
        num = nums.get(_value(style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")))
        return abstract.get(_value(num.find(qn("w:abstractNumId")))) if num is not None else None

    def style_id(self, paragraph) -> str | None:
        """The id of the paragraph's style."""
        return paragraph.style or self._default

    def _chain(self, style_id: str | None) -> Iterator:
        """The style and those it is based on, nearest first (a style based on itself, or on
        one before it, ends the chain)."""
        seen: set[str] = set()
        while style_id is not None and style_id not in seen:
            seen.add(style_id)
            style = self._by_id.get(style_id)
            if style is None:
                return
            yield style
            style_id = _value(style.find(qn("w:basedOn")))

    def _style(self, paragraph) -> tuple[int, str | None] | None:
        style_id = self.style_id(paragraph)
        if style_id not in self._styles:
            self._styles[style_id] = _style_list(self._chain(style_id))
        return self._styles[style_id]

    def hidden(self, style_id: str | None) -> bool:
        """Whether the style (or one it is based on) makes its text hidden."""
        if style_id not in self._hidden:
            vanish = (
                style.find(f"{qn('w:rPr')}/{qn('w:vanish')}") for style in self._chain(style_id)
            )
            found = next((toggle for toggle in vanish if toggle is not None), None)
            self._hidden[style_id] = found is not None and _on(found)
        return self._hidden[style_id]

    def heading(self, paragraph) -> str | None:
        """ "heading" or "title" where the paragraph is one by its style, else None."""
        found = self._style(paragraph)
        return "heading" if found == _HEADING else "title" if found == _TITLE else None

    def item(self, paragraph) -> tuple[int, str] | None:
        """The paragraph's list level from 0 and the number shown before it ("" for a bullet),
        or None when it is not a list item."""
        by_style = self._style(paragraph)
        if by_style in (_HEADING, _TITLE):
            return None
        properties = paragraph.pPr
        own = properties.numPr if properties is not None else None
        if own is not None and own.numId is not None:
            if own.numId.val == 0:  # numbering taken off the paragraph
                return None
            level = _level(own.ilvl.val if own.ilvl is not None else 0)
            return level, self._number(str(own.numId.val), level)
        if by_style is None:
            return None
        level, num_id = by_style
        # Word's "List Number 2" numbers at its list's first level; its name gives the level.
        return level, self._number(num_id, 0) if num_id is not None else ""

    def _number(self, num_id: str, level: int) -> str:
        """The number the next paragraph of list ``num_id`` at ``level`` shows ("" for a
        bullet or a list the document does not define)."""
        if num_id not in self._lists:
            return ""
        counter, levels, restarts = self._lists[num_id]
        counts = self._counters.setdefault(counter, [None] * LEVELS)
        if num_id not in self._used:
            self._used.add(num_id)
            for restarted in restarts:
                counts[restarted] = None
        own = levels.get(level)
        if own is None or own.format in ("bullet", "none"):
            return ""
        counts[level] = own.start if counts[level] is None else counts[level] + 1
        counts[level + 1 :] = [None] * (len(counts) - level - 1)

        def shown(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            named = levels.get(at)
            if named is None:
                return ""
            value = counts[at] if counts[at] is not None else named.start
            return _formatted(value, "decimal" if own.legal else named.format)

        return re.sub(r"%([1-9])", shown, own.text).strip()


_HEADING = (-1, None)
_TITLE = (-2, None)


def _numbering(document):
    """The document's numbering definitions, or None. A file that does not declare the part's
    type has it as a plain part: its XML is read all the same."""
    try:
        part = document.part.part_related_by(RT.NUMBERING)
    except KeyError:
        return None
    element = getattr(part, "element", None)
    if element is not None:
        return element
    try:
        return parse_xml(part.blob)
    except XMLSyntaxError:
        return None


class _Level(NamedTuple):
    ilvl: int
    start: int
    format: str
    text: str
    legal: bool

    @classmethod
    def of(cls, lvl, ilvl: int | None = None) -> _Level:
        return cls(
            _level(lvl.get(qn("w:ilvl"))) if ilvl is None else ilvl,
            _number_in(_value(lvl.find(qn("w:start"))), 1),
            _value(lvl.find(qn("w:numFmt"))) or "decimal",
            _value(lvl.find(qn("w:lvlText"))) or "",
            lvl.find(qn("w:isLgl")) is not None,
        )


def _value(node) -> str | None:
    return node.get(qn("w:val")) if node is not None else None


def _number_in(value: object, default: int) -> int:
    """A whole number a file gives, or ``default`` where it gives something else."""
    try:
        return int(str(value))
    except ValueError:
        return default


def _level(value: object) -> int:
    """A list level a file gives, kept to Word's nine (0 to 8)."""
    return min(max(_number_in(value, 0), 0), LEVELS - 1)


ROMAN = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
]


def _formatted(value: int, number_format: str) -> str:
    """``value`` as a list number of Word's ``number_format`` (decimal where it is one this
    reader does not write out; nothing for letters or Roman numerals past what Word writes)."""
    if number_format in ("lowerLetter", "upperLetter"):
        if not 0 < value <= 26 * 30:
            return ""
        # Word's letters run a..z, then aa..zz, aaa..zzz.
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter if number_format == "lowerLetter" else letter.upper()
    if number_format in ("lowerRoman", "upperRoman"):
        if not 0 < value < 4000:
            return ""
        roman = ""
        for amount, numeral in ROMAN:
            while value >= amount:
                roman, value = roman + numeral, value - amount
        return roman if number_format == "lowerRoman" else roman.upper()
    if number_format == "decimalZero" and 0 <= value < 10:
        return f"0{value}"
    if number_format == "ordinal":
        last = (
            "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
        )
        return f"{value}{last}"
    if number_format in ("cardinalText", "ordinalText"):
        return ""  # numbers in words: not numbers the importer reads
    return str(value)


def _style_list(chain: Iterable) -> tuple[int, str | None] | None:
    """A paragraph style's list level and numbering, from the style and those it is based on
    (``chain``, nearest first): its level from its name ("List Bullet 2" is level 1), else from
    its own numbering; None for a style that is no list's (a body text), _HEADING or _TITLE
    for a heading's or a title's."""
    for style in chain:
        name = (_value(style.find(qn("w:name"))) or "").lower()
        if "heading" in name:
            return _HEADING
        if name in ("title", "subtitle"):
            return _TITLE
        own = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        num_id = _value(own.find(qn("w:numId"))) if own is not None else None
        if num_id == "0":
            return None
        found = LIST_STYLE.search(name)
        if found:
            return (_level(int(found.group(2)) - 1) if found.group(2) else 0), num_id
        # A list style numbers its paragraphs itself, whatever it is called.
        if num_id is not None:
            return _level(_value(own.find(qn("w:ilvl"))) or 0), num_id
    return None
