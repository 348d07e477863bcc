"""Read a unit from its published text: training.gov.au pages, summary pages and UK NOS.

Pure and total: any text gives a result. The parser never invents content. Every source line
gets a role (what it became, or why it was dropped), and whatever it cannot place, or could only
place by a guess, is reported as a warning with its line number. What the text does not give
(a code, a title, a release, any criteria) is listed in ``missing`` for the person importing it
to supply.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from portfolio.units.schema import CODE_PATTERN

# Headings in the published layouts, lower case, to the section they start.
SECTION_HEADINGS = {
    "application": "application",
    "application of the unit": "application",
    "unit descriptor": "application",
    "overview": "application",
    "elements and performance criteria": "elements",
    "elements of competency performance criteria": "elements",
    "elements of competency": "elements",
    "performance criteria": "criteria",
    "performance evidence": "performance_evidence",
    "evidence of performance": "performance_evidence",
    "knowledge evidence": "knowledge_evidence",
    "evidence of knowledge": "knowledge_evidence",
    "knowledge and understanding": "knowledge_evidence",
    "assessment conditions": "assessment_conditions",
    "foundation skills": "foundation_skills",
    "range statement": "range_statement",
    "range of conditions": "range_statement",
    "sectors": "sector",
    "sector": "sector",
    "unit sector": "sector",
    "competency field": "competency_field",
    "unit competency field": "competency_field",
}

# Headings only a training.gov.au unit has: a text with one is never a UK standard.
PACKAGE_HEADINGS = {
    "elements and performance criteria",
    "elements of competency performance criteria",
    "elements of competency",
    "performance evidence",
    "evidence of performance",
    "knowledge evidence",
    "evidence of knowledge",
    "assessment conditions",
    "foundation skills",
    "range of conditions",
    "range statement",
    "unit descriptor",
    "application of the unit",
    "competency field",
    "unit sector",
}
NOS_MARKS = re.compile(
    r"^(urn\s*:|you must be able to\b|you need to know and understand\b)", re.IGNORECASE
)

# Headings of sections a unit file has no field for: their lines are reported, not imported.
OTHER_HEADINGS = {
    "modification history",
    "prerequisite unit",
    "prerequisite units",
    "pre-requisite unit",
    "pre-requisite units",
    "pre-requisites",
    "prerequisites",
    "unit mapping information",
    "mapping information",
    "links",
    "employability skills",
    "licensing/regulatory information",
    "required skills and knowledge",
    "required skills",
    "required knowledge",
    "evidence guide",
    "assessment requirements",
    "mapping",
    "scope/range",
    "scope",
    "scope performance",
    "scope knowledge",
    "values",
    "behaviours",
    "skills",
    "glossary",
    "links to other nos",
    "external links",
    "developed by",
    "version number",
    "date approved",
    "indicative review date",
    "validity",
    "status",
    "originating organisation",
    "original urn",
    "relevant occupations",
    "suite",
    "keywords",
    "companion volume",
    "companion volume implementation guide",
    "what you'll learn",
    "what you will learn",
}

# Sections every training.gov.au unit has and a unit file never holds: not imported, and not
# worth a warning on every import.
ROUTINE_HEADINGS = {
    "modification history",
    "unit mapping information",
    "mapping information",
    "links",
    "companion volume",
    "companion volume implementation guide",
    "assessment requirements",
}

# Lines of the page around the unit, not the unit: dropped wherever they appear.
BOILERPLATE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^google links$",
        r"^follow the links below\b",
        r"^skip to (main )?content$",
        r"^(home|search|print|share|download|back to top|menu|top)$",
        r"^training\.gov\.au\b.*$",
        r"^unit of competency( details)?$",
        r"^(print|download) (this page|unit|pdf|rtf|docx?)\b.*$",
        r"^(elements?|performance criteria)$",
        # The Word file's second part opens with its own title.
        r"^assessment requirements for\b",
        # An accredited course's unit template, in the criteria's heading cell.
        r"^assessment of performance is to be consistent with the evidence guide\b",
        # A "Mapping and Delivery Guide" page's template around the unit.
        r"^unit of competency mapping\b",
        r"^version \d+(\.\d+)*$",
        r"^issue date\s*:",
        r"^qualification\s*-?$",
        r"^duration and setting\b",
        r"^development and validation strategy and guide\b",
        r"^assessment \d+( assessment \d+)*$",
    )
]
# The sentences of the elements table's first row: a narrow page wraps them over lines.
PAGE_SENTENCES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(\d+\.\s*)?elements (describe|define) the essential( outcomes)?\b",
        r"^(\d+\.\s*)?performance criteria (describe|specify) the\b",
    )
]
BOILERPLATE += PAGE_SENTENCES
# The column headings of the foundation skills table.
TABLE_HEADINGS = {"skill", "skills", "performance", "criteria", "performance criteria"}
TABLE_DESCRIPTION = {"description", "descriptions"}
# Foundation skills named in the tables that have no criteria column.
KNOWN_SKILLS = {
    "reading",
    "writing",
    "oral communication",
    "numeracy",
    "learning",
    "problem solving",
    "initiative and enterprise",
    "teamwork",
    "planning and organising",
    "self-management",
    "self management",
    "technology",
    "navigate the world of work",
    "interact with others",
    "get the work done",
}

ELEMENT_ALONE = re.compile(r"^(\d{1,2})\.?$")
CRITERION_ALONE = re.compile(r"^(\d{1,2}\.\d{1,2})\.?$")
ELEMENT_INLINE = re.compile(r"^(\d{1,2})\.?\s+(\S.*)$")
CRITERION_INLINE = re.compile(r"^(\d{1,2}\.\d{1,2})\.?\s+(\S.*)$")
NUMBERED = re.compile(r"^\d{1,3}[.)]\s+(\S.*)$")
LIST_NUMBER = re.compile(r"^(\d{1,3})[.)]\s")
#: Word's list levels: no unit's list nests deeper.
LEVELS = 9
# A list item's letter or Roman numeral: "a.", "b)", "(c)", "ii.", "(IV)".
LETTERED = re.compile(
    r"^(?:\(([a-zA-Z]|[ivx]{1,6}|[IVX]{1,6})\)|([a-zA-Z]|[ivx]{1,6}|[IVX]{1,6})[.)])\s+(?=\S)"
)
# An item numbered under a numbered item, as Word's outline numbering shows it: "1.2", "1.2.".
OUTLINE = re.compile(r"^(\d{1,3})\.(\d{1,3})\.?\s+(?=\S)")
ROMAN_VALUES = {"i": 1, "v": 5, "x": 10}
BULLET = re.compile(r"^(?:[•●◦▪■\-–*·]\s*(?=\S)|\+\s+)")
# A bullet as Word's text copy of a list gives it: the level's symbol, then a tab. Word's
# bulleted lists show "•" at the first level, "o" at the second and a square at the third
# (Symbol, Courier New and Wingdings characters, some in the private use area).
WORD_BULLET = re.compile(
    r"^([ \t]*)(o|§|[\uf0a7\uf0b7\uf0d8\uf0fc\uf076\uf06e]|[•●◦▪■·▫○□►▶‣⁃∙➢✓])(?:\t+| +)(?=\S)"
)
WORD_BULLET_LEVELS = {"o": 1, "§": 2, "\uf0a7": 2}
# A numbered or lettered item as Word's text copy gives it: "1.", "a)" or "(ii)", then a tab,
# on a line with no other tab (a table row's cells are split by tabs too).
WORD_NUMBER = re.compile(
    r"^([ \t]*)(\(?(?:\d{1,3}(?:\.\d{1,3})?[.)]?|(?:[a-zA-Z]|[ivx]{1,6}|[IVX]{1,6})[.)]))"
    r"\t+(?=[^\t]+$)"
)
REF = r"\d{1,2}\.\d{1,2}(?:\s*[-–]\s*\d{1,2}\.\d{1,2})?"
REFS = re.compile(rf"^{REF}(?:\s*,\s*{REF})*$")
BAND = re.compile(r"^band\s*:\s*(\S.*)$", re.IGNORECASE)
UNIT_WEIGHT = re.compile(r"^unit weight\s*:\s*(\d{1,3})$", re.IGNORECASE)
RELEASE = re.compile(r"^release\s*:?\s*(\d{1,3})\b", re.IGNORECASE)
URN = re.compile(r"^(?:urn|unit code|code)\s*:\s*([A-Z][A-Z0-9]{2,31})$", re.IGNORECASE)
NOS_SUITE = re.compile(r"^business sectors? \(suites?\)\s*:\s*(\S.*)$", re.IGNORECASE)
# Lines of a NOS page's header a unit file has no field for.
NOS_METADATA = re.compile(
    r"^(developed by|approved on|version|date approved|indicative review date|validity|status|"
    r"originating organisation|original urn|relevant occupations|suite|keywords)\b\s*:?",
    re.IGNORECASE,
)
CODE_AND_TITLE = re.compile(r"^(?:unit code\s*:?\s*)?([A-Z][A-Z0-9]{2,31})\s*(?:[-–—:]\s*)?(.*)$")
# A training package unit's code (BSBCUS501, MEM12024A) or an accredited course's (VU23226).
CODE_LIKE = re.compile(r"^(?:[A-Z]{3,}[A-Z0-9]*\d[A-Z0-9]*|VU\d{5})$")
TITLE_LABEL = re.compile(r"^unit title\s*:?\s*(\S.*)$", re.IGNORECASE)
# "Unit of Competency ICPSU345C - Purchase materials ...": a labelled code and title, which
# an unlabelled "CODE words" line elsewhere ("ICPSU345C Mapping and Delivery Guide") is not.
UNIT_LABEL = re.compile(r"^(?i:unit of competency)\s*:?\s*([A-Z][A-Z0-9]{2,31})\s*[-–—:]\s*(\S.*)$")
# Headings whose value is the line after them (an accredited course's unit).
VALUE_HEADINGS = {"unit code": "code", "unit title": "title"}
# "Element: Identify material requirements", its criteria bulleted under it.
ELEMENT_LABEL = re.compile(r"^element\s*(\d{1,2})?\s*[:.\-–]\s*(\S.*)$", re.IGNORECASE)
# An old criterion says what is done: "Correct tools are chosen", "Equipment is cleaned" (in
# its main clause: "Manage networks to ensure needs are addressed" is an element).
CRITERION_WORDING = re.compile(
    r"^(?:(?!(?:to|that|which|so|when|where|if|until|ensure)\b)\S+\s+){1,6}?(?:is|are)\s+(?:\w+ly\s+)?(?:\w+ed|\w+en|made|kept|done|shown|"
    r"held|met|set|sought|built|found|known|taken|given)\b",
    re.IGNORECASE,
)
# A sentence that names the section it leads: "The elements and performance criteria include:".
SECTION_LEAD_IN = re.compile(
    r"^(?:the\s+)?(.*?\S)\s+(?:of this unit\s+)?(?:include|includes|are|is)\s*:$", re.IGNORECASE
)
# training.gov.au's heading gives the release after the title: "Provide First Aid (Release 1)".
TITLE_RELEASE = re.compile(r"^(.*?\S)\s*\(release\s+(\d{1,3})\)$", re.IGNORECASE)
# Within a line: every kind of space, and the zero-width one.
SPACES = re.compile(r"[\s\u200b]+")
NOTE = re.compile(r"^note\b", re.IGNORECASE)
# A converter's Markdown: headings, tables, line breaks inside cells, bold.
# (Within a line: a "\s" at a line's start would run on over every blank line after it.)
MD_SIGNS = re.compile(
    r"^ {0,3}#{1,6}[^\S\n]+\S|^[^\S\n]*\|.*\|[^\S\n]*$|<br\s*/?>|\*\*\S", re.MULTILINE | re.I
)
# (Possessive: on a line of spaces or dashes, backtracking takes time growing with the square
# of the line's length.)
MD_TABLE_RULE = re.compile(r"^\s*+\|?\s*+:?-{3,}+:?\s*+(?:\|\s*+:?-{3,}+:?\s*+)*+\|?\s*+$")
MD_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# (Spaces before closing marks only after a character that is none: each try of a run of
# spaces would otherwise run on to the line's end.)
MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)(?:(?<=\S)\s+#+)?$")
# (No bracket inside either part: on a line of unclosed links each would be searched to the
# line's end.)
MD_LINK = re.compile(r"\[([^\[\]]+)\]\([^)\s\[\]]*\)")
# Bold marks, dropped wherever they stand (a pair-matching pattern takes time growing with the
# square of a line's length on a line of unclosed marks).
MD_STRONG = re.compile(r"\*\*|(?<![\w_])__(?=[^\s_])|(?<=[^\s_])__(?![\w_])")
MD_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
INTRO_WORDS = re.compile(
    r"\b(evidence|competence|competency|demonstrat\w*|candidate|individual|ability to)\b",
    re.IGNORECASE,
)


# The causes of warnings, as the import page and the command group them.
NOT_PLACED = "lines not placed"
BY_WORDING = "nesting decided by wording, not shown in the text"
EMPTY_LIST = "lead-in lines with no items after them"
OUT_OF_ORDER = "numbers out of order"
NOT_IMPORTED = "sections a unit file has no field for"
REPEATED = "sections printed again with other content"
INCOMPLETE = "table rows or terms with a part missing"


@dataclass(frozen=True, order=True)
class ParseWarning:
    """Something in the text the parser could not place, or placed by a guess."""

    line: int
    message: str
    cause: str = field(default=NOT_PLACED, compare=False)

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class WarningGroup:
    """The warnings of one cause: the import page and the command list the biggest first."""

    cause: str
    warnings: list[ParseWarning]

    @property
    def lines(self) -> list[int]:
        return [warning.line for warning in self.warnings]

    def __str__(self) -> str:
        shown = ", ".join(str(n) for n in self.lines[:8])
        more = ", ..." if len(self.lines) > 8 else ""
        noun = "line" if len(self.lines) == 1 else "lines"
        return f"{len(self.warnings)} {self.cause} ({noun} {shown}{more})"


@dataclass(frozen=True)
class Line:
    number: int  # 1-based line of the source text
    text: str  # spaces normalised, bullet and list number removed
    indent: int  # leading spaces (a tab counts four)
    marked: bool = False  # had a bullet or a list number
    # The column of the table cell this line starts (0 for a row's first cell); None for a
    # line that is not the start of a table cell, or where the text shows no table.
    cell: int | None = None

    @property
    def key(self) -> str:
        return self.text.lower().rstrip(":").strip()


@dataclass
class ParsedUnit:
    """What the text gave: unit file fields, each line's role, and warnings."""

    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)
    roles: dict[int, str] = field(default_factory=dict)
    #: Lines that are not the unit's: page text, sections a unit file has no field for, text
    #: printed twice.
    dropped: set[int] = field(default_factory=set)
    #: Lines among the criteria that read as part of one (they start in lower case, or are
    #: bulleted) but that the text does not tie to any: saved without them, the criteria would
    #: be incomplete.
    lost: list[int] = field(default_factory=list)
    #: Why the text cannot be read right, found while reading it (in one line each).
    doubts: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Fields a unit needs that the text did not give."""
        needed = [name for name in ("code", "title", "release") if not self.data.get(name)]
        if not self.data.get("elements") and not self.data.get("criteria"):
            needed.append("criteria")
        return needed

    @property
    def refusal(self) -> str | None:
        """Why the text cannot become a unit whatever the admin types, in one line; None when
        it can. Most lines unplaced, or a section the unit's framework needs is missing."""
        kept = [role for number, role in self.roles.items() if number not in self.dropped]
        unplaced = sum(1 for role in kept if role == "not placed")
        if kept and unplaced * 2 > len(kept):
            return (
                f"{unplaced} of the text's {len(kept)} lines could not be placed: it does not "
                "read as a unit in any layout this importer knows."
            )
        if self.doubts:
            return self.doubts[0]
        if self.lost:
            shown = ", ".join(str(n) for n in self.lost[:8]) + (
                ", ..." if len(self.lost) > 8 else ""
            )
            some = (
                f"{len(self.lost)} lines among the criteria (lines {shown}) read"
                if len(self.lost) > 1
                else f"1 line among the criteria (line {shown}) reads"
            )
            return (
                f"{some} as part of a criterion, but the text does not show which one: saved, "
                "the criteria would be incomplete. Number or bullet each criterion, then read "
                "the text again."
            )
        if self.data.get("framework") == "nos" and not self.data.get("criteria"):
            return (
                "The text reads as a UK standard but gives no performance criteria: a standard "
                "needs its 'You must be able to' list."
            )
        if self.data.get("framework") == "training_package" and not self.data.get("elements"):
            return (
                "The text gives no elements: a training.gov.au unit needs its 'Elements and "
                "Performance Criteria' section with numbered elements."
            )
        return None

    def warn(self, line: int, message: str, cause: str = NOT_PLACED) -> None:
        self.warnings.append(ParseWarning(line, message, cause))

    def warning_groups(self) -> list[WarningGroup]:
        """The warnings by cause, the cause with most lines first (then the earliest)."""
        by_cause: dict[str, list[ParseWarning]] = {}
        for warning in sorted(self.warnings):
            by_cause.setdefault(warning.cause, []).append(warning)
        groups = [WarningGroup(cause, found) for cause, found in by_cause.items()]
        return sorted(groups, key=lambda g: (-len(g.warnings), g.warnings[0].line))

    def role(self, line: Line | int, role: str) -> None:
        number = line if isinstance(line, int) else line.number
        self.roles.setdefault(number, role)

    def drop(self, line: Line | int, reason: str) -> None:
        """A line that is not part of the unit, and why."""
        number = line if isinstance(line, int) else line.number
        if number not in self.roles:
            self.roles[number] = reason
            self.dropped.add(number)

    def warnings_by_line(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for warning in sorted(self.warnings):
            found.setdefault(warning.line, []).append(warning.message)
        return found


def parse_unit_text(text: str) -> ParsedUnit:
    """Parse the published text of one unit."""
    result = ParsedUnit()
    lines = list(_lines(text))
    nos = _reads_as_nos(lines)
    header, sections = _split_sections(lines, result, nos=nos)
    _read_header(header, result)
    seen: dict[str, list[Line]] = {}
    for name, heading, body in sections:
        if name in seen:
            if [line.text for line in body] == [line.text for line in seen[name]]:
                first = seen[name][0].number if seen[name] else heading.number
                result.drop(heading, f"printed twice (as from line {first}); not imported again")
                for line in body:
                    result.drop(line, "printed twice; not imported again")
            else:
                result.drop(heading, "a second section of this name: not imported")
                result.warn(
                    heading.number,
                    f"'{heading.text}' appears a second time with different content; "
                    "only the first was imported",
                    REPEATED,
                )
                for line in body:
                    result.drop(line, "not imported (second section of this name)")
            continue
        seen[name] = body
        result.role(heading, f"heading: {name.replace('_', ' ')}")
        READERS[name](body, result)
    result.data["framework"] = "nos" if nos else "training_package"
    result.warnings.sort()
    return result


def _lines(text: str) -> Iterator[Line]:
    """Non-empty lines with spaces normalised; table cells (tabs, or a Markdown table's pipes)
    become lines of their own, as do the parts of a cell split by ``<br>``."""
    # Whatever ends them: a browser sends a text box's lines ended by CR LF, as Windows files
    # are, and the Markdown signs are looked for line by line.
    raws = text.splitlines()
    markdown = _is_markdown("\n".join(raws))
    bulleted = False  # whether the last line with text was a bulleted one
    for number, raw in enumerate(raws, start=1):
        raw = _word_bullet(raw, bulleted)
        if raw.strip():
            bulleted = bool(BULLET.match(raw.strip()))
        if markdown and MD_TABLE_RULE.match(raw):
            continue
        if markdown and raw.lstrip().startswith("|"):
            cells = _markdown_cells(raw)
            row = True
        else:
            cells = _text_cells(raw)
            # A page's table copied as "text |" lines holds one cell a line: which column
            # it was in is known only where a line holds two cells or more.
            row = sum(1 for parts in cells if any(part.strip() for part in parts)) > 1
        for column, parts in enumerate(cells):
            for part_number, part in enumerate(parts):
                cell = column if row and part_number == 0 else None
                yield from _cell_line(number, part, markdown, cell)


def _word_bullet(raw: str, bulleted: bool) -> str:
    """A line of Word's text copy of a list as a bullet indented by its level ("o\tnoise" is
    an item of the second level), or as its number and text ("1.\tplans"), so that the tab
    after the symbol or number splits no cells and the symbol is not taken for text. An "o" or
    "§" with a space after it is a bullet only where it goes on a bulleted list."""
    number = WORD_NUMBER.match(raw)
    if number:
        return f"{number.group(1)}{number.group(2)} {raw[number.end() :]}"
    bullet = WORD_BULLET.match(raw)
    if not bullet:
        return raw
    tab = "\t" in raw[bullet.end(2) : bullet.end()]
    if bullet.group(2) in ("o", "§") and not tab and not bulleted:
        return raw  # "o ring seals": a word, unless it goes on a bulleted list
    indent = "    " * WORD_BULLET_LEVELS.get(bullet.group(2), 0)
    return f"{bullet.group(1)}{indent}• {raw[bullet.end() :]}"


def _text_cells(raw: str) -> list[list[str]]:
    """A line's cells, split by tabs or by `` | `` (a table row copied from a page), each as
    its ``<br>``-separated parts; a line that is no row is one cell."""
    if not re.search(r"\S(\t|\s\|)", raw):
        return [_breaks(raw, strip=False)]
    # (A run of spaces is tried once, from its start: tried from each of its spaces, a long
    # run would take time growing with the square of its length.)
    pieces = re.split(r"\t+|(?<!\s)\s++\|(?:\s+|$)", raw)
    return [_breaks(piece, strip=True) for piece in pieces]


def _breaks(cell: str, *, strip: bool) -> list[str]:
    first, *rest = MD_BREAK.split(cell)
    return [first.strip() if strip else first, *(part.strip() for part in rest)]


def _cell_line(number: int, raw: str, markdown: bool, cell: int | None) -> Iterator[Line]:
    expanded = raw.replace("\t", "    ")
    indent = len(expanded) - len(expanded.lstrip(" \u00a0"))
    body = SPACES.sub(" ", expanded).strip()
    if markdown:
        # (Again: character references, "&#160;", are spaces too once read.)
        body = SPACES.sub(" ", _markdown_text(body)).strip()
    if not body or not any(ch.isalnum() for ch in body):
        return
    marked = False
    bullet = BULLET.match(body)
    if bullet and len(body) > bullet.end():
        body, marked = body[bullet.end() :].strip(), True
    yield Line(number, body, indent, marked, cell)


def _is_markdown(text: str) -> bool:
    """Markdown headings, a Markdown table or ``<br>`` in a line: a converter's Markdown."""
    return bool(MD_SIGNS.search(text))


def _markdown_cells(raw: str) -> list[list[str]]:
    """A Markdown table row's cells, each as its ``<br>``-separated parts."""
    inner = raw.strip()
    inner = inner[1:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner[1:]
    return [_breaks(cell, strip=True) for cell in re.split(r"(?<!\\)\|", inner)]


def _markdown_text(body: str) -> str:
    """A line without its Markdown: heading marks, bold, links and escapes removed. An
    escaped character is set aside first, so that it is never read as a mark."""
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\ue000{len(kept) - 1}\ue001"

    body = MD_ESCAPE.sub(set_aside, body)
    heading = MD_HEADING.match(body)
    if heading:
        body = heading.group(1)
    body = MD_LINK.sub(r"\1", body)
    body = MD_STRONG.sub("", body)
    body = MD_EMPHASIS.sub(r"\1", body)
    body = re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], body)
    return html.unescape(body).strip()


