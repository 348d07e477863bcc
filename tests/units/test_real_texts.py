"""Published unit texts in many layouts (tests/units/texts), against counts taken by hand."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from portfolio.units.importing import SOURCE_SUFFIXES, prepare, text_from_upload
from portfolio.units.parse import parse_unit_text
from tests.units.layouts import word_from_markdown

TEXTS = Path(__file__).resolve().parent / "texts"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((TEXTS / "expected.yaml").read_text())


def source(code: str) -> Path:
    """The published text of ``code``: a .txt, .md, .html or .docx file, as it was published."""
    (found,) = [p for p in TEXTS.glob(f"{code}.*") if p.suffix in SOURCE_SUFFIXES]
    return found


def source_text(code: str) -> str:
    """Its text, read as the import page reads an upload."""
    with source(code).open("rb") as stream:
        return text_from_upload(source(code).name, stream)


def count(items: list[Any]) -> int:
    return sum(1 + (count(item["items"]) if isinstance(item, dict) else 0) for item in items)


def section_items(data: dict[str, Any], name: str) -> list[Any]:
    return (data.get(name) or {}).get("items", [])


def test_there_are_texts_of_every_layout() -> None:
    layouts = [entry["layout"] for entry in EXPECTED.values()]
    assert len(EXPECTED) >= 8
    for layout in ("summary", "nos", "old-format"):
        assert layout in layouts
    assert any(layout.startswith("full") for layout in layouts)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_text_gives_the_counts_taken_by_hand(code: str) -> None:
    expected = EXPECTED[code]
    text = source_text(code)
    parsed = parse_unit_text(text)
    data = parsed.data
    elements = data.get("elements", [])
    assert data["framework"] == expected["framework"]
    assert ("code" in data) == expected["code_in_text"]
    if expected["code_in_text"]:
        assert data["code"] == code
    assert data.get("title") == expected["title"]
    assert len(elements) == expected["elements"]
    criteria = [len(e["criteria"]) for e in elements]
    assert sum(criteria) + len(data.get("criteria", [])) == expected["criteria"]
    assert (criteria if any(criteria) else []) == expected["criteria_per_element"]
    performance = section_items(data, "performance_evidence")
    knowledge = section_items(data, "knowledge_evidence")
    # Where the text does not show where a nested list ends, the parser may read it otherwise
    # than a person does, but never silently: it reports each line it had to decide.
    warned = {warning.line for warning in parsed.warnings}
    for line in expected.get("guessed_lines", []):
        assert line in warned, f"line {line} was decided without a warning"
    if "warnings" in expected:
        assert len(parsed.warnings) == expected["warnings"], [str(w) for w in parsed.warnings]
    ranges = (data.get("range_statement") or {}).get("entries", [])
    got = {
        "performance_evidence_items": len(performance),
        "knowledge_evidence_items": len(knowledge),
        "knowledge_evidence_all": count(knowledge),
        "performance_evidence_all": count(performance),
        "assessment_conditions_items": len(data.get("assessment_conditions", [])),
        "assessment_conditions_all": count(data.get("assessment_conditions", [])),
        "foundation_skills_rows": len((data.get("foundation_skills") or {}).get("skills", [])),
        "range_entries": len(ranges),
        "range_values": sum(count(entry["values"]) for entry in ranges),
    }
    for name, value in got.items():
        if name in expected and value != expected[name]:
            assert expected.get("guessed_lines"), f"{name}: {value}, by hand {expected[name]}"
    # Page boilerplate never becomes part of the unit.
    for line in ("Google Links", "Follow the links below"):
        assert line not in yaml.safe_dump(data)
    lines = len(text.splitlines())
    assert all(1 <= warning.line <= lines for warning in parsed.warnings)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_text_becomes_a_valid_unit_once_code_title_and_release_are_known(code: str) -> None:
    text = source_text(code)
    draft = prepare(text, code=code, title=EXPECTED[code]["title"] or f"Unit {code}", release=1)
    if "refused" in EXPECTED[code]:
        assert not draft.ok and EXPECTED[code]["refused"] in draft.refusal
        return
    assert draft.ok, draft.problems
    assert draft.unit.document.code == code


#: What a source has around its words that a unit's text does not: Markdown marks, table
#: pipes, cell breaks. Bullets and numbers come before a text, so they need no removing.
MARKS = re.compile(r"\*\*|__|<br\s*/?>|\|", re.IGNORECASE)


def words(text: str) -> str:
    return " ".join(MARKS.sub(" ", text).split())


def texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every text in a unit file's data, with where it is; the fields the importer fills in
    itself (code, release, framework) are not text of the source, nor are the numbers of
    elements and criteria (a summary page's list is numbered on, and renumbered)."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name not in ("code", "release", "framework", "number"):
                yield from texts(inner, f"{key}.{name}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from texts(inner, f"{key}[{index}]")
    elif isinstance(value, str):
        yield key, value


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_text_of_the_unit_is_in_its_source_word_for_word(code: str) -> None:
    """Nothing is reworded, completed or made up: each title, criterion, item, lead-in and
    description is a line or cell of the source (or lines a page wrapped, joined), its words
    in the same order."""
    source = words(source_text(code))
    data = parse_unit_text(source_text(code)).data
    found = list(texts(data))
    assert found
    for where, text in found:
        assert words(text) in source, f"{where}: {text!r} is not in {code}'s text"


CONVERTED = sorted(code for code, entry in EXPECTED.items() if entry["layout"].endswith("markdown"))


@pytest.mark.parametrize(
    ("lists", "breaks"), [("numbering", False), ("styles", False), ("numbering", True)]
)
@pytest.mark.parametrize("code", CONVERTED)
def test_the_word_file_a_converter_read_gives_the_same_unit_as_its_markdown(
    code: str, lists: str, breaks: bool
) -> None:
    """The Word file each converter-Markdown text was made from, rebuilt from it (headings,
    tables with a paragraph, or a line break, per line of a cell, bullets as list paragraphs of
    their level), is read from its structure to the same unit and the same warnings as the
    Markdown: the counts taken by hand hold for the Word file too."""
    markdown = source_text(code)
    rebuilt = word_from_markdown(markdown, lists, breaks)
    word = text_from_upload(f"{code}.docx", io.BytesIO(rebuilt))
    from_markdown, from_word = parse_unit_text(markdown), parse_unit_text(word)
    assert from_word.data == from_markdown.data
    assert [w.message for w in from_word.warnings] == [w.message for w in from_markdown.warnings]


@pytest.mark.parametrize("code", CONVERTED)
def test_the_page_a_converter_markdown_text_renders_to_gives_the_same_unit(code: str) -> None:
    """Each converter-Markdown text rendered as a web page (headings, tables with ``<br>`` in
    cells, nested lists), saved and uploaded as .html, reads to the same unit and warnings."""
    from markdown_it import MarkdownIt

    markdown = source_text(code)
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    html = f"<!doctype html><html><body><main>{page}</main></body></html>"
    text = text_from_upload(f"{code}.html", io.BytesIO(html.encode()))
    assert "<table>" in page and "<li>" in page
    from_markdown, from_page = parse_unit_text(markdown), parse_unit_text(text)
    assert from_page.data == from_markdown.data
    assert [w.message for w in from_page.warnings] == [w.message for w in from_markdown.warnings]


def test_the_word_files_libreoffice_saves_of_them_give_the_same_units(tmp_path: Path) -> None:
    """The rebuilt Word files opened in LibreOffice and saved as .docx again (through its own
    document format, so its writer makes the lists, tables and styles anew) read to the same
    unit and warnings as the Markdown: the Word reader is not tied to how python-docx writes."""
    from tests.exports.conftest import _run, require_programs

    require_programs("soffice")
    for code in CONVERTED:
        (tmp_path / f"{code}.docx").write_bytes(word_from_markdown(source_text(code)))
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"

    def convert(target: str, folder: str, files: list[Path]) -> None:
        args = ["--convert-to", target, "--outdir", str(tmp_path / folder)]
        _run(["soffice", "--headless", profile, *args, *map(str, files)], cwd=tmp_path, timeout=600)

    convert("odt", "odt", [tmp_path / f"{code}.docx" for code in CONVERTED])
    convert("docx:MS Word 2007 XML", "saved", [tmp_path / "odt" / f"{c}.odt" for c in CONVERTED])
    for code in CONVERTED:
        with (tmp_path / "saved" / f"{code}.docx").open("rb") as stream:
            saved = parse_unit_text(text_from_upload(f"{code}.docx", stream))
        published = parse_unit_text(source_text(code))
        assert saved.data == published.data, code
        assert [w.message for w in saved.warnings] == [w.message for w in published.warnings]
