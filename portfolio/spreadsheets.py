"""Cells for CSV files and Excel workbooks that a spreadsheet shows as text, never runs.

Every CSV or workbook the app writes (the outcomes register, a Moodle framework) goes through
these, so a learner's name that starts with "=" stays a name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openpyxl.cell import WriteOnlyCell

# A spreadsheet treats a cell that starts with one of these as a formula (tab and carriage
# return too, in some). OWASP's advice for CSV: make it text with a leading single quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula: a leading ' where it could start one."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """A value as CSV text: dates in ISO form, yes/no, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    return excel_safe(str(value))


def xlsx_cell(sheet: Any, value: Any) -> WriteOnlyCell:
    """A value as a write-only workbook cell: dates as dates, text always as text."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, str):
        # Text stays text: "=..." is not a formula, "#N/A" not an error, "20" not a number.
        cell.data_type = "s"
        cell.number_format = "@"
    return cell
