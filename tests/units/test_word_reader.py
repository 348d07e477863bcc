"""A unit's Word file read as Word shows it: lists whose numbers Word makes (its numbering
definitions, not the text) read with the numbers Word shows, so a unit numbered that way reads
as typed; a paragraph's text with tracked changes, content controls and hidden text as shown."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest

from portfolio.units.wordfile import text_from_docx
from tests.exports.conftest import _run, require_programs
from tests.units.layouts import BULLETS, ELEMENTS, EVIDENCE, listed_in, word_list

TOKEN = re.compile(r"\bp(\d\d)\b")


def read(word) -> str:
    out = io.BytesIO()
    word.save(out)
    return text_from_docx(io.BytesIO(out.getvalue()))


def numbers(text: str) -> dict[str, str]:
    """What comes before each paragraph's token ("p07") in a text: its list number."""
    found = {}
    for segment in re.split(r"\n|\||<br>", text):
        match = TOKEN.search(segment)
        if match:
            found[match.group()] = segment[: match.start()].strip()
    return found


def numbered_document() -> docx.document.Document:
    """Lists numbered every way an RTO's copy of a unit numbers them: elements and criteria
    ("1.", "1.1") in the body and on through a table's cells, a second list of the same
    definition counting on, a list restarting at 1, a labelled list starting at 3, numbers
    with a zero, Word's "List Number" styles."""
    word = docx.Document()
    outline = word_list(word, 80, ELEMENTS)
    counted_on = word_list(word, 81, [], same_as=80)
    restarted = word_list(word, 82, [], same_as=80, start_over={0: 1})
    labelled = word_list(word, 83, [("decimal", "Element %1:", 3), ("decimalZero", "%1.%2", 1)])
    tokens = iter(f"p{n:02d}" for n in range(100))

    def add(container, num_id: int, level: int) -> None:
        listed_in(container, f"{next(tokens)} text", num_id, level)

    for num_id, level in [(outline, 0), (outline, 1)]:
        add(word, num_id, level)
    listed_in(word, "", outline, 1)  # an empty list paragraph has its number too
    for num_id, level in [(outline, 1), (outline, 0), (outline, 1)]:
        add(word, num_id, level)
    word.add_paragraph("p90 a paragraph between")
    add(word, counted_on, 0)
    add(word, counted_on, 1)
    add(word, restarted, 0)
    add(word, restarted, 1)
    grid = word.add_table(rows=2, cols=2)
    for row in grid.rows:
        add(row.cells[0], outline, 0)
        add(row.cells[1], outline, 1)
        add(row.cells[1], outline, 1)
    add(word, labelled, 0)
    add(word, labelled, 1)
    add(word, labelled, 0)
    for style in ("List Number", "List Number", "List Number 2"):
        word.add_paragraph(f"{next(tokens)} text", style=style)
    return word


def test_the_numbers_read_are_those_word_shows() -> None:
    text = read(numbered_document())
    assert numbers(text) == {
        "p00": "1.",
        "p01": "1.1",
        "p02": "1.3",  # after an empty item
        "p03": "2.",
        "p04": "2.1",
        "p90": "",
        "p05": "3.",  # a second list of the same definition counts on
        "p06": "3.1",
        "p07": "1.",  # a list restarting at 1
        "p08": "1.1",
        "p09": "2.",  # the table's cells count on from the list they belong to
        "p10": "2.1",
        "p11": "2.2",
        "p12": "3.",
        "p13": "3.1",
        "p14": "3.2",
        "p15": "Element 3:",
        "p16": "3.01",
        "p17": "Element 4:",
        "p18": "1.",
        "p19": "2.",
        "p20": "1.",
    }
    # A criterion is indented under its element, as its list level shows.
    assert "\n  1.1 p01 text\n" in text


