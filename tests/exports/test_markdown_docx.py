"""Markdown descriptions as Word formatting, read back from the saved document."""

from __future__ import annotations

import io

import docx
import pytest
from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.exports.docx_support import MONOSPACE
from portfolio.exports.markdown_docx import LINK_COLOUR, add_markdown


def saved(document: Document) -> Document:
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return docx.Document(buffer)


def render(text: str, **options) -> Document:
    document = docx.Document()
    add_markdown(document, text, **options)
    return saved(document)


def styled(document: Document) -> list[tuple[str, str]]:
    return [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs]


def hyperlink_rels(document: Document) -> dict[str, str]:
    return {
        r_id: rel.target_ref
        for r_id, rel in document.part.rels.items()
        if rel.reltype == RT.HYPERLINK
    }


def only_paragraph(document: Document) -> Paragraph:
    assert len(document.paragraphs) == 1, styled(document)
    return document.paragraphs[0]


# -- headings and paragraphs -------------------------------------------------------------------


def test_headings_shift_by_the_offset_and_stop_at_heading_9() -> None:
    document = render("# One\n\n## Two\n\n###### Six\n\nBody text")
    assert styled(document) == [
        ("Heading 3", "One"),
        ("Heading 4", "Two"),
        ("Heading 8", "Six"),
        ("Normal", "Body text"),
    ]
    assert styled(render("###### Six\n\n# One", heading_offset=5)) == [
        ("Heading 9", "Six"),
        ("Heading 6", "One"),
    ]
    assert styled(render("# One", heading_offset=0)) == [("Heading 1", "One")]
    assert styled(render("## Two", heading_offset=-4)) == [("Heading 1", "Two")]


def test_setext_headings_are_headings_too() -> None:
    assert styled(render("Title\n=====\n\nSub\n---")) == [
        ("Heading 3", "Title"),
        ("Heading 4", "Sub"),
    ]


def test_blank_text_adds_nothing() -> None:
    for text in ("", "   ", "\n\n\t\n"):
        document = docx.Document()
        before = len(document.element.body)
        add_markdown(document, text)
        assert len(document.element.body) == before


def test_soft_breaks_are_spaces_and_hard_breaks_are_line_breaks() -> None:
    paragraph = only_paragraph(render("one\ntwo  \nthree\\\nfour"))
    assert paragraph.text == "one two\nthree\nfour"
    assert len(paragraph._p.findall(f".//{qn('w:br')}")) == 2


# -- inline formatting --------------------------------------------------------------------------


def test_bold_italic_strike_and_code_become_run_formatting() -> None:
    paragraph = only_paragraph(render("a **bold** *it* ~~gone~~ `x = 1` ***both*** _u_ __b__"))
    runs = {run.text: run for run in paragraph.runs if run.text.strip()}
    assert runs["bold"].bold and not runs["bold"].italic
    assert runs["it"].italic and not runs["it"].bold
    assert runs["gone"].font.strike
    assert runs["x = 1"].font.name == MONOSPACE
    assert runs["both"].bold and runs["both"].italic
    assert runs["u"].italic and runs["b"].bold
    assert not runs["a "].bold and not runs["a "].italic and not runs["a "].font.strike


def test_formatting_inside_a_heading_is_kept() -> None:
    paragraph = only_paragraph(render("## A **strong** title"))
    assert paragraph.style.name == "Heading 4"
    assert [run.text for run in paragraph.runs if run.bold] == ["strong"]


# -- links ---------------------------------------------------------------------------------------


def test_links_are_clickable_hyperlinks_with_external_relationships() -> None:
    document = render(
        "See [the **guide**](https://example.com/guide?a=1&b=2), "
        "<https://example.org/auto> and [mail](mailto:assessor@example.com)."
    )
    paragraph = only_paragraph(document)
    links = paragraph.hyperlinks
    assert [link.text for link in links] == ["the guide", "https://example.org/auto", "mail"]
    assert [link.url for link in links] == [
        "https://example.com/guide?a=1&b=2",
        "https://example.org/auto",
        "mailto:assessor@example.com",
    ]
    rels = document.part.rels
    for link in links:
        rel = rels[link._hyperlink.rId]
        assert rel.is_external and rel.reltype == RT.HYPERLINK
    run = links[0].runs[0]
    assert run.font.underline is True
    assert run.font.color.rgb == LINK_COLOUR
    assert [r.text for r in links[0].runs if r.bold] == ["guide"]
    assert paragraph.text == ("See the guide, https://example.org/auto and mail.")