def _reads_as_nos(lines: list[Line]) -> bool:
    """A UK standard has its marks (a URN, "You must be able to", "You need to know and
    understand"); a text with elements, numbered criteria or training.gov.au's section names is
    never one, whatever else it has."""
    marked = any(NOS_MARKS.match(line.text) for line in lines)
    package = any(
        line.key in PACKAGE_HEADINGS or CRITERION_INLINE.match(line.text) for line in lines
    )
    return marked and not package


def names_a_section(text: str) -> bool:
    """Whether ``text`` is the heading of a section of a unit's page ("Performance Evidence",
    "Unit Mapping Information")."""
    key = text.lower().rstrip(":").strip()
    return key in SECTION_HEADINGS or key in OTHER_HEADINGS or key in ROUTINE_HEADINGS


def _heading_key(line: Line) -> str:
    """What a line would be looked up by as a heading: "" for a line that cannot be one. A
    training provider's page may name a section in a sentence that leads it ("The elements
    and performance criteria include:"): that is its heading."""
    if not line.text[0].isupper() or line.marked:
        return ""
    named = SECTION_LEAD_IN.match(line.text)
    if named and named.group(1).lower() in SECTION_HEADINGS:
        return named.group(1).lower()
    return line.key


def _split_sections(
    lines: list[Line], result: ParsedUnit, *, nos: bool
) -> tuple[list[Line], list[tuple[str, Line, list[Line]]]]:
    header: list[Line] = []
    sections: list[tuple[str, Line, list[Line]]] = []
    skipped: Line | None = None
    wrapped: Line | None = None  # the table's sentence dropped as page text, while it goes on
    current: list[Line] = header
    # Not a UK standard: "Performance criteria" is a table's column heading (of the elements
    # or the foundation skills), unless the text has no elements heading for it to be under.
    has_elements = any(SECTION_HEADINGS.get(_heading_key(line)) == "elements" for line in lines)
    for index, line in enumerate(lines):
        if wrapped is not None and _wraps_on(wrapped, line):
            # The rest of the table's sentence a PDF or a narrow column wrapped ("Elements
            # describe the essential" / "outcomes.").
            result.drop(line, f"page text, the rest of line {wrapped.number}: dropped")
            wrapped = line
            continue
        wrapped = None
        key = _heading_key(line)
        name = SECTION_HEADINGS.get(key)
        if name == "criteria" and not nos:
            in_table = bool(sections) and sections[-1][0] in ("elements", "foundation_skills")
            name = None if has_elements or in_table else "elements"
        if _opens_elements_table(lines, index) and not (sections and sections[-1][0] == "elements"):
            # An accredited course's unit puts the elements table under another heading.
            name = "elements"
        if (
            name is not None
            and key != line.key
            and sections
            and sections[-1][0] == name
            and not sections[-1][2]
        ):
            # "The knowledge evidence of this unit includes:" under the heading "Knowledge
            # Evidence" is that section's lead-in, not a second section.
            name = None
        if name is not None:
            sections.append((name, line, []))
            current, skipped = sections[-1][2], None
            continue
        if key in OTHER_HEADINGS:
            skipped = line
            result.drop(line, "heading of a section a unit file has no field for")
            if key not in ROUTINE_HEADINGS:
                result.warn(
                    line.number,
                    f"'{line.text}' is not part of a unit file; the lines under it were not "
                    "imported",
                    NOT_IMPORTED,
                )
            current = []
            continue
        if skipped is not None:
            result.drop(line, f"not imported (under '{skipped.text}')")
            continue
        if _is_boilerplate(line):
            result.drop(line, "page text, not the unit: dropped")
            if any(pattern.match(line.text) for pattern in PAGE_SENTENCES):
                wrapped = line
            continue
        current.append(line)
    return header, sections


