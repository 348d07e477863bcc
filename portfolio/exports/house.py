"""The house style of the RTO's documents (the evidence pack, the validation report): tables
with a shaded header row that repeats on each page, label and value tables, and dates in the
RTO's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Cm

from portfolio.exports.docx_support import (
    keep_rows_whole,
    repeat_header_row,
    set_column_widths,
    shade_cell,
    xml_safe,
)
from portfolio.text import day, day_and_time

HEADING_FILL = "D9E2F3"


def grid_table(document, headers: list[str], widths: list[float] | None = None):
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        shade_cell(cell, HEADING_FILL)
    repeat_header_row(table)
    keep_rows_whole(table)
    if widths:
        set_column_widths(table, [Cm(w) for w in widths])
    return table


def grid_row(table, values: list[str], widths: list[float] | None = None):
    cells = table.add_row().cells
    for cell, value in zip(cells, values, strict=True):
        cell.text = xml_safe(value)
    if widths:
        for cell, width in zip(cells, widths, strict=True):
            cell.width = Cm(width)
    return cells


def facts(document, pairs: list[tuple[str, str]]) -> None:
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in pairs:
        cells = table.add_row().cells
        cells[0].text = ""
        cells[0].paragraphs[0].add_run(label).bold = True
        shade_cell(cells[0], HEADING_FILL)
        cells[1].text = xml_safe(value)
    set_column_widths(table, [Cm(5), Cm(11)])


class Clock:
    """Dates and times as the RTO reads them, in its time zone."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def date(self, value: date | datetime | None) -> str:
        return day(value, self.zone)

    def datetime(self, value: datetime | None) -> str:
        return day_and_time(value, self.zone)
