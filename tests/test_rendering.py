"""Markdown descriptions and Word previews reach the page sanitised."""

from __future__ import annotations

import io
import re

import docx
import pytest
from docx.shared import Inches

from portfolio.rendering import PreviewUnavailable, preview_docx, render_markdown
from tests.files import docx_bytes, png_bytes


def test_markdown_formats_what_learners_write():
    html = render_markdown(
        "## Steps taken\n\n- called the customer\n- **logged** the complaint\n\n"
        "| Date | Action |\n|---|---|\n| 3 May | Refund |\n\n~~draft~~"
    )
    assert "<h4>Steps taken</h4>" in html
    assert "<li>called the customer</li>" in html
    assert "<strong>logged</strong>" in html
    assert "<td>Refund</td>" in html
    assert "<s>draft</s>" in html


def test_learner_headings_never_outrank_the_page():
    html = render_markdown("# My report")
    assert "<h3>My report</h3>" in html
    assert "<h1" not in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src='https://example.org'></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_script_in_markdown_never_runs(source):
    html = render_markdown(source)
    tags = re.findall(r"<[a-z][^>]*>", html)  # real tags; escaped text starts with &lt;
    assert tags, html
    for tag in tags:
        assert not re.match(r"<(script|iframe|img)\b", tag), tag
        assert "javascript:" not in tag and "onerror" not in tag and "data:" not in tag, tag


def test_links_are_kept_and_do_not_leak_the_opener():
    html = render_markdown("See [the policy](https://example.org/policy).")
    assert 'href="https://example.org/policy"' in html
    assert "noopener" in html


def test_empty_description_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
    assert render_markdown("   \n") == ""


def test_word_preview_shows_the_documents_text():
    html = preview_docx(io.BytesIO(docx_bytes("Complaint log", "Refund issued on 3 May.")))
    assert "<h3>Complaint log</h3>" in html
    assert "Refund issued on 3 May." in html


def test_word_preview_keeps_embedded_images_inline():
    document = docx.Document()
    document.add_paragraph("Site photo:")
    document.add_picture(io.BytesIO(png_bytes()), width=Inches(1))
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    html = preview_docx(out)
    assert '<img src="data:image/png;base64,' in html


def test_word_preview_drops_active_content():
    document = docx.Document()
    document.add_paragraph("<script>alert(1)</script>")
    out = io.BytesIO()
    document.save(out)
    out.seek(0)
    html = preview_docx(out)
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_a_file_that_is_not_word_says_so():
    with pytest.raises(PreviewUnavailable, match="could not be read as a Word document"):
        preview_docx(io.BytesIO(b"PK\x03\x04 this is not really a docx"))