def _wraps_on(before: Line, line: Line) -> bool:
    """Whether ``line`` is the rest of the sentence ``before`` began: ``before`` stops short
    of a full stop or a colon, and ``line`` goes on in lower case, with no bullet or number."""
    return not before.text.endswith((".", ":")) and _goes_on(line)


def _opens_elements_table(lines: list[Line], index: int) -> bool:
    """The header row of the elements table: "ELEMENTS | PERFORMANCE CRITERIA"."""
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else None
    return (
        line.cell == 0
        and line.key in ("element", "elements")
        and following is not None
        and following.cell == 1
        and following.key == "performance criteria"
    )


def _is_boilerplate(line: Line) -> bool:
    return any(pattern.match(line.text) for pattern in BOILERPLATE)


def _read_header(lines: list[Line], result: ParsedUnit) -> None:
    """Code, title and release from the lines before the first heading."""
    data = result.data
    pending_title = False
    unplaced: list[Line] = []
    value_follows = False  # "Approved on:" with its value on the next line
    labelled = next(
        (line for line in lines if (m := UNIT_LABEL.match(line.text)) and CODE_LIKE.match(m[1])),
        None,
    )
    if labelled is not None:
        found = UNIT_LABEL.match(labelled.text)
        data["code"] = found.group(1)
        _set_title(found.group(2).strip(), labelled, result)
        result.role(labelled, "code and title")
    value_of: str | None = None  # a "UNIT CODE" or "UNIT TITLE" heading, its value next
    # The line that gave the title, and the start of the code and title printed again, while
    # a narrow page's wrapped lines may go on from them.
    titled: Line | None = None
    again: Line | None = None
    for line in lines:
        if line is labelled:
            continue
        if (
            titled is not None
            and _goes_on(line)
            and not RELEASE.match(line.text)
            and _has_room(data["title"])
        ):
            # Read as the title's own line is: "... (Release 1)" at its end is the release.
            _set_title(f"{data['title']} {line.text}", titled, result)
            result.role(line, f"the rest of the title (line {titled.number})")
            continue
        if again is not None and _goes_on(line):
            repeated = f"{again.text} {line.text}"
            if _repeats_code_and_title(repeated, data, start=True) or _repeats_code_and_title(
                repeated, data
            ):
                again = replace(again, text=repeated)
                result.drop(line, "code and title again: not imported again")
                continue
        titled = again = None
        if line.key in VALUE_HEADINGS and not line.marked:
            value_of = VALUE_HEADINGS[line.key]
            result.role(line, f"heading: {value_of}")
            continue
        if value_of is not None:
            field_name, value_of = value_of, None
            if field_name == "code" and CODE_LIKE.match(line.text) and "code" not in data:
                data["code"] = line.text
                result.role(line, "code")
                continue
            if field_name == "title" and _is_title(line.text) and "title" not in data:
                _set_title(line.text, line, result)
                result.role(line, "title")
                continue
        urn = URN.match(line.text)
        suite = NOS_SUITE.match(line.text)
        if urn and "code" not in data:
            data["code"] = urn.group(1).upper()
            result.role(line, "code")
            continue
        if suite and "sector" not in data:
            data["sector"] = suite.group(1)
            result.role(line, "sector")
            continue
        if NOS_METADATA.match(line.text) or value_follows:
            result.drop(line, "page details a unit file has no field for: not imported")
            value_follows = bool(NOS_METADATA.match(line.text)) and line.text.endswith(":")
            continue
        release = RELEASE.match(line.text)
        title_label = TITLE_LABEL.match(line.text)
        code = CODE_AND_TITLE.match(line.text)
        if release and "release" not in data:
            data["release"] = int(release.group(1))
            result.role(line, "release")
        elif title_label and "title" not in data:
            _set_title(title_label.group(1), line, result)
            result.role(line, "title")
            titled = line
        elif (
            code
            and "code" not in data
            and CODE_LIKE.match(code.group(1))
            and CODE_PATTERN.match(code.group(1))
        ):
            data["code"] = code.group(1)
            title = code.group(2).strip()
            after = RELEASE.match(title)
            if after and "release" not in data:
                data["release"] = int(after.group(1))
                result.role(line, "code and release")
                pending_title = "title" not in data
            elif title and not _is_title(title):
                # "CODE - 3": a number is not a title, and the text does not say what it is.
                result.role(line, "code")
                result.warn(
                    line.number,
                    f"'{_short(title)}' after the code is not a title: type the title",
                    NOT_PLACED,
                )
            elif title and "title" not in data:
                _set_title(title, line, result)
                result.role(line, "code and title")
                titled = line
            else:
                result.role(line, "code")
                pending_title = "title" not in data
            continue
        elif _repeats_code_and_title(line.text, data):
            result.drop(line, "code and title again: not imported again")
        elif _repeats_code_and_title(line.text, data, start=True):
            again = line
            result.drop(line, "code and title again: not imported again")
        elif pending_title and _is_title(line.text):
            _set_title(line.text, line, result)
            result.role(line, "title")
            titled = line
        elif not _read_band(line, result):
            unplaced.append(line)
        pending_title = False
    # A NOS page opens with its title, then its URN; a unit's page may open with its title
    # and release as training.gov.au heads it ("Provide First Aid (Release 1)").
    if (
        unplaced
        and "title" not in data
        and unplaced[0] is lines[0]
        and ("code" in data or TITLE_RELEASE.match(unplaced[0].text))
        and _is_title(unplaced[0].text)
    ):
        title = unplaced.pop(0)
        _set_title(title.text, title, result)
        result.role(title, "title" if "code" in data else "title and release")
    for line in unplaced:
        result.role(line, "not placed")
        result.warn(line.number, f"not placed: '{_short(line.text)}' comes before any heading")


