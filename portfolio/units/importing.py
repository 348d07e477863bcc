"""Add a unit from its published text: the text of a .txt, .md, .docx or .html page, a draft unit
file with the admin's corrections, checks, and saving it as a release."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

import yaml
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree
from lxml.etree import XMLSyntaxError
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.files.archives import ArchiveRefused, ArchiveTooLarge, ZipLimits, check_zip
from portfolio.models import Role, Unit, UnitRelease, User
from portfolio.units.loader import LoadedUnit, Problem, load_text
from portfolio.units.parse import LEVELS, ParsedUnit, parse_unit_text
from portfolio.units.schema import CODE_PATTERN
from portfolio.units.sync import sync_units
from portfolio.units.wordfile import markdown_lines, text_from_docx

SOURCE_SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
# A unit page is a few tens of kilobytes; anything far bigger is not one.
MAX_SOURCE_BYTES = 2 * 1024 * 1024
# The text read from a page, pasted or unpacked from an upload: a unit's page holds some
# thousands of characters, a long one tens of thousands. Reading takes time in step with the
# text (a few seconds at this limit).
MAX_TEXT_CHARS = 500_000
# The order of fields in a unit file, as units/README.md lists them.
FIELD_ORDER = [
    "code",
    "title",
    "release",
    "framework",
    "application",
    "band",
    "unit_weight",
    "competency_field",
    "sector",
    "elements",
    "criteria_intro",
    "criteria",
    "performance_evidence",
    "knowledge_evidence",
    "assessment_conditions",
    "foundation_skills",
    "range_statement",
]


class SourceError(ValueError):
    """An uploaded page that cannot be read as a unit's text; the message says why."""


#: A unit's published page as a Word file: a few hundred kilobytes of text at most.
UNIT_PAGE = ZipLimits(
    entries=1_000, total_bytes=32 * 1024 * 1024, parts=(("word/document.xml", 8 * 1024 * 1024),)
)