@pytest.mark.parametrize(
    "markdown",
    [
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](vbscript:msgbox)",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](file:///etc/passwd)",
        "[click](ftp://example.com/file)",
        "[click](/relative/path)",
        "[click](#anchor)",
        "[click](page.html)",
        "<javascript:alert(1)>",
    ],
)
def test_only_http_https_and_mailto_become_hyperlinks(markdown: str) -> None:
    document = render(markdown)
    paragraph = only_paragraph(document)
    assert paragraph.hyperlinks == []
    assert document.element.body.find(f".//{qn('w:hyperlink')}") is None
    assert hyperlink_rels(document) == {}
    assert "click" in paragraph.text or "javascript" in paragraph.text


def test_a_refused_link_keeps_its_words_as_plain_text() -> None:
    paragraph = only_paragraph(render("go [to the page](/relative) now"))
    assert paragraph.text == "go to the page now"
    assert all(run.font.underline is None for run in paragraph.runs)


def test_images_become_their_alt_text_and_are_never_fetched() -> None:
    document = render("Before ![a *site* photo](https://example.com/x.png) after ![](y.png)")
    paragraph = only_paragraph(document)
    assert paragraph.text == "Before a site photo after [image]"
    assert not [rel for rel in document.part.rels.values() if rel.reltype == RT.IMAGE]
    assert hyperlink_rels(document) == {}
    assert document.element.body.find(f".//{qn('w:drawing')}") is None


def test_an_image_inside_a_link_shows_its_alt_text_as_the_link() -> None:
    paragraph = only_paragraph(render("[![logo](logo.png)](https://example.com)"))
    assert [(link.text, link.url) for link in paragraph.hyperlinks] == [
        ("logo", "https://example.com")
    ]


# -- raw HTML ------------------------------------------------------------------------------------


def test_raw_html_is_literal_text() -> None:
    document = render(
        "<script>alert('x')</script>\n\nSome <b>bold</b> and <a href='https://e.com'>a</a>."
    )
    assert [paragraph.text for paragraph in document.paragraphs] == [
        "<script>alert('x')</script>",
        "Some <b>bold</b> and <a href='https://e.com'>a</a>.",
    ]
    assert not any(run.bold for paragraph in document.paragraphs for run in paragraph.runs)
    assert hyperlink_rels(document) == {}


# -- block structure -----------------------------------------------------------------------------


def test_bullet_and_numbered_lists_use_list_styles_by_depth() -> None:
    document = render(
        "- one\n"
        "- two\n"
        "  - two a\n"
        "    1. deep\n"
        "       - deeper\n"
        "- three\n"
        "\n"
        "Between\n"
        "\n"
        "1. first\n"
        "2. second\n"
        "   - inner bullet\n"
        "   1. not a sublist\n"
    )
    assert styled(document) == [
        ("List Bullet", "one"),
        ("List Bullet", "two"),
        ("List Bullet 2", "two a"),
        ("List Number 3", "deep"),
        ("List Bullet 3", "deeper"),
        ("List Bullet", "three"),
        ("Normal", "Between"),
        ("List Number", "first"),
        ("List Number", "second"),
        ("List Bullet 2", "inner bullet"),
        ("List Number 2", "not a sublist"),
    ]


def test_later_paragraphs_of_a_list_item_continue_it() -> None:
    document = render("- first para\n\n  second para\n- next\n-\n- after empty")
    assert styled(document) == [
        ("List Bullet", "first para"),
        ("List Continue", "second para"),
        ("List Bullet", "next"),
        ("List Bullet", ""),
        ("List Bullet", "after empty"),
    ]


def test_block_quotes_use_the_quote_style_and_nest_by_indent() -> None:
    document = render("> quoted **words**\n>\n> > nested\n\nafter")
    assert styled(document) == [
        ("Quote", "quoted words"),
        ("Quote", "nested"),
        ("Normal", "after"),
    ]
    outer, nested, _ = document.paragraphs
    assert outer.paragraph_format.left_indent is None
    assert nested.paragraph_format.left_indent > 0


def test_code_blocks_are_monospace_paragraphs_that_keep_their_lines() -> None:
    document = render("```python\ndef f():\n    return '<b>'\n```\n\n    indented code\n    two")
    fenced, indented = document.paragraphs
    assert fenced.text == "def f():\n    return '<b>'"
    assert indented.text == "indented code\ntwo"
    for paragraph in (fenced, indented):
        assert {run.font.name for run in paragraph.runs} == {MONOSPACE}
        assert paragraph._p.pPr.find(qn("w:shd")) is not None


def test_a_thematic_break_is_a_ruled_paragraph() -> None:
    document = render("above\n\n***\n\nbelow")
    assert [paragraph.text for paragraph in document.paragraphs] == ["above", "", "below"]
    border = document.paragraphs[1]._p.pPr.find(qn("w:pBdr"))
    assert border is not None and border.find(qn("w:bottom")) is not None