def _set_title(text: str, line: Line, result: ParsedUnit) -> None:
    """The title, and the release where the title line ends with it ("... (Release 2)"); a
    release that differs from one the text gave before is reported, the first kept."""
    data = result.data
    with_release = TITLE_RELEASE.match(text)
    if with_release:
        text, release = with_release.group(1), int(with_release.group(2))
        given = data.setdefault("release", release)
        if given != release:
            result.warn(
                line.number,
                f"release {release} after the title, but the text gave release {given} before: "
                f"release {given} kept; type the release if it is {release}",
            )
    data["title"] = text


def _is_title(text: str) -> bool:
    """A title is words: not a number, a release or a code on its own."""
    words = re.findall(r"[^\W\d_]{2,}", text)
    return bool(words) and not RELEASE.match(text) and not CODE_LIKE.match(text)


def _repeats_code_and_title(text: str, data: dict[str, Any], *, start: bool = False) -> bool:
    """The Word file of a unit prints "CODE Title" again above the unit's first section
    (``text``; with ``start``, the start of it, where a narrow page wrapped it)."""
    code, title = data.get("code"), data.get("title")
    if not code or not title:
        return False

    def plain(text: str) -> str:
        return re.sub(r"\s*[-–—:]\s*", " ", text).strip().lower()

    given, wholes = plain(text), (plain(f"{code} {title}"), plain(title))
    if start:
        return any(whole.startswith(f"{given} ") for whole in wholes)
    return given in wholes


def _goes_on(line: Line) -> bool:
    """A line that goes on from the line before it, wrapped by a PDF or a narrow page: in lower
    case, with no bullet or number."""
    return not line.marked and line.text[0].islower()


def _read_band(line: Line, result: ParsedUnit) -> bool:
    """MEM units give their band and unit weight as lines of their own."""
    band, weight = BAND.match(line.text), UNIT_WEIGHT.match(line.text)
    if band and "band" not in result.data:
        result.data["band"] = band.group(1)
        result.role(line, "band")
        return True
    if weight and "unit_weight" not in result.data:
        result.data["unit_weight"] = int(weight.group(1))
        result.role(line, "unit weight")
        return True
    return False


def _read_application(lines: list[Line], result: ParsedUnit) -> None:
    paragraphs = result.data.setdefault("application", [])
    for line in lines:
        if not _read_band(line, result):
            paragraphs.append(line.text)
            result.role(line, f"application, paragraph {len(paragraphs)}")
    if not paragraphs:
        del result.data["application"]


def _read_elements(lines: list[Line], result: ParsedUnit) -> None:
    """Elements with criteria: numbers on lines of their own, inline, or elements only."""
    elements: list[dict[str, Any]] = []
    lines_of: list[Line] = []
    expect: tuple[str, str] | None = None  # ("element" | "criterion", number)
    placed: set[int] = set()  # lines that gave an element or a criterion its text
    # The last element was labelled "Element:" and its criteria are bulleted under it (at the
    # indentation of the first of them); positional: an element labelled without a number.
    labelled, bullet_indent, positional = False, None, False
    # The bulleted lines under a criterion that leads a list ("... including:"), while read.
    sublist: list[Line] = []
    before: list[Line | None] = [None, *lines][: len(lines)]
    for previous, line in zip(before, lines, strict=True):
        if sublist:
            if _goes_on_a_criterions_list(line, bullet_indent if labelled else None):
                sublist.append(line)
                continue
            _read_criterions_list(sublist, elements[-1]["criteria"][-1], placed, result)
            sublist = []
        if expect is not None:
            kind, number = expect
            expect = None
            if not (CRITERION_ALONE.match(line.text) or ELEMENT_ALONE.match(line.text)):
                _add_numbered(kind, number, line.text, line, elements, lines_of, result)
                _mark_placed(line, placed, result)
                continue
            result.warn(line.number - 1, f"number {number} has no text after it", INCOMPLETE)
        alone = CRITERION_ALONE.match(line.text) or ELEMENT_ALONE.match(line.text)
        inline = CRITERION_INLINE.match(line.text) or ELEMENT_INLINE.match(line.text)
        if alone:
            expect = ("criterion" if "." in alone.group(1) else "element", alone.group(1))
            result.role(line, "number")
            labelled = False
        elif inline:
            labelled = False
            kind = "criterion" if "." in inline.group(1) else "element"
            parts = [(inline.group(1), inline.group(2))]
            if kind == "criterion":
                parts = _criteria_on_one_line(inline.group(1), inline.group(2))
            for number, text in parts:
                _add_numbered(kind, number, text, line, elements, lines_of, result)
            _mark_placed(line, placed, result)
        elif label := ELEMENT_LABEL.match(line.text):
            number = label.group(1) or str(len(elements) + 1)
            _add_numbered("element", number, label.group(2), line, elements, lines_of, result)
            _mark_placed(line, placed, result)
            labelled, bullet_indent = True, None
            positional = positional or label.group(1) is None
        elif (
            line.marked
            and previous is not None
            and _leads_a_list(previous, elements, placed, labelled=labelled)
            and (not labelled or bullet_indent is None or line.indent > bullet_indent)
        ):
            sublist = [line]
        elif (
            labelled
            and line.marked
            and (bullet_indent is None or line.indent <= bullet_indent)
            and not _leads_a_list_unread(elements[-1])
        ):
            # A criterion bulleted under its labelled element: numbered in order. (A bullet
            # indented further is the list of the criterion before it; one at the criteria's
            # indentation under a criterion that leads a list is neither: the text does not
            # show which it is.)
            bullet_indent = line.indent
            number = f"{elements[-1]['number']}.{len(elements[-1]['criteria']) + 1}"
            _add_numbered("criterion", number, line.text, line, elements, lines_of, result)
            _mark_placed(line, placed, result)
        elif _read_band(line, result):
            continue
        elif previous is not None and previous.number in placed and _continues(line, elements):
            role = result.roles.get(previous.number, "text").removesuffix(" (continued)")
            result.role(line, f"{role} (continued)")
            placed.add(line.number)
        else:
            labelled = False
            result.role(line, "not placed")
            result.warn(
                line.number,
                f"not placed: '{_short(line.text)}' is not a numbered element "
                "or performance criterion",
            )
    if sublist:
        _read_criterions_list(sublist, elements[-1]["criteria"][-1], placed, result)
    if expect is not None:
        result.warn(lines[-1].number, f"number {expect[1]} has no text after it", INCOMPLETE)
    _find_lost(lines, placed, result)
    _drop_repeated_list(elements, lines_of, result)
    _criteria_in_summary_list(elements, lines_of, result)
    _renumber_summary_list(elements, lines_of, result)
    if positional or not any(e["criteria"] for e in elements):
        _refuse_a_title_listed_twice(elements, result)
    if elements:
        result.data["elements"] = elements


def _refuse_a_title_listed_twice(elements: list[dict[str, Any]], result: ParsedUnit) -> None:
    """A list of element titles (a summary page's, or elements numbered only by their order)
    that names one twice runs two units' or releases' lists together, or prints one again
    part way (a list printed twice whole is read once)."""
    first_at: dict[str, int] = {}
    for twice, element in enumerate(elements):
        first = first_at.setdefault(element["title"].strip().rstrip(".").lower(), twice)
        if first != twice:
            break
    else:
        return
    result.doubts.append(
        f"Elements {first + 1} and {twice + 1} have the same title "
        f"('{_short(elements[first]['title'])}'): the text lists elements of more than one "
        "unit or release, or lists some twice. Keep one list, then read the text again."
    )