def test_the_numbers_read_are_those_libreoffice_shows(tmp_path: Path) -> None:
    """The same document, saved and opened in LibreOffice: every paragraph has the number
    LibreOffice lays it out with."""
    require_programs("soffice")
    path = tmp_path / "numbered.docx"
    numbered_document().save(path)
    result = _run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "txt:Text (encoded):UTF8",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        cwd=tmp_path,
        timeout=180,
    )
    shown = (tmp_path / "numbered.txt").read_text(encoding="utf-8-sig")
    assert TOKEN.search(shown), result.stderr
    with path.open("rb") as stream:
        assert numbers(text_from_docx(stream)) == numbers(shown)


def test_a_lettered_or_roman_level_is_a_bullet_of_its_level() -> None:
    """Letters and Roman numerals mark sub-items: the item's text is what matters, so they
    read as bullets at their level, not as part of the text."""
    word = docx.Document()
    evidence = word_list(word, 80, EVIDENCE)
    for level, text in [(0, "safety rules including:"), (1, "noise"), (2, "hearing"), (0, "plans")]:
        listed_in(word, text, evidence, level)
    assert read(word).splitlines() == [
        "1. safety rules including:",
        "  • noise",
        "    • hearing",
        "2. plans",
    ]


def test_legal_numbering_shows_every_level_in_arabic_numbers() -> None:
    """A level marked "legal" (w:isLgl) shows the numbers of the levels above it in Arabic
    numerals, whatever their own format: "1.1" under "I."."""
    from docx.oxml.ns import qn

    word = docx.Document()
    roman = word_list(word, 80, [("upperRoman", "%1.", 1), ("decimal", "%1.%2", 1)])
    level = word.part.numbering_part.element.find(qn("w:abstractNum")).findall(qn("w:lvl"))[1]
    level.insert(2, level.makeelement(qn("w:isLgl"), {}))
    listed_in(word, "Prepare", roman, 0)
    listed_in(word, "Check", roman, 1)
    assert read(word).splitlines() == ["• Prepare", "  1.1 Check"]


def test_numbering_taken_off_a_list_styled_paragraph_makes_it_plain_text() -> None:
    word = docx.Document()
    bullets = word_list(word, 80, BULLETS)
    listed_in(word, "an item", bullets, 0)
    listed_in(word, "not an item", 0, 0, style="List Bullet")
    word.add_paragraph("still an item", style="List Bullet")
    assert read(word).splitlines() == ["• an item", "not an item", "• still an item"]


def test_a_numbered_heading_is_a_heading_not_a_list_item() -> None:
    word = docx.Document()
    outline = word_list(word, 80, ELEMENTS)
    heading = word.add_heading("Elements and Performance Criteria", 1)
    listed_in(word, "Prepare", outline, 0)
    heading._p.get_or_add_pPr().append(
        word.paragraphs[-1]._p.pPr.numPr.__copy__()  # the heading numbered too
    )
    assert read(word).splitlines() == ["Elements and Performance Criteria", "1. Prepare"]


def test_a_list_defined_by_a_list_style_is_numbered_by_that_style() -> None:
    """Word keeps a multilevel list made a style as a definition that names the style
    (w:numStyleLink); the style's numbering says how its paragraphs are numbered."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    word = docx.Document()
    outline = word_list(word, 80, ELEMENTS)
    style = word.styles.add_style("Unit Outline", WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:numId w:val="{outline}"/></w:numPr>')
    )
    numbering = word.part.numbering_part.element
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="81">'
            f'<w:numStyleLink w:val="{style.style_id}"/></w:abstractNum>'
        ),
    )
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="81"><w:abstractNumId w:val="81"/></w:num>')
    )
    listed_in(word, "Prepare", 81, 0)
    listed_in(word, "Check", 81, 1)
    assert read(word).splitlines() == ["1. Prepare", "  1.1 Check"]


@pytest.mark.parametrize("num_id", [0, 7])
def test_a_list_the_file_does_not_define_is_bulleted(num_id: int) -> None:
    """A paragraph numbered by a list the file has no definition of keeps its level; numId 0
    is Word's "no numbering"."""
    word = docx.Document()
    listed_in(word, "an item", num_id, 1)
    assert read(word).splitlines() == (["an item"] if num_id == 0 else ["  • an item"])