def test_tables_become_word_tables_with_a_repeating_bold_header_row() -> None:
    document = render(
        "| Criterion | Evidence | Score |\n"
        "|:--|:-:|--:|\n"
        "| 1.1 | [E1](https://e.com/1) | **5** |\n"
        "| 1.2 | short row |\n"
        "| 1.3 | a | b | extra cell dropped |\n"
    )
    (table,) = document.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Criterion", "Evidence", "Score"],
        ["1.1", "E1", "5"],
        ["1.2", "short row", ""],
        ["1.3", "a", "b"],
    ]
    header, first, *_ = table.rows
    assert all(run.bold for cell in header.cells for run in cell.paragraphs[0].runs)
    assert not first.cells[0].paragraphs[0].runs[0].bold
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert first._tr.trPr is None or first._tr.trPr.find(qn("w:tblHeader")) is None
    alignments = [cell.paragraphs[0].alignment for cell in first.cells]
    assert [str(a) for a in alignments] == ["LEFT (0)", "CENTER (1)", "RIGHT (2)"]
    assert [link.url for link in first.cells[1].paragraphs[0].hyperlinks] == ["https://e.com/1"]
    assert table.style.name == "Table Grid"


def test_tables_one_after_another_stay_two_tables() -> None:
    document = render("| a |\n|---|\n| 1 |\n\n| b |\n|---|\n| 2 |")
    assert len(document.tables) == 2
    body = [child.tag for child in document.element.body]
    first = body.index(qn("w:tbl"))
    assert body[first + 1] == qn("w:p")


def test_a_document_already_ending_in_a_table_gets_a_paragraph_before_the_next() -> None:
    document = docx.Document()
    document.add_table(1, 1)
    add_markdown(document, "| b |\n|---|\n| 2 |")
    tags = [child.tag for child in saved(document).element.body]
    assert tags[:3] == [qn("w:tbl"), qn("w:p"), qn("w:tbl")]


# -- in a table cell -----------------------------------------------------------------------------


def test_a_cell_gets_the_same_formatting_without_a_leading_empty_paragraph() -> None:
    document = docx.Document()
    cell = document.add_table(1, 2).cell(0, 0)
    add_markdown(
        cell,
        "## Observed\n\nThe learner **did** it. See [notes](https://example.com/n).\n\n"
        "- one\n  - two\n\n> quote",
    )
    cell = saved(document).tables[0].cell(0, 0)
    assert [(p.style.name, p.text) for p in cell.paragraphs] == [
        ("Heading 4", "Observed"),
        ("Normal", "The learner did it. See notes."),
        ("List Bullet", "one"),
        ("List Bullet 2", "two"),
        ("Quote", "quote"),
    ]
    assert cell.paragraphs[1].hyperlinks[0].url == "https://example.com/n"


def test_a_table_in_a_cell_nests_and_the_cell_still_ends_with_a_paragraph() -> None:
    document = docx.Document()
    outer = document.add_table(1, 1)
    add_markdown(outer.cell(0, 0), "| a | b |\n|---|---|\n| 1 | 2 |")
    add_markdown(outer.cell(0, 0), "after")
    cell = saved(document).tables[0].cell(0, 0)
    tags = [child.tag for child in cell._tc if child.tag != qn("w:tcPr")]
    assert tags == [qn("w:tbl"), qn("w:p")]
    assert cell.paragraphs[-1].text == "after"
    (inner,) = cell.tables
    assert [[c.text for c in row.cells] for row in inner.rows] == [["a", "b"], ["1", "2"]]


def test_a_cell_table_alone_still_ends_the_cell_with_a_paragraph() -> None:
    document = docx.Document()
    outer = document.add_table(1, 1)
    add_markdown(outer.cell(0, 0), "| a |\n|---|\n| 1 |")
    tc = saved(document).tables[0].cell(0, 0)._tc
    assert [child.tag for child in tc][-1] == qn("w:p")


def test_a_cell_with_content_is_appended_to() -> None:
    document = docx.Document()
    cell = document.add_table(1, 1).cell(0, 0)
    cell.text = "Existing"
    add_markdown(cell, "New *words*")
    assert [p.text for p in saved(document).tables[0].cell(0, 0).paragraphs] == [
        "Existing",
        "New words",
    ]


# -- never crashes -------------------------------------------------------------------------------