def _leads_a_list(
    previous: Line, elements: list[dict[str, Any]], placed: set[int], *, labelled: bool
) -> bool:
    """Whether the line before is (the end of) a criterion that the bulleted lines after it
    are the list of: one that leads a list with its colon ("1.1 Identify hazards including:"),
    or any numbered criterion (criteria bulleted under an "Element:" label are criteria)."""
    if previous.number not in placed or not elements or not elements[-1]["criteria"]:
        return False
    return elements[-1]["criteria"][-1]["text"].endswith(":") or not labelled


def _leads_a_list_unread(element: dict[str, Any]) -> bool:
    """Whether the element's last criterion leads a list with its colon but has none read."""
    criteria = element["criteria"]
    return bool(criteria) and criteria[-1]["text"].endswith(":") and not criteria[-1].get("items")


def _goes_on_a_criterions_list(line: Line, criteria_indent: int | None = None) -> bool:
    """A line of a criterion's list, or the rest of one the text wrapped: bulleted or going on
    in lower case, and no element or criterion of its own (nor, where the criteria are bulleted
    at ``criteria_indent``, a bullet at their indentation: the next criterion)."""
    if not (line.marked or line.text[0].islower()):
        return False
    if line.marked and criteria_indent is not None and line.indent <= criteria_indent:
        return False
    numbered = (CRITERION_ALONE, ELEMENT_ALONE, CRITERION_INLINE, ELEMENT_INLINE, ELEMENT_LABEL)
    return not any(pattern.match(line.text) for pattern in numbered)


def _read_criterions_list(
    lines: list[Line], criterion: dict[str, Any], placed: set[int], result: ParsedUnit
) -> None:
    """The list a criterion leads, read as every list is, kept with the criterion: it is part
    of what the criterion asks. Where the criterion does not end with a colon, the text does
    not show that the list is its: reported."""
    number = criterion["number"]
    criterion["items"] = _read_list(lines, result, f"criterion {number}, item")
    placed.update(line.number for line in lines)
    if not criterion["text"].endswith(":"):
        result.warn(
            lines[0].number,
            f"taken as a list under criterion {number}, which does not end with a colon: "
            "check that it is the criterion's",
            BY_WORDING,
        )


def _mark_placed(line: Line, placed: set[int], result: ParsedUnit) -> None:
    if result.roles.get(line.number, "").startswith(("element", "criterion")):
        placed.add(line.number)


def _continues(line: Line, elements: list[dict[str, Any]]) -> bool:
    """A line the text wrapped (a PDF's or a narrow page's): it starts in lower case right
    after an element or criterion, so it is the rest of that one's text."""
    if not elements or line.marked or not line.text[0].islower():
        return False
    last = elements[-1]
    target, key = (last["criteria"][-1], "text") if last["criteria"] else (last, "title")
    if not _has_room(target[key]):
        return False
    target[key] = f"{target[key]} {line.text}"
    return True


def _add_numbered(
    kind: str,
    number: str,
    text: str,
    line: Line,
    elements: list[dict[str, Any]],
    lines_of: list[Line],
    result: ParsedUnit,
) -> None:
    if kind == "element":
        elements.append({"number": number, "title": text, "criteria": []})
        lines_of.append(line)
        result.role(line, f"element {number}")
        if number != str(len(elements)):
            result.warn(
                line.number, f"element {number} is element {len(elements)} in order", OUT_OF_ORDER
            )
        return
    owner = number.split(".")[0]
    if not elements or elements[-1]["number"] != owner:
        result.role(line, "not placed")
        result.warn(line.number, f"criterion {number} does not follow element {owner}")
        return
    criteria = elements[-1]["criteria"]
    criteria.append({"number": number, "text": text})
    result.role(line, f"criterion {number}")
    if number != f"{owner}.{len(criteria)}":
        result.warn(
            line.number,
            f"criterion {number} is criterion {owner}.{len(criteria)} in order",
            OUT_OF_ORDER,
        )


def _criteria_on_one_line(number: str, text: str) -> list[tuple[str, str]]:
    """A table row copied as one line: "1.1 Identify ... 1.2 Identify ..." is two criteria."""
    parts = [(number, text)]
    while True:
        element, n = parts[-1][0].split(".")
        following = f"{element}.{int(n) + 1}"
        found = re.search(rf"\s{re.escape(following)}\.?\s+(?=[A-Z])", parts[-1][1])
        if found is None:
            return parts
        before, after = parts[-1][1][: found.start()], parts[-1][1][found.end() :]
        parts[-1:] = [(parts[-1][0], before.strip()), (following, after.strip())]


def _renumber_summary_list(
    elements: list[dict[str, Any]], lines_of: list[Line], result: ParsedUnit
) -> None:
    """A summary page's list may number two explanatory lines first, so element 1 shows as 3.

    Where the list has no criteria and its numbers run on from a later start, the numbers are
    the list's, not the elements': the elements are numbered from 1 in order.
    """
    numbers = [e["number"] for e in elements]
    if not elements or any(e["criteria"] for e in elements) or numbers[0] == "1":
        return
    start = int(numbers[0])
    if numbers != [str(start + i) for i in range(len(elements))]:
        return
    for position, (element, line) in enumerate(zip(elements, lines_of, strict=True), start=1):
        result.roles[line.number] = f"element {position} (numbered {element['number']} on the page)"
        element["number"] = str(position)
    listed = {line.number for line in lines_of}
    result.warnings = [w for w in result.warnings if w.line not in listed]


def _criteria_in_summary_list(
    elements: list[dict[str, Any]], lines_of: list[Line], result: ParsedUnit
) -> None:
    """A summary page of an older unit may number its criteria in the element list, each
    after its element ("1. Select and use hand tools", "2. Correct tools are chosen ...").
    An element says what to do; an old criterion says what is done ("... are chosen ...").
    A line so worded is taken as a criterion of the element before it, and reported: only the
    wording tells. Where most of the list still reads as elements with no criteria, the list
    gives titles only ("Determine what information is required" is an element): each line
    worded like a criterion is reported, kept an element. In between, the text is refused."""
    if len(elements) < 2 or any(e["criteria"] for e in elements):
        return
    wording = [
        CRITERION_WORDING.search(e["title"]) if index else None for index, e in enumerate(elements)
    ]
    worded = [found is not None for found in wording]
    if not any(worded):
        return
    owners = [i for i, is_criterion in enumerate(worded) if not is_criterion]
    bare = [i for i in owners if i + 1 >= len(elements) or not worded[i + 1]]
    if len(bare) * 2 >= len(owners):
        for element, line, found in zip(elements, lines_of, wording, strict=True):
            if found:
                result.warn(
                    line.number,
                    f"kept as element {element['number']}, though worded like a performance "
                    f"criterion ('{_short(found[0], 30)}'):"
                    " most of the list's lines read as elements with no criteria",
                    BY_WORDING,
                )
        return
    kept: list[dict[str, Any]] = []
    kept_lines: list[Line] = []
    for element, line, found in zip(elements, lines_of, wording, strict=True):
        if found:
            owner = kept[-1]
            number = f"{len(kept)}.{len(owner['criteria']) + 1}"
            owner["criteria"].append({"number": number, "text": element["title"]})
            result.roles[line.number] = f"criterion {number} (numbered {element['number']})"
            result.warn(
                line.number,
                f"taken as criterion {number}, not an element: it says what is done "
                f"('{_short(found[0], 30)}'), "
                "as a performance criterion does",
                BY_WORDING,
            )
            continue
        kept.append(element)
        kept_lines.append(line)
    for position, (element, line) in enumerate(zip(kept, kept_lines, strict=True), start=1):
        if element["number"] != str(position):
            result.roles[line.number] = f"element {position} (numbered {element['number']})"
            element["number"] = str(position)
    listed = {line.number for line in lines_of}
    result.warnings = [
        w for w in result.warnings if not (w.line in listed and w.cause == OUT_OF_ORDER)
    ]
    elements[:] = kept
    lines_of[:] = kept_lines
    if bare:
        element, line = next(
            (e, x) for e, x in zip(kept, kept_lines, strict=True) if not e["criteria"]
        )
        result.doubts.append(
            f"Element {element['number']} ('{_short(element['title'], 40)}', line {line.number}) "
            "has no criteria while the others have: the list numbers criteria among the "
            "elements, and this line's wording does not say which it is. Number the criteria "
            "(1.1, 1.2, ...), then read the text again."
        )


def _drop_repeated_list(
    elements: list[dict[str, Any]], lines_of: list[Line], result: ParsedUnit
) -> None:
    """Summary pages sometimes print the element list twice, numbered on (1-4, then 5-8)."""
    half = len(elements) // 2
    if half == 0 or len(elements) % 2 or any(e["criteria"] for e in elements):
        return
    if [e["title"] for e in elements[:half]] != [e["title"] for e in elements[half:]]:
        return
    for line in lines_of[half:]:
        result.roles[line.number] = "element list printed twice: not imported again"
        result.dropped.add(line.number)
    listed = {x.number for x in lines_of}
    result.warnings = [w for w in result.warnings if w.line not in listed]
    del elements[half:]
    del lines_of[half:]


def _read_nos_criteria(lines: list[Line], result: ParsedUnit) -> None:
    """A NOS: "You must be able to:" and criteria numbered ``1.`` throughout."""
    criteria: list[dict[str, Any]] = []
    placed: set[int] = set()
    last: Line | None = None  # the line the criterion in hand starts on
    sublist: list[Line] = []  # the list the criterion in hand leads, while read
    numbers_after = _numbers_after(lines)
    for index, line in enumerate(lines):
        if last is not None and criteria[-1]["text"].endswith(":"):
            wrapped = sublist and _goes_on(line)
            if wrapped or (lines[index - 1].number in placed and _listed_under(line, last)):
                sublist.append(line)
                placed.add(line.number)
                continue
        if sublist:
            _read_criterions_list(sublist, criteria[-1], placed, result)
            sublist = []
        item = _unnumbered(line) or (line if line.marked else None)
        if index == 0 and line.text.endswith(":") and item is None:
            result.data["criteria_intro"] = line.text
            result.role(line, "criteria lead-in")
        elif item is not None:
            criteria.append({"number": str(len(criteria) + 1), "text": item.text})
            result.role(line, f"criterion {len(criteria)}")
            placed.add(line.number)
            last = line
        elif (
            lines[index - 1].number in placed
            and line.text[0].islower()
            and last is not None
            and _gap_after(last, numbers_after[index]) is None
            and _has_room(criteria[-1]["text"])
        ):
            # The rest of the criterion before, wrapped by a PDF or a narrow page.
            criteria[-1]["text"] += f" {line.text}"
            result.role(line, f"criterion {len(criteria)} (continued)")
            placed.add(line.number)
        else:
            result.role(line, "not placed")
            result.warn(
                line.number, f"not placed: '{_short(line.text)}' is not a numbered criterion"
            )
    if sublist:
        _read_criterions_list(sublist, criteria[-1], placed, result)
    _find_lost(lines, placed, result)
    if criteria:
        result.data["criteria"] = criteria