def text_from_upload(filename: str, stream: IO[bytes]) -> str:
    """The text of an uploaded unit page, read at most to the size limit."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = SOURCE_SUFFIXES.get(suffix)
    if kind is None:
        raise SourceError(
            f"{filename or 'The file'} is not a page this can read: upload a .txt, .md, .docx or "
            ".html file of the unit, or paste its text."
        )
    data = stream.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(
            f"{filename} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB; a unit page is "
            "far smaller. Check that this is the unit's page, or paste its text."
        )
    text = _page_text(filename, kind, data)
    if len(text) > MAX_TEXT_CHARS:
        raise SourceError(
            f"{filename} holds {len(text):,} characters of text, more than the {MAX_TEXT_CHARS:,} "
            "read here; a unit page holds far fewer. Check that this is one unit's page."
        )
    return text


def _page_text(filename: str, kind: str, data: bytes) -> str:
    if kind == "docx":
        document = io.BytesIO(data)
        try:
            check_zip(document, UNIT_PAGE)
            document.seek(0)
            return text_from_docx(document)
        except ArchiveTooLarge as refused:
            raise SourceError(f"{filename}: {refused} A unit page is far smaller.") from refused
        except (
            ArchiveRefused,
            zipfile.BadZipFile,
            PackageNotFoundError,
            XMLSyntaxError,
            KeyError,
            ValueError,
        ) as error:
            if isinstance(error, XMLSyntaxError) and "depth" in str(error).lower():
                raise SourceError(
                    f"{filename} nests its content deeper than can be read (tables inside "
                    "tables, more than some eighty deep); a unit page's Word file does not. "
                    "Save the page again from its source, or paste its text."
                ) from error
            raise SourceError(f"{filename} could not be read as a Word document.") from error
    text = _decode(data)
    return html_to_text(text) if kind == "html" else text


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Pages saved from Windows programs often are Windows-1252.
        return data.decode("cp1252", errors="replace")


class _PageText:
    """Block elements on lines of their own, list items indented by depth; each row of a
    table a Markdown table row, so that which cell a line is in survives.

    The events of libxml2's HTML parser (lxml's parser target): it reads any page, however
    broken, in time in step with its length, where Python's own ``html.parser`` takes time
    growing with the square of the length of some malformed pages ("<a " a thousand times).
    """

    BLOCKS = {
        *("p", "div", "section", "article", "main", "header", "footer", "aside"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "caption"),
        *("blockquote", "pre", "figure", "hr"),
    }
    HIDDEN = {
        *("script", "style", "head", "nav", "noscript", "template", "svg", "button"),
        *("select", "iframe"),
    }

    def __init__(self) -> None:
        self.lines: list[str | list[list[str]]] = []
        self.current: list[str] = []
        self.lists = 0
        self.hidden = 0
        self.tables = 0
        self.row: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def _break(self, *, end_of_item: bool = False) -> None:
        text = "".join(self.current).strip()
        if not end_of_item and text.startswith("\0") and not text.strip("\0 •"):
            return  # a list item's marker waits for the item's text (<li><p>...</p></li>)
        if text.strip("\0 •"):
            line = text.removeprefix("\0")
            (self.cell if self.cell is not None else self.lines).append(line)
        self.current = []

    def start(self, tag: str, attributes: object) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in ("ul", "ol"):
            self._break()
            self.lists += 1
        elif tag == "li":
            self._break()
            # Indented no further than one level past Word's: a list as deep as that is
            # refused, and the page's text stays no longer than the page.
            depth = min(max(self.lists - 1, 0), LEVELS)
            self.current.append("\0" + "  " * depth + "• ")
        elif tag == "table":
            self._break()
            self.tables += 1
        elif tag == "tr" and self.tables == 1:
            self._break()
            self.row = []
        elif tag in ("td", "th") and self.tables == 1 and self.row is not None:
            self._break()
            self.cell = []
        elif tag == "br" or tag in self.BLOCKS or tag in ("tr", "td", "th"):
            self._break()

    def end(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in ("ul", "ol"):
            self._break()
            self.lists = max(self.lists - 1, 0)
        elif tag == "li":
            self._break(end_of_item=True)
        elif tag in ("td", "th") and self.tables == 1 and self.cell is not None:
            self._break()
            if self.row is not None:
                self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.tables == 1 and self.row is not None:
            self._break()
            if any(self.row):
                self.lines.append(self.row)
            self.row = None
        elif tag == "table":
            self._break()
            self.tables = max(self.tables - 1, 0)
        elif tag in self.BLOCKS or tag in ("tr", "td", "th"):
            self._break()

    def data(self, data: str) -> None:
        if self.hidden:
            return
        text = re.sub(r"\s+", " ", data)
        waiting = len(self.current) == 1 and self.current[0].startswith("\0")
        if waiting and not text.strip("\0 •"):
            return  # nothing for the marker yet: kept, every break would join it again
        self.current.append(text)

    def close(self) -> list[str | list[list[str]]]:
        self._break()
        return self.lines


def html_to_text(html: str) -> str:
    """The text of an HTML page, a line per block, nested list items indented, each table
    row a Markdown table row."""
    parser = etree.HTMLParser(target=_PageText(), encoding="utf-8", no_network=True, huge_tree=True)
    parser.feed(html.encode("utf-8"))
    return markdown_lines(parser.close())


@dataclass
class Draft:
    """An import in progress: what the text gave, the admin's corrections, and the checks."""

    source: str
    parsed: ParsedUnit
    data: dict[str, Any]
    yaml_text: str
    file_name: str
    problems: list[Problem] = field(default_factory=list)
    unit: LoadedUnit | None = None

    @property
    def ok(self) -> bool:
        return self.unit is not None

    @property
    def refusal(self) -> str | None:
        """Why the text cannot be saved as a unit at all (see ``ParsedUnit.refusal``)."""
        return self.parsed.refusal

    @property
    def missing(self) -> list[str]:
        """What neither the text nor the admin gave: code, title, release, criteria."""
        return [name for name in self.parsed.missing if not self.data.get(name)]


