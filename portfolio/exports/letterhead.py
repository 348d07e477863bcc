"""Who a Word document is from and the paper it is laid out on: the RTO's name and code, its
time zone and its paper size (``RTO_NAME``, ``RTO_CODE``, ``RTO_TIMEZONE``, ``PAPER_SIZE``).

Every export starts from ``new_document``, so a pack, a matrix and the bundle's documents are
all on the same paper; sections added later (landscape pages) inherit the size, turned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.shared import Cm, Length, Mm, Pt

#: Paper an RTO may choose: width and height in portrait. A4 is the default (Australia and
#: the UK print on it); Letter is for providers that work on US paper.
PAPER_SIZES: dict[str, tuple[Length, Length]] = {
    "A4": (Mm(210), Mm(297)),
    "Letter": (Mm(215.9), Mm(279.4)),
}


def paper_size(name: object) -> str:
    """The paper's name as ``PAPER_SIZES`` spells it; ValueError naming the choices."""
    wanted = str(name or "").strip().lower()
    for known in PAPER_SIZES:
        if known.lower() == wanted:
            return known
    raise ValueError(f"PAPER_SIZE must be {' or '.join(PAPER_SIZES)}, not {name!r}.")


@dataclass(frozen=True)
class Letterhead:
    rto_name: str
    rto_code: str = ""
    paper: str = "A4"
    zone: str = "Australia/Sydney"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Letterhead:
        return cls(
            rto_name=str(config["RTO_NAME"]),
            rto_code=str(config.get("RTO_CODE") or "").strip(),
            paper=paper_size(config.get("PAPER_SIZE", "A4")),
            zone=str(config["RTO_TIMEZONE"]),
        )

    @property
    def issuer(self) -> str:
        """The RTO as a cover names it: "Example College (RTO 12345)"."""
        return f"{self.rto_name} (RTO {self.rto_code})" if self.rto_code else self.rto_name


#: The margins of a portrait page.
MARGIN = Cm(2)


def new_document(
    letterhead: Letterhead, *, margin: Length = MARGIN, font_size: float = 10.5
) -> DocxDocument:
    """An empty document on the RTO's paper, portrait, with the house font."""
    document: DocxDocument = Document()
    normal = document.styles["Normal"].font
    normal.name = "Calibri"
    normal.size = Pt(font_size)
    section = document.sections[0]
    section.page_width, section.page_height = PAPER_SIZES[letterhead.paper]
    section.left_margin = section.right_margin = margin
    section.top_margin = section.bottom_margin = margin
    return document
