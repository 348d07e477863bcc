"""Learner-written Markdown and uploaded Word files, turned into HTML that is safe to show.

Both paths end in ``nh3`` with an explicit allow-list: whatever the renderer produced, only
the tags and attributes below reach the page. Headings are shifted down so a learner's
``# Title`` never competes with the page's own ``<h1>``.
"""

from __future__ import annotations

import re
from typing import BinaryIO

import mammoth
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

#: The shallowest heading level learner content may use on a page.
TOP_HEADING = 3

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]+$")
_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


class PreviewUnavailable(Exception):
    """The file cannot be read as a Word document; the message says so in plain words."""


def _shift_headings(html: str) -> str:
    def shift(match: re.Match[str]) -> str:
        level = min(6, int(match.group(2)) + TOP_HEADING - 1)
        return f"<{match.group(1)}h{level}"

    return _HEADING.sub(shift, html)


def _clean(
    html: str,
    *,
    tags: set[str],
    attributes: dict[str, set[str]],
    url_schemes: set[str] = _URL_SCHEMES,
    **options,
) -> Markup:
    cleaned = nh3.clean(
        _shift_headings(html),
        tags=tags,
        attributes=attributes,
        url_schemes=url_schemes,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        **options,
    )
    return Markup(cleaned)  # nh3 output is the sanitised form


def render_markdown(text: str | None) -> Markup:
    """A description as HTML: CommonMark plus tables and strikethrough, raw HTML escaped."""
    if not text or not text.strip():
        return Markup("")
    return _clean(_markdown.render(text), tags=_TAGS, attributes=_ATTRIBUTES)


def _keep_data_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _DATA_IMAGE.match(value) else None
    if attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


def preview_docx(fp: BinaryIO) -> Markup:
    """A Word document as sanitised HTML; embedded PNG, JPEG and GIF images stay inline."""
    try:
        result = mammoth.convert_to_html(fp)
    except MemoryError:
        raise  # not a fault of the file's: the caller's limits say what to do
    except Exception as error:  # mammoth raises zipfile, KeyError and XML errors alike
        raise PreviewUnavailable(
            "This file could not be read as a Word document, so there is no preview. "
            "Download it to open it."
        ) from error
    img_attributes = {"img": {"src", "alt"}}
    return _clean(
        result.value,
        tags=_TAGS | {"img"},
        attributes=_ATTRIBUTES | img_attributes,
        url_schemes=_URL_SCHEMES | {"data"},
        attribute_filter=_keep_data_images,
    )
