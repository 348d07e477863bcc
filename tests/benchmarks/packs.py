"""Seconds per evidence pack, beside the floor: python-docx writing the same content alone.

The pack is timed as ``flask exports pack`` makes it: load the enrolment's data, lay out the
document, save it (to memory). The floor reads that pack back with python-docx (its
paragraphs with their styles, its tables cell by cell, its pictures) and times a plain script
writing an equivalent document from those, in memory, with no database: the cost of the
paragraphs, tables and images themselves, which no change to the app can go below.
"""

from __future__ import annotations

import io
import statistics
import time
from dataclasses import dataclass

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import Table
from docx.text.paragraph import Paragraph
from flask import Flask

from portfolio.exports.letterhead import Letterhead
from portfolio.exports.pack import build_pack, pack_data
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import Enrolment


@dataclass
class Block:
    kind: str  # "paragraph", "table" or "picture"
    style: str = ""
    text: str = ""
    rows: list[list[str]] | None = None
    blob: bytes = b""


def make_pack(app: Flask, enrolment_id: int) -> bytes:
    """The pack's bytes, built as ``flask exports pack`` builds it."""
    with app.app_context():
        config = app.config
        enrolment = db.session.get(Enrolment, enrolment_id)
        data = pack_data(db.session, enrolment, currency_years=config["EVIDENCE_CURRENCY_YEARS"])
        document = build_pack(
            data, letterhead=Letterhead.from_config(config), open_file=storage().open
        )
        out = io.BytesIO()
        document.save(out)
        db.session.remove()
    return out.getvalue()


def read_blocks(pack: bytes) -> list[Block]:
    """The pack's body in order: paragraphs (text and style), tables (cell texts), pictures."""
    document = Document(io.BytesIO(pack))
    blocks: list[Block] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, document._body)
            pictures = child.findall(".//" + qn("a:blip"))
            for blip in pictures:
                part = document.part.related_parts[blip.get(qn("r:embed"))]
                blocks.append(Block("picture", blob=part.blob))
            if paragraph.text or not pictures:
                blocks.append(Block("paragraph", style=paragraph.style.name, text=paragraph.text))
        elif child.tag == qn("w:tbl"):
            table = Table(child, document._body)
            rows = [[cell.text for cell in row.cells] for row in table.rows]
            blocks.append(Block("table", rows=rows))
    return blocks


def write_floor(blocks: list[Block]) -> bytes:
    """The same paragraphs, tables and pictures written with python-docx alone."""
    document = Document()
    for block in blocks:
        if block.kind == "paragraph":
            document.add_paragraph(block.text, style=block.style or None)
        elif block.kind == "picture":
            document.add_picture(io.BytesIO(block.blob), width=Cm(12))
        else:
            rows = block.rows or [[]]
            table = document.add_table(rows=0, cols=max(len(r) for r in rows) or 1)
            table.style = "Table Grid"
            for values in rows:
                for cell, value in zip(table.add_row().cells, values, strict=False):
                    cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def measure(app: Flask, enrolment_id: int, *, repeats: int = 3, warm: bool = True) -> dict:
    """Median seconds for the pack and for its floor, over ``repeats`` runs each; ``warm``
    first builds one pack untimed (templates, fonts, the store's page cache)."""
    if warm:
        make_pack(app, enrolment_id)
    pack_times, pack = [], b""
    for _ in range(repeats):
        seconds, pack = _timed(lambda: make_pack(app, enrolment_id))
        pack_times.append(seconds)
    blocks = read_blocks(pack)
    if warm:
        write_floor(blocks)
    floor_times = [_timed(lambda: write_floor(blocks))[0] for _ in range(repeats)]
    pack_seconds = statistics.median(pack_times)
    floor_seconds = statistics.median(floor_times)
    return {
        "enrolment": enrolment_id,
        "pack_seconds": pack_seconds,
        "floor_seconds": floor_seconds,
        "ratio": pack_seconds / floor_seconds,
        "pack_bytes": len(pack),
        "paragraphs": sum(1 for b in blocks if b.kind == "paragraph"),
        "tables": sum(1 for b in blocks if b.kind == "table"),
        "table_rows": sum(len(b.rows or []) for b in blocks if b.kind == "table"),
        "pictures": sum(1 for b in blocks if b.kind == "picture"),
    }
