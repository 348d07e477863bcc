"""Reading a unit's text as the import page does (``text_from_upload`` then ``prepare``): the
published texts in ``tests/units/texts`` against texts shaped as hostile input, each read at
two sizes up to the import's limit.

A shape read in linear time is read at the same rate (bytes of the page a second, a Word file's
document part unpacked) at both sizes; one read in quadratic time falls behind by the factor
its size grew. The published texts' rate is
the baseline: how fast a real page is read.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx

from portfolio.units.importing import MAX_TEXT_CHARS, prepare, text_from_upload

TEXTS = Path(__file__).resolve().parents[1] / "units" / "texts"
HEAD = "ABC123 Do the work (Release 1)\nElements and Performance Criteria\n1. Act\n1.1 Do it\n"


def _repeated(unit: str, chars: int) -> str:
    return unit * (chars // len(unit))


def _word_file(chars: int) -> bytes:
    document = docx.Document()
    document.add_paragraph("ABC123 Do the work (Release 1)")
    document.add_paragraph("Knowledge Evidence")
    for _ in range(chars // 45):
        document.add_paragraph("hazards in the work area and controls:", style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


#: Name -> (file name, the file's bytes at about so many characters of text).
SHAPES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "Colon lines, each leading the next": (
        "unit.txt",
        lambda n: (HEAD + "Knowledge Evidence\n" + _repeated("group of things:\n", n)).encode(),
    ),
    "One list, every item worded alike": (
        "unit.txt",
        lambda n: (
            HEAD + "Knowledge Evidence\nknowledge of:\n" + _repeated("reporting hazards\n", n)
        ).encode(),
    ),
    "Lettered and numbered items mixed": (
        "unit.txt",
        lambda n: (
            HEAD + "Knowledge Evidence\nthings:\n" + _repeated("a. x\n1. y\ni. z\n", n)
        ).encode(),
    ),
    "Table rows, cells broken by <br>": (
        "unit.md",
        lambda n: (
            "| Element | Performance Criteria |\n| --- | --- |\n"
            + _repeated("| 1. E | 1.1 a<br>1.2 b<br>1.3 c |\n", n)
        ).encode(),
    ),
    "Lines of spaces only": ("unit.txt", lambda n: _repeated("   \n", n).encode()),
    "A line of other spaces": (
        "unit.txt",
        lambda n: (HEAD + "Knowledge Evidence\nA" + "\u1680" * (n // 3) + "b\n").encode(),
    ),
    "Spaces between a line's cells": (
        "unit.txt",
        lambda n: (HEAD + "x\t" + " " * n + "y\n").encode(),
    ),
    "An element's lines run on": (
        "unit.txt",
        lambda n: (HEAD + _repeated("x\n", n)).encode(),
    ),
    "Notes, then one bullet": (
        "unit.txt",
        lambda n: (HEAD + "Knowledge Evidence\n" + _repeated("Note a\n", n) + "• b\n").encode(),
    ),
    "HTML list item of empty lines": (
        "unit.html",
        lambda n: ("<h1>ABC123 Do the work</h1><ul><li>" + _repeated(" <br>", n) + "x").encode(),
    ),
    "Markdown links never closed": (
        "unit.md",
        lambda n: ("| Element | Performance Criteria |\n| 1. E | " + _repeated("[a](", n)).encode(),
    ),
    "HTML lists nested without end": (
        "unit.html",
        # Each <ul><li> a line of up to 25 characters, indented by its depth.
        lambda n: ("<h1>ABC123 Do the work</h1>" + "<ul><li>item" * (n // 25)).encode(),
    ),
    "HTML of tags never closed": (
        "unit.html",
        lambda n: ("<h1>ABC123 Do the work</h1>" + _repeated("<a b='", n)).encode(),
    ),
    "Word file of list paragraphs": ("unit.docx", _word_file),
}


def _read(name: str, data: bytes) -> tuple[int, int, float]:
    """The page's bytes, the characters of text read from it, and the seconds taken."""
    started = time.perf_counter()
    text = text_from_upload(name, io.BytesIO(data))
    prepare(text)
    return _unpacked(name, data), len(text), time.perf_counter() - started


def _unpacked(name: str, data: bytes) -> int:
    """The bytes the reader works through: a Word file's document part unpacked (its ZIP packs
    four times the paragraphs into barely more bytes, beside styles and a theme of the same
    size whatever the text), any other page as it is."""
    if not name.endswith(".docx"):
        return len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.getinfo("word/document.xml").file_size


def measure(quick: bool = False) -> dict:
    """The published texts' rate, and each shape's at a quarter of the limit and at the limit
    (a twelfth of each in a quick run)."""
    published = sorted(
        p for p in TEXTS.iterdir() if p.suffix in (".txt", ".md", ".docx") and p.name != "README.md"
    )
    size = seconds = 0.0
    for path in published:
        read, _, took = _read(path.name, path.read_bytes())
        size, seconds = size + read, seconds + took
    quarter, limit = MAX_TEXT_CHARS // 4, MAX_TEXT_CHARS - 1000
    sizes = (quarter // 12, limit // 12) if quick else (quarter, limit)
    shapes = {}
    for shape, (name, make) in SHAPES.items():
        runs = []
        for size in sizes:
            read, chars, took = _read(name, make(size))
            runs.append({"bytes": read, "chars": chars, "seconds": took, "per_second": read / took})
        shapes[shape] = {"runs": runs}
    return {
        "published": {"texts": len(published), "bytes": size, "per_second": size / seconds},
        "shapes": shapes,
    }