def test_a_file_with_nonsense_in_its_numbering_is_read_all_the_same() -> None:
    """A list level past Word's nine, a start that is no number, a huge start in letters: the
    file is read (the level kept to the deepest, the start to 1), nothing breaks."""
    from docx.oxml.ns import qn

    word = docx.Document()
    outline = word_list(word, 80, [*ELEMENTS, ("lowerLetter", "%3", 10**9)])
    listed_in(word, "Prepare", outline, 0)
    listed_in(word, "deep", outline, 1)
    word.paragraphs[-1]._p.pPr.numPr.ilvl.set(qn("w:val"), "40")
    listed_in(word, "huge", outline, 2)
    word.part.numbering_part.element.find(qn("w:abstractNum")).find(qn("w:lvl")).find(
        qn("w:start")
    ).set(qn("w:val"), "one")
    assert read(word).splitlines() == ["1. Prepare", "                • deep", "    • huge"]


def paragraph_of(word, inner: str):
    """A paragraph of ``word`` made of the given WordprocessingML."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph = parse_xml(
        f"<w:p {nsdecls('w', 'r')} "
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"{inner}</w:p>"
    )
    word.element.body.insert(len(word.element.body) - 1, paragraph)


def run(text: str, properties: str = "") -> str:
    return f'<w:r>{properties}<w:t xml:space="preserve">{text}</w:t></w:r>'


def test_a_paragraph_is_read_as_word_shows_it() -> None:
    """Text inserted with changes tracked, in a content control, a field's result, a smart tag
    or a link is read; text deleted with changes tracked, hidden text and a text box's text
    (a frame of its own) are not."""
    word = docx.Document()
    paragraph_of(
        word,
        run("1.1 Check the ")
        + f'<w:del w:id="1" w:author="A" w:date="2026-01-01T00:00:00Z">{run("old ")}</w:del>'
        + f'<w:ins w:id="2" w:author="A" w:date="2026-01-01T00:00:00Z">{run("revised ")}</w:ins>'
        + f'<w:moveFrom w:id="3" w:author="A" w:date="2026-01-01T00:00:00Z">{run("moved ")}'
        + "</w:moveFrom>"
        + f"<w:sdt><w:sdtPr><w:alias w:val='Plan'/></w:sdtPr><w:sdtContent>{run('site')}"
        + "</w:sdtContent></w:sdt>"
        + run(" (notes for the trainer)", "<w:rPr><w:vanish/></w:rPr>")
        + f'<w:smartTag w:uri="u" w:element="place">{run(" plan")}</w:smartTag>'
        + f'<w:fldSimple w:instr=" REF Scope ">{run(" for the job")}</w:fldSimple>'
        + "<w:r><mc:AlternateContent><mc:Choice Requires='wps'><w:drawing/></mc:Choice>"
        + f"<mc:Fallback><w:pict>{run('a text box')}</w:pict></mc:Fallback>"
        + "</mc:AlternateContent></w:r>"
        + f"<mc:AlternateContent><mc:Choice Requires='wps'>{run('a frame')}</mc:Choice>"
        + "</mc:AlternateContent>"
        + run(" and", "<w:rPr><w:vanish w:val='false'/></w:rPr>")
        + run(" tools"),
    )
    assert read(word).splitlines() == ["1.1 Check the revised site plan for the job and tools"]


def test_rows_and_paragraphs_in_content_controls_are_read_in_their_place() -> None:
    """A template's repeating content control wraps table rows (or a cell), old Word files wrap
    paragraphs in custom XML: what they hold is read where it stands."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    word = docx.Document()
    word.add_paragraph("Elements and Performance Criteria")
    grid = word.add_table(rows=1, cols=2)
    grid.cell(0, 0).text, grid.cell(0, 1).text = "ELEMENT", "PERFORMANCE CRITERIA"

    def cell(text: str) -> str:
        return f"<w:tc><w:p>{run(text)}</w:p></w:tc>"

    grid._tbl.append(
        parse_xml(
            f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent>"
            f"<w:tr>{cell('1. Prepare the work')}{cell('1.1 Check the plan')}</w:tr>"
            f"<w:tr>{cell('2. Do the work')}<w:sdt><w:sdtContent>{cell('2.1 Do it')}"
            "</w:sdtContent></w:sdt></w:tr></w:sdtContent></w:sdt>"
        )
    )
    paragraph_of(word, run("before"))
    word.element.body.insert(
        len(word.element.body) - 1,
        parse_xml(
            f"<w:customXml {nsdecls('w')} w:element='note'><w:p>{run('Wrapped')}</w:p>"
            "</w:customXml>"
        ),
    )
    assert read(word).splitlines() == [
        "Elements and Performance Criteria",
        "| ELEMENT | PERFORMANCE CRITERIA |",
        "| 1. Prepare the work | 1.1 Check the plan |",
        "| 2. Do the work | 2.1 Do it |",
        "before",
        "Wrapped",
    ]