def _listed_under(line: Line, criterion: Line) -> bool:
    """A line of the list a standard's criterion leads: bulleted or lettered under a numbered
    criterion, or indented further than it."""
    if not line.marked:
        return False
    return line.indent > criterion.indent or (
        _unnumbered(line) is None and _unnumbered(criterion) is not None
    )


def _find_lost(lines: list[Line], placed: set[int], result: ParsedUnit) -> None:
    """Lines before the last criterion that could not be placed and start in lower case or
    are bulleted: text of some criterion the text does not tie to it (a heading or page text
    starts in upper case with no bullet, and is only reported)."""
    last = max(placed, default=0)
    result.lost.extend(
        line.number
        for line in lines
        if line.number < last
        and result.roles.get(line.number) == "not placed"
        and (line.text[0].islower() or line.marked)
    )


def _evidence_reader(name: str, label: str):
    def read(lines: list[Line], result: ParsedUnit) -> None:
        section: dict[str, Any] = {}
        if lines and _is_intro(lines[0]):
            section["intro"] = lines[0].text
            result.role(lines[0], f"{label}: lead-in")
            lines = lines[1:]
        last_listed = max((i for i, line in enumerate(lines) if _listed(line)), default=-1)
        notes_from = next(
            (
                i
                for i, line in enumerate(lines)
                if i >= last_listed and (NOTE.match(line.text) or _after_list(lines, i))
            ),
            len(lines),
        )
        items = _read_list(lines[:notes_from], result, label)
        if items:
            section["items"] = items
        notes = [line.text for line in lines[notes_from:]]
        for line in lines[notes_from:]:
            result.role(line, f"{label}: note")
        if notes:
            section["notes"] = notes
        if section:
            result.data[name] = section

    return read


def _after_list(lines: list[Line], index: int) -> bool:
    """A sentence after the list's last item (which ends with a full stop) is a note."""
    if index == 0 or not lines[index].text[0].isupper() or lines[index].marked:
        return False
    if lines[index].text.endswith(":"):
        return False  # a second lead-in ("In the course of the above, ...:") leads items
    if lines[index - 1].marked:
        return True  # a paragraph after bulleted items is not one of them
    last = lines[index - 1].text
    return last.endswith(".") and not last[0].isupper()


def _is_intro(line: Line) -> bool:
    if _listed(line) or LETTERED.match(line.text):
        return False
    return line.text.endswith(":") or (
        line.text.endswith(".") and len(line.text) > 60 and bool(INTRO_WORDS.search(line.text))
    )


def _read_list(
    lines: list[Line], result: ParsedUnit, label: str, section: str | None = None
) -> list[Any]:
    """List items; a line ending with a colon leads the items under it. ``label`` names the
    items in each line's role ("range value 1.2"), ``section`` the section in a refusal (the
    label, unless given).

    Indentation, where the text has it, gives the nesting. Plain text shows only where a nested
    list starts (the colon), not where it ends: a line ending with a full stop closes every open
    list, and a list whose end the text does not show is reported so its lines can be checked.
    """
    lines = _unwrapped(_lettered(lines, result), result)
    if len({line.indent for line in lines}) > 1:
        levels = _levels_by_indent(lines)
    else:
        levels = _levels_by_groups(lines, result)
    levels = _within_levels(lines, levels, result, section or label)
    root: list[Any] = []
    stack: list[tuple[int, list[Any], str]] = [(-1, root, "")]
    for line, level in zip(lines, levels, strict=True):
        line = _unnumbered(line) or line
        while stack[-1][0] >= level:
            stack.pop()
        _, siblings, prefix = stack[-1]
        node: dict[str, Any] = {"text": line.text, "items": []}
        siblings.append(node)
        position = f"{prefix}{len(siblings)}"
        result.role(line, f"{label} {position}")
        stack.append((level, node["items"], f"{position}."))
    return _compact(root)


def _within_levels(
    lines: list[Line], levels: list[int], result: ParsedUnit, section: str
) -> list[int]:
    """The levels, none deeper than Word's nine. A text that nests deeper shows no unit's list
    (none goes past three or four levels): it is refused, at the first line too deep."""
    too_deep = next((i for i, level in enumerate(levels) if level >= LEVELS), None)
    if too_deep is None:
        return levels
    result.doubts.append(
        f"Line {lines[too_deep].number} ({section}) would sit {levels[too_deep] + 1} lists deep, "
        f"and no unit's list goes past {LEVELS} levels: the text does not show where its lists "
        "end. Check where each list ends and indent its lines to show it, then read the text "
        "again."
    )
    return [min(level, LEVELS - 1) for level in levels]


def _lettered(lines: list[Line], result: ParsedUnit) -> list[Line]:
    """Items marked by letters, Roman numerals ("a.", "(ii)", "B)") or outline numbers ("1.2"
    under "1."), without their marks. Where the lines are not indented, the kinds of mark
    show the nesting: each kind a level, in the order the kinds first come ("1." items, "a."
    under them, "i." under those; bullets too, in a list with numbered items: under the kind
    before the first of them)."""
    marks = _marks(lines, result)
    if not marks:
        return lines

    def kind(index: int, line: Line) -> str | None:
        if index in marks:
            return marks[index][0]
        found = _mark_kind(line)
        return None if found == "letter" else found  # a letter the marks did not take is text

    kinds = [kind(index, line) for index, line in enumerate(lines)]
    out = [
        replace(line, text=line.text[marks[index][2] :], marked=True) if index in marks else line
        for index, line in enumerate(lines)
    ]
    if len({line.indent for line in lines}) > 1:
        return out  # indentation shows the nesting
    if "number" not in kinds:  # bullets beside letters: only numbered items tell their level
        kinds = [None if kind == "bullet" else kind for kind in kinds]
    order = list(dict.fromkeys(kind for kind in kinds if kind not in (None, "bullet")))
    if "bullet" in kinds:
        # Bullets go under the kind of item just before the first of them ("a. physical:"
        # then "• noise"); where they come first, under the numbered items.
        first = kinds.index("bullet")
        before = next((k for k in reversed(kinds[:first]) if k is not None), "number")
        order.insert(order.index(before) + 1, "bullet")
    return [
        replace(line, indent=4 * order.index(kind)) if kind is not None else line
        for line, kind in zip(out, kinds, strict=True)
    ]


def _marks(lines: list[Line], result: ParsedUnit) -> dict[int, tuple[str, int, int]]:
    """The lines marked by a letter, a Roman numeral or an outline number: by index, the kind
    of mark ("letter", "LETTER", "roman", "ROMAN", "outline"), its value and where the text
    after it starts. A bulleted line has no second mark. Letters and Roman numerals are marks
    where their kind starts at "a" or "i" in the list and the mark has its neighbour ("a." and
    "b."), or is the first under a line that leads it with a colon: "e. coli" or "B. cereus"
    alone is text. An outline number is one under the numbered item with its first number
    ("1.2" under "1."), reported where it does not count on from 1. "i", "v" and "x" are
    letters or Roman numerals by the marks around them: the Roman numeral after it ("ii"), or
    the letter before or after it, tells; where only the letter before it tells, the line is
    reported."""
    found: dict[int, tuple[re.Match[str], str]] = {}
    for index, line in enumerate(lines):
        match = None if line.marked else LETTERED.match(line.text) or OUTLINE.match(line.text)
        if match:
            found[index] = (match, match.group(1) or match.group(2) or "")
    ordered = sorted(found)
    following: dict[int, int | None] = dict(zip(ordered, [*ordered[1:], None], strict=False))
    marks: dict[int, tuple[str, int, int]] = {}
    guessed: dict[int, str] = {}  # lines whose "i" only the letter before tells
    letters: dict[bool, int] = {}  # the last letter's value, by case
    top, sub = None, 0  # the numbered item outline numbers go under, and the last of them
    for index, line in enumerate(lines):
        number = LIST_NUMBER.match(line.text)
        if number and not OUTLINE.match(line.text):
            top, sub, letters = int(number.group(1)), 0, {}
        if index not in found:
            continue
        match, mark = found[index]
        if match.re is OUTLINE:
            if top == int(match.group(1)):
                value = int(match.group(2))
                if value != sub + 1:
                    expected = f"after {top}.{sub}" if sub else f"not {top}.1"
                    result.warn(
                        line.number,
                        f"taken as a sub-item of item {top}, numbered {top}.{value} {expected}",
                        OUT_OF_ORDER,
                    )
                sub = value
                marks[index] = ("outline", value, match.end())
            continue
        upper = mark.isupper()
        letter = len(mark) == 1 and ord(mark.lower()) - 96
        roman = _roman(mark.lower())
        if letter and roman:
            after = found[following[index]][1] if following[index] is not None else ""
            if _roman(after.lower()) == roman + 1 and after.isupper() == upper:
                letter = 0
            elif len(after) == 1 and ord(after.lower()) - 96 == letter + 1:
                roman = 0
            elif letters.get(upper) == letter - 1:
                roman = 0
                guessed[index] = mark
            else:
                letter = 0
        if roman and not letter:
            marks[index] = ("ROMAN" if upper else "roman", roman, match.end())
        elif letter:
            letters[upper] = letter
            marks[index] = ("LETTER" if upper else "letter", letter, match.end())
    values = {(kind, value) for kind, value, _ in marks.values()}

    def taken(index: int, kind: str, value: int) -> bool:
        if kind == "outline":
            return True
        if (kind, 1) not in values:
            return False
        if (kind, value - 1) in values or (kind, value + 1) in values:
            return True
        return value == 1 and index > 0 and lines[index - 1].text.endswith(":")

    kept = {index: mark for index, mark in marks.items() if taken(index, mark[0], mark[1])}
    for index, mark in guessed.items():
        if index in kept:
            result.warn(
                lines[index].number,
                f"'{mark}' taken as the letter after '{chr(ord(mark) - 1)}', not a Roman "
                "numeral: the marks around it do not tell",
                BY_WORDING,
            )
    return kept


