"""An enrolment's evidence pack as a reader opens it: built as the app builds it, saved, and
read back with python-docx."""

from __future__ import annotations

import io

import docx
from docx.document import Document

from portfolio.exports.letterhead import Letterhead
from portfolio.exports.pack import build_pack, pack_data
from portfolio.extensions import db
from portfolio.files.uploads import storage


def read_pack(enrolment) -> Document:
    buffer = io.BytesIO()
    build_pack(
        pack_data(db.session, enrolment),
        letterhead=Letterhead("Test RTO", "91234"),
        open_file=storage().open,
    ).save(buffer)
    return docx.Document(io.BytesIO(buffer.getvalue()))


def rows(document: Document) -> list[list[str]]:
    """Every table row's cells' text."""
    return [[c.text for c in r.cells] for t in document.tables for r in t.rows]


def text(document: Document) -> str:
    """Every paragraph, then every table row (cells tab-separated), one per line."""
    return "\n".join([p.text for p in document.paragraphs] + ["\t".join(r) for r in rows(document)])


def pictures(document: Document) -> list[bytes]:
    """The bytes of every picture in the document."""
    return [r.target_part.blob for r in document.part.rels.values() if "image" in r.reltype]