def test_merged_cells_keep_the_columns_where_they_are() -> None:
    """A cell merged across columns is given once; merged down rows, its text is in its first
    row and the rows below have an empty cell in its place."""
    word = docx.Document()
    grid = word.add_table(rows=3, cols=3)
    grid.cell(0, 0).merge(grid.cell(0, 2)).text = "Foundation Skills"
    grid.cell(1, 0).merge(grid.cell(2, 0)).text = "Reading"
    for row, (criteria, description) in enumerate([("1.1", "Reads plans"), ("2.1", "Reads notes")]):
        grid.cell(row + 1, 1).text, grid.cell(row + 1, 2).text = criteria, description
    assert read(word).splitlines() == [
        "| Foundation Skills |",
        "| Reading | 1.1 | Reads plans |",
        "|  | 2.1 | Reads notes |",
    ]


def test_a_line_break_starts_a_new_line_except_in_a_list_item() -> None:
    """Criteria kept in one paragraph a line each (line breaks, Shift+Enter) are lines of their
    own, as are lines broken by a page break; a list item broken over lines is one item."""
    word = docx.Document()
    bullets = word_list(word, 80, BULLETS)
    paragraph_of(word, run("1.1 Check the plan") + "<w:r><w:br/></w:r>" + run("1.2 Check tools"))
    paragraph_of(word, run("end of page") + '<w:r><w:br w:type="page"/><w:t>Next</w:t></w:r>')
    item = listed_in(word, "hazards in the", bullets, 0)
    item.add_run().add_break()
    item.add_run("workplace")
    assert read(word).splitlines() == [
        "1.1 Check the plan",
        "1.2 Check tools",
        "end of page",
        "Next",
        "• hazards in the workplace",
    ]


@pytest.mark.parametrize(
    ("levels", "shown"),
    [
        # Word's own multilevel list: "1." then "1.1."; the importer reads "1." and "1.1".
        ([("decimal", "%1.", 1), ("decimal", "%1.%2.", 1)], ["1. hazards", "  1.1 noise"]),
        ([("decimal", "(%1)", 1), ("decimal", "%2)", 1)], ["1. hazards", "  1. noise"]),
        ([("decimal", "%1", 1), ("lowerLetter", "%1.%2", 1)], ["1. hazards", "  • noise"]),
        ([("ordinal", "%1", 1), ("decimal", "%1.%2.%2", 1)], ["• hazards", "  • noise"]),
        (
            [("decimal", "Element %1:", 1), ("decimal", "%1.%2", 1)],
            ["Element 1: hazards", "  1.1 noise"],
        ),
    ],
)
def test_a_list_number_is_given_as_the_importer_reads_one(
    levels: list[tuple[str, str, int]], shown: list[str]
) -> None:
    """A number of a shape the importer reads is given in that shape; any other (letters mixed
    in, ordinals, three parts) is a bullet at its level, so no number is left in the text."""
    word = docx.Document()
    listed = word_list(word, 80, levels)
    listed_in(word, "hazards", listed, 0)
    listed_in(word, "noise", listed, 1)
    assert read(word).splitlines() == shown


