"""Every layout a unit arrives in reads back as the same unit: the hand-made unit files written
out as a converter's Markdown, a hand-typed Markdown copy and a plain-text dump."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from portfolio.units import parse as parse_module
from portfolio.units.importing import prepare, text_from_upload
from portfolio.units.loader import load_files
from portfolio.units.schema import (
    Criterion,
    Element,
    EvidenceSection,
    ListItem,
    UnitDocument,
)
from portfolio.units.wordfile import markdown_lines
from tests.units.layouts import LAYOUTS, plain_text, texts_of, tga_word
from tests.units.test_real_texts import EXPECTED, source_text

UNITS = Path(__file__).resolve().parents[2] / "units"
PACKAGE_UNITS = ["BSBCUS501", "MEM16003", "SITXCCS008", "TLII5018"]


def unit_file(code: str) -> UnitDocument:
    result = load_files([UNITS / f"{code}.yaml"])
    assert result.ok, result.problems
    return result.units[0].document


def read_back(text: str) -> tuple[UnitDocument, list]:
    draft = prepare(text)
    assert draft.refusal is None, draft.refusal
    assert draft.ok, (draft.problems, draft.missing)
    return draft.unit.document, draft.parsed.warnings


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("code", PACKAGE_UNITS)
def test_a_unit_written_in_each_layout_reads_back_the_same(code: str, layout: str) -> None:
    doc = unit_file(code)
    text = LAYOUTS[layout](doc)
    document, warnings = read_back(text)
    assert document == doc, text
    assert [w for w in warnings if w.cause != "nesting decided by wording"] == []


def words(text: str) -> str:
    return " ".join(text.split())


def test_every_text_of_an_imported_unit_is_in_its_source_word_for_word() -> None:
    """Nothing is invented: each title, criterion, item, note and paragraph of every unit read
    from every layout and from every published text kept for the tests is in its source."""
    sources = [LAYOUTS[layout](unit_file(code)) for code in PACKAGE_UNITS for layout in LAYOUTS]
    seeds = Path(__file__).resolve().parent.parent / "data" / "seeds"
    sources += [source_text(code) for code in EXPECTED]
    sources += [p.read_text(encoding="utf-8") for p in seeds.glob("*.txt")]
    checked = 0
    for source in sources:
        draft = prepare(source, code="ABC123", title="Supplied by the admin")
        document = UnitDocument.model_validate(draft.data | {"release": 1})
        flat = words(source)
        for text in texts_of(document)[1:]:  # the title was supplied
            assert words(text) in flat, text
            checked += 1
    assert checked > 1000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_sections_in_any_order_read_back_the_same(data) -> None:
    code = data.draw(st.sampled_from(PACKAGE_UNITS))
    doc = unit_file(code)
    text = plain_text(doc, lambda sections: list(data.draw(st.permutations(sections))))
    document, _ = read_back(text)
    assert document == doc


@pytest.mark.parametrize("code", PACKAGE_UNITS)
def test_a_word_file_is_read_from_its_structure_with_the_nesting_its_list_styles_show(
    code: str,
) -> None:
    doc = unit_file(code)
    text = text_from_upload(f"{code}.docx", io.BytesIO(tga_word(doc)))
    document, warnings = read_back(text)
    assert document == doc
    # The nesting came from the list styles, not from wording.
    assert warnings == []


WORDS = st.sampled_from(
    [
        "plan",
        "customer",
        "service",
        "records",
        "review",
        "team",
        "safety",
        "quality",
        "report",
        "needs",
        "feedback",
        "policy",
        "procedures",
        "equipment",
        "site",
        "hazards",
        "clients",
    ]
)


def phrase(low: int = 2, high: int = 7) -> st.SearchStrategy[str]:
    return st.lists(WORDS, min_size=low, max_size=high).map(" ".join)


def sentence() -> st.SearchStrategy[str]:
    return phrase(4, 10).map(lambda text: text.capitalize() + ".")


LEAF = phrase().map(lambda text: ListItem(text=text))


def nested(depth: int) -> st.SearchStrategy[list[ListItem]]:
    """A list whose items lead lists of their own down to ``depth`` levels (a Word file's
    styles go to "List Bullet 3")."""
    item = LEAF
    if depth > 1:
        parent = st.builds(ListItem, text=phrase().map(lambda t: t + ":"), items=nested(depth - 1))
        item = LEAF | parent
    return st.lists(item, min_size=1, max_size=4)


LIST = nested(3)


@st.composite
def units(draw) -> UnitDocument:
    def criterion(number: str) -> Criterion:
        """Now and then a criterion that leads a list of its own ("... including:")."""
        text = draw(phrase(3, 9)).capitalize()
        if draw(st.integers(0, 4)) != 0:
            return Criterion(number=number, text=text)
        items = draw(st.lists(LEAF, min_size=1, max_size=3))
        return Criterion(number=number, text=f"{text} including:", items=items)

    elements = [
        Element(
            number=str(n),
            title=draw(phrase()).capitalize(),
            criteria=[criterion(f"{n}.{m}") for m in range(1, draw(st.integers(1, 4)) + 1)],
        )
        for n in range(1, draw(st.integers(1, 4)) + 1)
    ]

    def evidence() -> EvidenceSection | None:
        if not draw(st.booleans()):
            return None
        intro = draw(st.none() | phrase(4, 9).map(lambda t: t.capitalize() + ":"))
        return EvidenceSection(
            intro=intro, items=draw(LIST), notes=draw(st.lists(sentence(), max_size=2))
        )

    return UnitDocument(
        code="ABC1234",
        title=draw(phrase()).capitalize(),
        release=draw(st.integers(1, 9)),
        framework="training_package",
        application=draw(st.lists(sentence(), min_size=1, max_size=3)),
        elements=elements,
        performance_evidence=evidence(),
        knowledge_evidence=evidence(),
        assessment_conditions=draw(
            st.lists(LIST, max_size=1).map(lambda found: found[0] if found else [])
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units(), st.sampled_from(sorted(LAYOUTS)))
def test_any_unit_written_in_any_layout_reads_back_the_same(doc: UnitDocument, layout: str) -> None:
    document, warnings = read_back(LAYOUTS[layout](doc))
    assert document == doc
    assert warnings == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(units())
def test_any_unit_as_a_word_file_reads_back_the_same(doc: UnitDocument) -> None:
    text = text_from_upload("unit.docx", io.BytesIO(tga_word(doc)))
    document, warnings = read_back(text)
    assert document == doc
    assert warnings == []


def test_a_word_file_with_cells_merged_down_and_across_reads_each_cell_once() -> None:
    import docx

    word = docx.Document()
    word.add_paragraph("ABC1234 Keep records", style="Title")
    word.add_paragraph("Release: 2")
    word.add_heading("Elements and Performance Criteria", 2)
    grid = word.add_table(rows=4, cols=2)
    grid.cell(0, 0).merge(grid.cell(0, 1)).text = "Elements and criteria | as written"
    grid.cell(1, 0).text = "1. Plan the records"
    grid.cell(1, 1).text = "1.1 Identify the records"
    grid.cell(2, 1).text = "1.2 Sort the records"
    grid.cell(1, 0).merge(grid.cell(2, 0))
    grid.cell(3, 0).text, grid.cell(3, 1).text = "2. Keep the records", "2.1 File them"
    stream = io.BytesIO()
    word.save(stream)
    text = text_from_upload("unit.docx", io.BytesIO(stream.getvalue()))
    draft = prepare(text)
    assert draft.ok, (draft.refusal, draft.problems, text)
    elements = draft.unit.document.elements
    assert [(e.title, [c.number for c in e.criteria]) for e in elements] == [
        ("Plan the records", ["1.1", "1.2"]),
        ("Keep the records", ["2.1"]),
    ]
    assert "Elements and criteria | as written" in text_from_upload(
        "unit.docx", io.BytesIO(stream.getvalue())
    ).replace("\\|", "|")


def test_a_word_list_style_of_any_name_gives_its_level_from_its_numbering() -> None:
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    word = docx.Document()
    word.add_paragraph("ABC1234 Keep records", style="Title")
    word.add_paragraph("Release: 1")
    word.add_heading("Elements and Performance Criteria", 2)
    word.add_paragraph("1. Plan the records")
    word.add_paragraph("1.1 Identify the records")
    word.add_heading("Knowledge Evidence", 2)
    for name, level in (("Dot outer", 0), ("Dot inner", 1)):
        style = word.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        numbering = style.element.get_or_add_pPr().get_or_add_numPr()
        numbering.get_or_add_numId().val = 1
        numbering.get_or_add_ilvl().val = level
    word.add_paragraph("kinds of records:", style="Dot outer")
    word.add_paragraph("customer files", style="Dot inner")
    word.add_paragraph("staff files", style="Dot inner")
    word.add_paragraph("where records are kept", style="Dot outer")
    stream = io.BytesIO()
    word.save(stream)
    draft = prepare(text_from_upload("unit.docx", io.BytesIO(stream.getvalue())))
    assert draft.ok, (draft.refusal, draft.problems)
    assert draft.parsed.data["knowledge_evidence"]["items"] == [
        {"text": "kinds of records:", "items": ["customer files", "staff files"]},
        "where records are kept",
    ]
    assert draft.parsed.warnings == []


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab *_#[]()|\\&;<>!/`-+.x1")), max_size=24))
@example("1___")  # an odd run of underscores: escaped in pairs, one was once left to pair
def test_a_word_files_text_reads_back_exactly_whatever_marks_it_holds(text: str) -> None:
    """A Word file with a table is read as Markdown: any paragraph's text, asterisks, pipes,
    ampersands and brackets included, comes back as it was."""
    text = " ".join(text.split())
    assume(any(ch.isalnum() for ch in text))
    markdown = markdown_lines([text, [[text], [text]]])
    lines = [line.text for line in parse_module._lines(markdown)]
    assert lines == [bullet_free(text)] * 3


def bullet_free(text: str) -> str:
    """The text as the parser keeps it: a leading bullet is a list mark, not text."""
    bullet = parse_module.BULLET.match(text)
    return text[bullet.end() :].strip() if bullet and len(text) > bullet.end() else text


@pytest.mark.parametrize("code", PACKAGE_UNITS)
def test_a_word_file_that_numbers_its_lists_itself_reads_to_the_same_unit(code: str) -> None:
    """An RTO's copy whose elements, criteria and evidence lists are numbered by Word (the
    numbers in no paragraph's text) is read with the numbers Word shows: the same unit."""
    doc = unit_file(code)
    text = text_from_upload(f"{code}.docx", io.BytesIO(tga_word(doc, numbered=True)))
    assert "\n| 1. " in text  # the numbers Word shows, read from its numbering
    document, warnings = read_back(text)
    assert document == doc
    assert warnings == []