def _roman(mark: str) -> int:
    """The value of a Roman numeral of i, v and x (0 where ``mark`` is none)."""
    if not mark or set(mark) - set(ROMAN_VALUES):
        return 0
    total = 0
    for here, after in zip(mark, [*mark[1:], ""], strict=True):
        value = ROMAN_VALUES[here]
        total += -value if after and ROMAN_VALUES[after] > value else value
    return total if total > 0 else 0


#: A line is taken as the rest of the item or criterion before it only while that one is
#: shorter than this: the longest a unit prints are a few hundred characters. (Past it, lines
#: run together are no wrapped item, and joining them would take time growing with the square
#: of their number.)
LONGEST_ITEM = 2000


def _has_room(text: str) -> bool:
    """Whether a wrapped line may still be joined to the item or criterion ``text``."""
    return len(text) < LONGEST_ITEM


#: The shortest line a page or a PDF wraps: a lower-case line after a shorter item is an
#: item of its own, not the rest of that item, unless the item ends with a word that goes on.
WRAPPED_WIDTH = 30
#: Words a line goes on after: a line ending with one was wrapped (or broken) mid-sentence.
GOES_ON = re.compile(
    r"(?:[,;\-–(/&]|\b(?:and|or|of|with|for|to|the|a|an|in|on|at|by|from|as|such|including|"
    r"that|which|into|under|within|between|per|via|its|their|your|our|nor|but|than))$"
)
#: Of those, the words no item or heading ends with: a line ending with one goes on even
#: where the next starts in upper case ("requirements of the" / "Australian Standards").
ALWAYS_GOES_ON = re.compile(
    r"\b(?:and|or|of|with|for|to|the|a|an|by|from|as|such as|including|that|which|into|"
    r"between|per|via|its|their|your|our|nor|than)$"
)


def _unwrapped(lines: list[Line], result: ParsedUnit) -> list[Line]:
    """In a bulleted or numbered list, a line with neither that goes on in lower case is the
    rest of the item before it, wrapped by a PDF or a narrow page (unless that item leads a
    list with its colon, is too short to have been wrapped, or the numbers leave a gap where
    it stands)."""
    if not any(_listed(line) for line in lines):
        return lines
    out: list[Line] = []
    split_off: set[int] = set()  # lines taken as items of their own, by number
    numbers_after = _numbers_after(lines)
    for index, line in enumerate(lines):
        if (
            out
            and (_listed(out[-1]) or out[-1].number in split_off)
            and not out[-1].text.endswith(":")
            and not _listed(line)
            and line.text[0].islower()
        ):
            before = lines[index - 1].text
            gap = _gap_after(out[-1], numbers_after[index])
            full = not _has_room(out[-1].text)
            if (
                gap is None
                and not full
                and (len(before) >= WRAPPED_WIDTH or GOES_ON.search(before))
            ):
                out[-1] = replace(out[-1], text=f"{out[-1].text} {line.text}")
                result.role(line, f"the rest of line {out[-1].number}")
                continue
            if gap is not None:
                why = f"the numbers go from {gap[0]} to {gap[1]}"
            elif full:
                why = f"that item is {LONGEST_ITEM:,} characters long already"
            else:
                why = f"line {lines[index - 1].number} is too short to have been wrapped"
            result.warn(
                line.number,
                f"taken as an item of its own, not the rest of the item on line "
                f"{out[-1].number} ({why}): if it is, join the lines",
                BY_WORDING,
            )
            split_off.add(line.number)
        out.append(line)
    return out


def _numbers_after(lines: list[Line]) -> list[int | None]:
    """For each line, the number of the next numbered line after it (None where none is)."""
    after: list[int | None] = []
    found = None
    for line in reversed(lines):
        after.append(found)
        numbered = LIST_NUMBER.match(line.text)
        found = int(numbered.group(1)) if numbered else found
    return after[::-1]


def _gap_after(item: Line, number_after: int | None) -> tuple[int, int] | None:
    """The numbers of ``item`` and of the next numbered line, where they leave a gap ("1." then
    "3."; a list starting again at "1." leaves none): a line there going on in lower case is
    more likely the item that lost its number than the rest of ``item``."""
    own = LIST_NUMBER.match(item.text)
    if own is None or number_after is None or number_after <= int(own.group(1)) + 1:
        return None
    return int(own.group(1)), number_after


def _unnumbered(line: Line) -> Line | None:
    """A list line numbered ``1.`` (a NOS numbers every line so), without its number."""
    numbered = NUMBERED.match(line.text)
    return replace(line, text=numbered.group(1), marked=True) if numbered else None


def _levels_by_indent(lines: list[Line]) -> list[int]:
    """Nesting from indentation, however many spaces a level takes: a line indented more than
    the one before opens a level, one indented less returns to the level it lines up with.
    A lead-in that is no list item ("In the course of the above, ...:") leads the bulleted
    lines after it at its own indentation."""
    levels: list[int] = []
    open_indents: list[float] = []
    lead: Line | None = None
    for line in lines:
        indent: float = line.indent
        if lead is not None and (not line.marked or line.indent < lead.indent):
            lead = None
        if lead is not None and line.marked and line.indent == lead.indent:
            indent += 0.5
        while open_indents and indent < open_indents[-1]:
            open_indents.pop()
        if not open_indents or indent > open_indents[-1]:
            open_indents.append(indent)
        levels.append(len(open_indents) - 1)
        if not line.marked and line.text.endswith(":"):
            lead = line
    return levels


def _levels_by_groups(lines: list[Line], result: ParsedUnit) -> list[int]:
    """A list in groups under headings of their own ("Purchasing procedures", then "describe
    preferred suppliers ...", ...): a heading starts in upper case with no stop or colon, its
    items in lower case. Taken so where the list opens with such a heading and has two or
    more, and reported at each heading (only the case tells); else nesting by colons."""
    starts = [
        index
        for index, line in enumerate(lines)
        if not line.marked
        and line.text[0].isupper()
        and line.text[-1] not in ".:;,"
        and index + 1 < len(lines)
        and lines[index + 1].text[0].islower()
    ]
    if len(starts) < 2 or starts[0] != 0:
        return _levels_by_colons(lines, result)
    levels: list[int] = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        result.warn(
            lines[start].number,
            f"taken as a heading over lines {lines[start + 1].number} to {lines[end - 1].number}:"
            " it starts in upper case and has no full stop, and they start in lower case",
            BY_WORDING,
        )
        levels += [0, *(1 + level for level in _levels_by_colons(lines[start + 1 : end], result))]
    return levels


def _levels_by_colons(lines: list[Line], result: ParsedUnit) -> list[int]:
    """Nesting from colons. A lead-in that is no list item ("In the course of the above, the
    candidate must:") followed by bulleted lines shows its list: the bullets are its items, and
    the first line without a bullet is the next line after the list. Where a list is led by an
    item of another list, the text shows only where it starts; where it ends, only by its
    wording: items of one list are worded alike ("clarifying ...", "reporting ..."), so a line
    worded like an outer list's items returns to it. With no such sign, a colon line after a
    list's items is taken as the next item beside the list's leader, and reported."""
    levels: list[int] = []
    leaders: list[Line] = []  # the colon lines whose lists are open, outermost first
    members: list[_Depth] = [_Depth()]  # the lines at each depth of the open lists

    def shown() -> int:
        """The depth of the items of the innermost list the bullets show (0 for none)."""
        for depth in range(len(leaders), 0, -1):
            leader = leaders[depth - 1]
            if not _listed(leader) and members[depth].lines and _listed(members[depth].lines[0]):
                return depth
        return 0

    ended: tuple[Line, Line] | None = None  # a shown list's lead-in, the line that ended it
    for index, line in enumerate(lines):
        depth = len(leaders)
        target = None
        floor = shown()
        inner = members[depth] if depth > floor else _Depth()
        if floor and not _listed(line) and (depth == floor or inner.all_listed):
            # The bullets have ended: the line is beside their lead-in.
            target = floor - 1
            ended = None if line.text.endswith(":") else (leaders[floor - 1], line)
        elif floor and not _listed(line) and line.text[0].isupper() and inner.all_lower:
            # After unbulleted sub-items in lower case, a line in upper case: the case alone
            # says it ends the lists.
            target = floor - 1
            result.warn(
                line.number,
                f"taken as the line after the list under '{_short(leaders[floor - 1].text)}' "
                f"(line {leaders[floor - 1].number}): it starts in upper case, the items before "
                "it in lower case; indent the lines if the nesting is otherwise",
                BY_WORDING,
            )
        elif _listed(line) and leaders and _listed(leaders[-1]) and inner.none_listed:
            # A bullet after the unbulleted items of a bulleted leader: beside the leader.
            target = depth - 1
        elif leaders and lines[index - 1] is not leaders[-1] and depth > floor:
            target, like = _depth_by_wording(line, members)
            if target is not None and _listed(line) and target < floor:
                target = floor  # the bullets go on: still an item of the list they show
            if target is not None and like is not None and target < depth:
                result.warn(
                    line.number,
                    f"taken as an item beside line {like.number} ('{_short(like.text, 40)}'), "
                    f"not inside the list under line {leaders[-1].number}, because it starts "
                    "like it: indent the lines if the nesting is otherwise",
                    BY_WORDING,
                )
            if target is None and line.text.endswith(":"):
                target = depth - 1
                result.warn(
                    line.number,
                    f"taken as the next item after the list under '{_short(leaders[-1].text)}' "
                    f"(line {leaders[-1].number}), not inside it: check the lines between, and "
                    "indent them if the nesting is otherwise",
                    BY_WORDING,
                )
        if ended is not None and line.text.endswith(":") and target is None:
            ended = None  # a new lead-in: what follows is its list
        if ended is not None and _listed(line):
            result.warn(
                line.number,
                f"taken as an item after line {ended[1].number} ('{_short(ended[1].text, 40)}'),"
                f" not of the list under '{_short(ended[0].text)}' (line {ended[0].number}), "
                "which that line ended: if it goes on that list, join that line to the one "
                "before it",
                BY_WORDING,
            )
            ended = None
        if target is not None and target < depth:
            del leaders[target:]
            del members[target + 1 :]
            depth = target
        levels.append(depth)
        members[depth].add(line)
        if (
            depth > shown()
            and target is None
            and line.text.endswith(".")
            and len(members[depth].lines) > 1
        ):
            # The full stop ends the list, but the text does not say which: the list under
            # the colon line, or the list that line is an item of.
            result.warn(
                line.number,
                f"taken as the last item of the list under '{_short(leaders[-1].text)}' "
                f"(line {leaders[-1].number}); if it is the next item after that list, "
                "indent the lines",
                BY_WORDING,
            )
        if line.text.endswith(":") and not _numbered_on(lines, index) and depth < LEVELS:
            # (A list deeper than Word's levels is refused; going no deeper keeps this linear.)
            leaders.append(line)
            members.append(_Depth())
        elif line.text.endswith(".") and index + 1 < len(lines):
            # A full stop closes the lists the text does not show, down to the one the
            # bullets show (which goes on while they do).
            keep = shown()
            del leaders[keep:]
            del members[keep + 1 :]
    last = len(lines) - 1
    if (
        lines
        and levels[last] > 0
        and leaders
        and len(leaders) > shown()
        and _listed(leaders[-1])
        and _listed(lines[last])
        and lines[last].number not in {w.line for w in result.warnings}
    ):
        # The list under a bulleted colon item runs to the end: nothing in the text says it
        # did not end earlier (its items are bullets like the ones around it).
        result.warn(
            lines[last].number,
            f"taken as the last item of the list under '{_short(leaders[-1].text)}' "
            f"(line {leaders[-1].number}), as every line after it: if that list ends earlier, "
            "indent its lines",
            BY_WORDING,
        )
    for index, line in enumerate(lines):
        if line.text.endswith(":") and (
            index + 1 == len(lines) or levels[index + 1] <= levels[index]
        ):
            result.warn(
                line.number, f"'{_short(line.text)}' leads a list, but no items follow", EMPTY_LIST
            )
    return levels