def test_a_heading_broken_over_lines_is_one_line_where_it_names_a_section() -> None:
    """ "Performance" and "Evidence" on two lines of a heading are its name; a title and its
    release, or a heading and its lead-in, on two lines of one paragraph are two lines."""
    word = docx.Document()
    for style, parts in (
        ("Title", ["ABC123 Do the work", "Release 1"]),
        ("Title", ["ABC123 Prepare and", "Serve Food"]),
        ("Title", ["ABC123 Do the work", "(Release 1)"]),
        ("Heading 2", ["Performance", "Evidence"]),
        ("Heading 2", ["Pre-requisite", "Units"]),
        ("Heading 2", ["Knowledge Evidence", "The candidate must know:"]),
        ("Heading 2", ["Assessment Requirements for ABC123", "Performance Evidence"]),
        ("Heading 1", ["ABC123 Do the work", "Release 1"]),
    ):
        paragraph = word.add_paragraph(parts[0], style=style)
        paragraph.add_run().add_break()
        paragraph.add_run(parts[1])
    assert read(word).splitlines() == [
        "ABC123 Do the work",
        "Release 1",
        "ABC123 Prepare and Serve Food",
        "ABC123 Do the work (Release 1)",
        "Performance Evidence",
        "Pre-requisite Units",
        "Knowledge Evidence",
        "The candidate must know:",
        "Assessment Requirements for ABC123",
        "Performance Evidence",
        "ABC123 Do the work",
        "Release 1",
    ]


def test_a_line_broken_after_a_word_that_goes_on_is_one_line() -> None:
    """A break after "and", "of", a comma, ... wraps a sentence (a skill's name in a narrow
    column); a break after a whole item, or before a number, starts the next."""
    word = docx.Document()
    for parts in (
        ["Planning and", "organising"],
        ["Reads plans", "Writes reports"],
        ["1.1 Plan and", "1.2 Act"],
        ["vitamins including vitamin A", "zinc and iron"],
        ["controls such as", "(i) PPE"],
        ["requirements of the", "Australian Standards"],
        ["select tools suitable for", "a range of timber types"],
        ["Noise;", "Dust"],
        ["how to switch equipment on", "Emergency procedures"],
    ):
        paragraph = word.add_paragraph(parts[0])
        paragraph.add_run().add_break()
        paragraph.add_run(parts[1])
    assert read(word).splitlines() == [
        "Planning and organising",
        "Reads plans",
        "Writes reports",
        "1.1 Plan and",
        "1.2 Act",
        "vitamins including vitamin A",
        "zinc and iron",
        "controls such as",
        "(i) PPE",
        "requirements of the Australian Standards",
        "select tools suitable for a range of timber types",
        "Noise;",
        "Dust",
        "how to switch equipment on",
        "Emergency procedures",
    ]