TRICKY = [
    "\x00\x01\x02\x03\x08\x0b\x0c\x0e\x1f\x7f text with control characters",
    "&#0; &#1; &#12; &#xFFFE; &#xD800; &#x10FFFF; &amp; &nbsp; &bogus;",
    "lone surrogate \ud800 and \udfff and \ufffe\uffff",
    "emoji 🧯🔥 and RTL עברית العربية and combining é",
    "> " * 200 + "deep quote",
    "".join("  " * i + "- level\n" for i in range(60)),
    "1. " * 100 + "deep ordered",
    "[" * 500 + "]" * 500,
    "*" * 1000,
    "**unclosed *emphasis ~~strike `code",
    "| a | b |\n|---|---|\n" + "| 1 |\n" * 50 + "| 1 | 2 | 3 | 4 |\n",
    "|---|\n|---|",
    "| |\n|-|\n| |",
    "[x](<>) [y]() [z](   ) <> <mailto:> [w](mailto:)",
    "[a](http://[::1]:80/) [b](http://%zz) [c](https://exa mple.com) [d](http://a\\b)",
    "[ref]\n\n[ref]: https://example.com 'title'",
    "![![nested](a.png)](b.png) ![alt [x](https://e.com)](c.png)",
    "```\nunclosed fence\n\n# not a heading",
    "    \n    \n    code with blank lines\n    \n",
    "<!-- comment --> <?php echo 1; ?> <![CDATA[x]]> <!DOCTYPE html>",
    "<div>\n\n*md inside html*\n\n</div>",
    "Setext\n===\n---\n***\n___",
    "# \n## \n###### ####### too many",
    "\t\ttabs\tinside\ttext\n\n\t- tab list",
    "line\r\nwindows\rold mac\u2028separator\u2029paragraph\x85next",
    "- [ ] task\n- [x] done",
    "a  \n  \n  \nb\\\n",
    "x" * 20000,
    "| a |\n|---|\n| `|` \\| pipe |\n| <b> |",
    "- ```\n  code in list\n  ```\n- > quote in list\n- | t |\n  |---|\n  | 1 |",
    "> | quoted | table |\n> |---|---|\n> | 1 | 2 |",
    "\\*escaped\\* \\# \\[not link\\](x)",
    "1) paren list\n2) two\n\n10. ten\n11. eleven",
    "   ---   \n\n* * *",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_input_never_crashes_and_saves_cleanly(text: str) -> None:
    document = docx.Document()
    add_markdown(document, text)
    add_markdown(document.add_table(1, 1).cell(0, 0), text)
    reopened = saved(document)
    for tc in reopened.element.body.iter(qn("w:tc")):
        assert [child.tag for child in tc][-1] == qn("w:p")
    for href in hyperlink_rels(reopened).values():
        assert href.split(":", 1)[0] in {"http", "https", "mailto"}


def test_characters_xml_cannot_hold_are_replaced() -> None:
    paragraph = only_paragraph(render("a\x01b\x0cc &#12; \ud800 d"))
    assert paragraph.text == "a\ufffdb\ufffdc \ufffd \ufffd d"


def test_two_tables_in_one_cell_from_two_calls_stay_apart() -> None:
    document = docx.Document()
    cell = document.add_table(1, 1).cell(0, 0)
    add_markdown(cell, "| a |\n|---|\n| 1 |")
    add_markdown(cell, "| b |\n|---|\n| 2 |")
    tc = saved(document).tables[0].cell(0, 0)._tc
    tags = [child.tag for child in tc if child.tag != qn("w:tcPr")]
    assert tags == [qn("w:tbl"), qn("w:p"), qn("w:tbl"), qn("w:p")]


def _cell_xml(fill) -> str:
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    fill(cell)
    fill(cell)  # a second entry in the same cell: a paragraph of its own, as before
    return cell._tc.xml


@pytest.mark.parametrize(
    "value",
    [
        "Satisfactory",
        "Not yet satisfactory → satisfactory",
        "E3: the roster (v2) — 14/11/2026, 50% done; #4 = ok + $5 @ site {a}",
        "  padded  ",
        "",
        "ǅ Ünïcödé ✓",
    ],
)
def test_a_labelled_plain_value_reads_as_the_same_word_runs_as_its_markdown(value):
    from portfolio.exports.markdown_docx import add_labelled

    fast = _cell_xml(lambda cell: add_labelled(cell, "Finding", value))
    parsed = _cell_xml(lambda cell: add_markdown(cell, f"**Finding:** {value}"))
    assert fast == parsed


@pytest.mark.parametrize("value", ["*emphasis*", "a [link](https://example.org)", "x\ny", "&amp;"])
def test_a_labelled_value_with_markdown_is_still_read_as_markdown(value):
    from portfolio.exports.markdown_docx import add_labelled

    fast = _cell_xml(lambda cell: add_labelled(cell, "Comment", value))
    parsed = _cell_xml(lambda cell: add_markdown(cell, f"**Comment:** {value}"))
    assert fast == parsed


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_labelled_plain_value_reads_as_its_markdown(value):
    from portfolio.exports.markdown_docx import add_labelled

    fast = _cell_xml(lambda cell: add_labelled(cell, "Note", value))
    parsed = _cell_xml(lambda cell: add_markdown(cell, f"**Note:** {value}"))
    assert fast == parsed