def _listed(line: Line) -> bool:
    """A list item by its mark: a bullet or a list number."""
    return line.marked or bool(LIST_NUMBER.match(line.text))


def _numbered_on(lines: list[Line], index: int) -> bool:
    """A numbered item ending with a colon whose next line has the next number: the numbers
    show the list goes on ("1. ... including:", "2. ..."), so it leads none."""
    own = LIST_NUMBER.match(lines[index].text)
    after = LIST_NUMBER.match(lines[index + 1].text) if index + 1 < len(lines) else None
    return bool(own and after and int(after.group(1)) == int(own.group(1)) + 1)


STOP_WORDS = {"a", "an", "the", "and", "or", "of", "to", "in", "for", "how", "what", "why", "when"}


def _depth_by_wording(line: Line, members: list[_Depth]) -> tuple[int | None, Line | None]:
    """The innermost open depth whose lines are worded like ``line``, and the line it is
    worded like; (None, None) when none is."""
    for depth in range(len(members) - 1, -1, -1):
        other = members[depth].worded_like(line.text)
        if other is not None:
            return depth, other
    return None, None


def _first_word(text: str) -> str:
    return text.split(maxsplit=1)[0].lower()


def _a_verb_in_ing(word: str) -> bool:
    return len(word) > 4 and word.endswith("ing")


class _Depth:
    """The lines at one depth of the open lists, with what the nesting asks of them kept as
    they come, so that each line costs the same however long its list is.

    Lines are worded alike when they start with the same word, or both with a verb in -ing
    ("clarifying ...", "reporting ..."); a line starting with a small word ("the", "how") is
    worded like none."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.listed = 0
        self.lower = 0
        self.by_word: dict[str, tuple[int, Line]] = {}
        self.first_in_ing: tuple[int, Line] | None = None

    def add(self, line: Line) -> None:
        at = (len(self.lines), line)
        self.lines.append(line)
        self.listed += _listed(line)
        self.lower += line.text[0].islower()
        word = _first_word(line.text)
        if word not in STOP_WORDS:
            self.by_word.setdefault(word, at)
            if _a_verb_in_ing(word) and self.first_in_ing is None:
                self.first_in_ing = at

    @property
    def all_listed(self) -> bool:
        return bool(self.lines) and self.listed == len(self.lines)

    @property
    def none_listed(self) -> bool:
        return bool(self.lines) and not self.listed

    @property
    def all_lower(self) -> bool:
        return bool(self.lines) and self.lower == len(self.lines)

    def worded_like(self, text: str) -> Line | None:
        """The first line here worded like ``text``."""
        word = _first_word(text)
        if word in STOP_WORDS:
            return None
        found = [self.by_word.get(word), self.first_in_ing if _a_verb_in_ing(word) else None]
        earliest = min((at for at in found if at), key=lambda at: at[0], default=None)
        return earliest[1] if earliest else None


def _compact(items: list[dict[str, Any]]) -> list[Any]:
    """A list item without sub-items is written as a plain string, as unit files do."""
    return [
        {"text": item["text"], "items": _compact(item["items"])} if item["items"] else item["text"]
        for item in items
    ]


def _read_assessment_conditions(lines: list[Line], result: ParsedUnit) -> None:
    items = _read_list(lines, result, "assessment conditions")
    if items:
        result.data["assessment_conditions"] = items


def _read_foundation_skills(lines: list[Line], result: ParsedUnit) -> None:
    intro: list[str] = []
    skills: list[dict[str, Any]] = []
    skill_lines: list[int] = []  # the line each skill is named on

    def add(line: Line) -> None:
        skills.append({"skill": line.text, "criteria": [], "descriptions": []})
        skill_lines.append(line.number)
        result.role(line, f"foundation skill: {line.text}")

    in_table = False
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else None
        key = line.key
        if key in TABLE_HEADINGS | TABLE_DESCRIPTION and not skills:
            in_table = True
            result.role(line, "table heading")
        elif line.cell == 0 and in_table and not REFS.match(line.text):
            # Where the text keeps the table's cells, a row's first cell names its skill.
            add(line)
        elif following is not None and REFS.match(following.text) and not REFS.match(line.text):
            add(line)
            in_table = True
        elif REFS.match(line.text) and skills and not skills[-1]["criteria"]:
            refs = [re.sub(r"\s+", "", ref) for ref in line.text.split(",")]
            skills[-1]["criteria"] = refs
            result.role(line, f"criteria of {skills[-1]['skill']}")
        elif in_table and key in KNOWN_SKILLS:
            add(line)
        elif skills:
            skills[-1]["descriptions"].append(line.text)
            result.role(line, f"description of {skills[-1]['skill']}")
        elif not in_table:
            intro.append(line.text)
            result.role(line, "foundation skills introduction")
        else:
            result.role(line, "not placed")
            result.warn(line.number, f"not placed: '{_short(line.text)}' names no skill")
    section: dict[str, Any] = {}
    if intro:
        section["intro"] = intro
    for skill, number in zip(skills, skill_lines, strict=True):
        if not skill["criteria"]:
            del skill["criteria"]
        if not skill["descriptions"]:
            # Kept as the page gives it (an empty cell), so that no row of the table is lost.
            del skill["descriptions"]
            result.warn(
                number,
                f"skill '{skill['skill']}' has no description on the page: imported without one",
                INCOMPLETE,
            )
    if skills:
        section["skills"] = skills
    if section:
        result.data["foundation_skills"] = section


def _mark_kind(line: Line) -> str | None:
    """How a line is marked as a list item: "bullet", "number", "letter", or None."""
    if line.marked:
        return "bullet"
    if LIST_NUMBER.match(line.text):
        return "number"
    return "letter" if LETTERED.match(line.text) else None


def _read_range_statement(lines: list[Line], result: ParsedUnit) -> None:
    intro: list[str] = []
    entries: list[tuple[Line, list[Line]]] = []
    for line in lines:
        # A colon line is a term, unless it is under one: indented more, or marked otherwise
        # than the term ("a. physical hazards such as:" under "Hazards may include:" or
        # "• Hazards may include:").
        kind = _mark_kind(line)
        under = entries and (
            line.indent > entries[-1][0].indent
            or (kind is not None and kind != _mark_kind(entries[-1][0]))
        )
        if line.text.endswith(":") and not under:
            entries.append((line, []))
            result.role(line, "range: term")
        elif entries:
            entries[-1][1].append(line)
        else:
            intro.append(line.text)
            result.role(line, "range: introduction")
    section: dict[str, Any] = {}
    if intro:
        section["intro"] = intro
    # Terms lettered in sequence ("A.", "B.") lose their letters; "E. coli sources" keeps it.
    lettered = _marks([term for term, _ in entries], ParsedUnit())
    kept = []
    for index, (term, values) in enumerate(entries):
        if values:
            mark = lettered.get(index)
            text = term.text[mark[2] :] if mark else (_unnumbered(term) or term).text
            items = _read_list(values, result, "range value", "range statement")
            kept.append({"term": text, "values": items})
        else:
            result.warn(term.number, f"range term '{_short(term.text)}' has no values", INCOMPLETE)
    if kept:
        section["entries"] = kept
    if section:
        result.data["range_statement"] = section


def _single_line_reader(name: str, label: str):
    def read(lines: list[Line], result: ParsedUnit) -> None:
        for index, line in enumerate(lines):
            if index == 0:
                result.data[name] = line.text
                result.role(line, label)
            else:
                result.role(line, "not placed")
                result.warn(line.number, f"not placed: {label} is one line; this is a second")

    return read


READERS = {
    "application": _read_application,
    "elements": _read_elements,
    "criteria": _read_nos_criteria,
    "performance_evidence": _evidence_reader("performance_evidence", "performance evidence"),
    "knowledge_evidence": _evidence_reader("knowledge_evidence", "knowledge evidence"),
    "assessment_conditions": _read_assessment_conditions,
    "foundation_skills": _read_foundation_skills,
    "range_statement": _read_range_statement,
    "sector": _single_line_reader("sector", "sector"),
    "competency_field": _single_line_reader("competency_field", "competency field"),
}


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