def test_a_content_control_showing_its_placeholder_is_not_read() -> None:
    """ "Click or tap here to enter text." is what an empty content control shows: no text of
    the unit, in a paragraph or around one."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    placeholder = (
        "<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent>{}</w:sdtContent></w:sdt>"
    )
    word = docx.Document()
    paragraph_of(word, run("Skills must be assessed") + placeholder.format(run(" Click here.")))
    word.element.body.insert(
        len(word.element.body) - 1,
        parse_xml(
            placeholder.format(f"<w:p>{run('Click or tap here to enter text.')}</w:p>").replace(
                "<w:sdt>", f"<w:sdt {nsdecls('w')}>", 1
            )
        ),
    )
    assert read(word).splitlines() == ["Skills must be assessed"]


def test_text_a_style_hides_is_not_read() -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    word = docx.Document()
    for name, kind in (
        ("Trainer note", WD_STYLE_TYPE.CHARACTER),
        ("Draft", WD_STYLE_TYPE.PARAGRAPH),
    ):
        style = word.styles.add_style(name, kind)
        style.element.get_or_add_rPr().append(parse_xml(f"<w:vanish {nsdecls('w')}/>"))
    based = word.styles.add_style("Draft note", WD_STYLE_TYPE.PARAGRAPH)
    based.base_style = word.styles["Draft"]
    paragraph = word.add_paragraph("safety rules")
    paragraph.add_run(" (ask the trainer)", style="Trainer note")
    word.add_paragraph("internal note", style="Draft")
    word.add_paragraph("another note", style="Draft note")
    word.add_paragraph("the plan")
    assert read(word).splitlines() == ["safety rules", "the plan"]


def test_a_style_based_on_itself_is_read_all_the_same() -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    word = docx.Document()
    style = word.styles.add_style("Loop", WD_STYLE_TYPE.PARAGRAPH)
    style.element.append(parse_xml(f'<w:basedOn {nsdecls("w")} w:val="{style.style_id}"/>'))
    word.add_paragraph("safety rules", style="Loop")
    assert read(word).splitlines() == ["safety rules"]


def test_numbering_of_a_part_type_the_file_does_not_declare_is_read() -> None:
    """A file whose [Content_Types].xml does not name the numbering part's type (other
    programs write such files) is still read with its numbers."""
    import zipfile

    word = docx.Document()
    outline = word_list(word, 80, ELEMENTS)
    listed_in(word, "Prepare", outline, 0)
    listed_in(word, "Check", outline, 1)
    saved = io.BytesIO()
    word.save(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "[Content_Types].xml":
                data = re.sub(rb'<Override PartName="/word/numbering.xml"[^>]*/>', b"", data)
                assert b"numbering" not in data
            target.writestr(item, data)
    assert text_from_docx(io.BytesIO(out.getvalue())).splitlines() == ["1. Prepare", "  1.1 Check"]


def test_a_long_chain_of_styles_is_read_without_running_out_of_stack() -> None:
    from docx.enum.style import WD_STYLE_TYPE

    word = docx.Document()
    below = None
    for n in range(1500):
        style = word.styles.add_style(f"Chain {n}", WD_STYLE_TYPE.PARAGRAPH)
        if below is not None:
            below.base_style = style
        below = style
    word.add_paragraph("safety rules", style="Chain 0")
    assert read(word).splitlines() == ["safety rules"]


@pytest.mark.parametrize(
    "text",
    [
        "Follow [the procedures](site) and [site rules]",
        "[a [b](c)",
        "x*y | z \\ w __init__ # 5 &amp; <br>",
        "see " + "[" * 2000 + "](",
    ],
    ids=["link", "nested-brackets", "marks", "unclosed-brackets"],
)
def test_a_paragraph_with_markdown_marks_reads_back_as_its_text(text: str) -> None:
    from portfolio.units.parse import parse_unit_text

    word = docx.Document()
    word.add_paragraph("ABC123 Do the work (Release 1)")
    word.add_paragraph("Knowledge Evidence")
    word.add_paragraph("knowledge of:")
    word.add_paragraph(text, style="List Bullet")
    # A table makes the whole text Markdown, where the marks in the text are escaped.
    table = word.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Reading"
    parsed = parse_unit_text(read(word))
    assert parsed.data["knowledge_evidence"]["items"][0] == text