def file_name(code: str, release: int) -> str:
    """The unit file's name: ``CODE.yaml``, a later release ``CODE.rN.yaml``."""
    safe = code if CODE_PATTERN.match(code or "") else "UNIT"
    return f"{safe}.yaml" if release == 1 else f"{safe}.r{release}.yaml"


def prepare(
    text: str,
    *,
    code: str | None = None,
    title: str | None = None,
    release: int | None = None,
) -> Draft:
    """Parse ``text``; the code, title and release given override what the text says."""
    parsed = parse_unit_text(text)
    data = dict(parsed.data)
    for name, value in (("code", code), ("title", title), ("release", release)):
        if value not in (None, ""):
            data[name] = value.strip() if isinstance(value, str) else value
    ordered = {name: data[name] for name in FIELD_ORDER if name in data}
    # Checked as release 1 until the release is known, so that every other problem shows now;
    # it is never saved or written so.
    checking = ordered if "release" in ordered else {**ordered, "release": 1}
    yaml_text = to_yaml({name: checking[name] for name in FIELD_ORDER if name in checking})
    name = file_name(str(ordered.get("code") or ""), int(checking["release"]))
    checked = load_text(yaml_text, name)
    problems = checked.problems
    if any(p.path == "code" and "not a unit code" in p.reason for p in problems):
        problems = [p for p in problems if not (p.path == "code" and "file name" in p.reason)]
    # A text that does not read as a unit is never offered for saving, even when what was
    # read happens to pass the unit file's checks; nor one whose release nobody gave.
    saveable = checked.ok and parsed.refusal is None and "release" in ordered
    unit = checked.units[0] if saveable else None
    return Draft(text, parsed, ordered, yaml_text, name, problems, unit)


class _UnitFileDumper(yaml.SafeDumper):
    """Indents list items under their key, as the hand-written unit files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def to_yaml(data: dict[str, Any]) -> str:
    """A unit file as people write them: fields in order, numbers as quoted strings."""
    return yaml.dump(
        data, Dumper=_UnitFileDumper, sort_keys=False, allow_unicode=True, width=10_000
    )


@dataclass(frozen=True)
class LoadedRelease:
    release: int
    title: str
    same_content: bool


def loaded_releases(session: Session, draft: Draft) -> list[LoadedRelease]:
    """The releases of the draft's unit already loaded, and whether one holds this content."""
    code = draft.data.get("code")
    if not isinstance(code, str) or not code:
        return []
    sha = draft.unit.content_sha256 if draft.unit else None
    rows = session.execute(
        select(UnitRelease.release, UnitRelease.title, UnitRelease.content_sha256)
        .join(Unit)
        .where(Unit.code == code)
        .order_by(UnitRelease.release)
    )
    return [LoadedRelease(release, title, digest == sha) for release, title, digest in rows]


@dataclass
class SaveResult:
    label: str
    added: bool
    problem: str | None = None


def save_release(session: Session, draft: Draft, *, actor: User) -> SaveResult:
    """Load the draft as a unit release, as ``flask units sync`` would; the caller commits.

    Saving the same content twice changes nothing; a release that exists with other content is
    refused, since assessments are pinned to releases.
    """
    if draft.unit is None:
        raise ValueError("a draft with problems cannot be saved")
    document = draft.unit.document
    label = f"{document.code} release {document.release}"
    report = sync_units(session, [draft.unit])
    if not report.ok:
        return SaveResult(label, False, report.problems[0].reason)
    if report.unchanged:
        return SaveResult(label, False)
    record(
        session,
        actor=actor,
        role=Role.ADMIN,
        action="unit.imported",
        subject=f"unit:{document.code}",
        after={
            "release": document.release,
            "title": document.title,
            "content_sha256": draft.unit.content_sha256,
        },
    )
    return SaveResult(label, True)
