"""Words for numbers, dates and sizes, as the RTO writes them: "3 criteria", 22/11/2026, 1.5 MB.

Pages (through the template filters ``count``, ``au_date``, ``au_datetime`` and ``file_size``),
documents, messages and commands all format here, so they never disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

IRREGULAR_PLURALS = {
    "criterion": "criteria",
    "stratum": "strata",
    "damaged copy": "damaged copies",
    "entry": "entries",
    "credential entry": "credential entries",
}

#: Day first, as Australian (and UK) RTOs write dates.
DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H:%M"

MB = 1024 * 1024


def count(n: int, noun: str) -> str:
    """``count(1, "event")`` -> "1 event"; ``count(2, "criterion")`` -> "2 criteria"."""
    return f"{n} {noun if n == 1 else IRREGULAR_PLURALS.get(noun, noun + 's')}"


def day(value: date | datetime | None, zone: ZoneInfo | None = None) -> str:
    """22/11/2026. A stored moment (UTC) is first put in ``zone``, the RTO's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime) and zone is not None:
        value = value.astimezone(zone)
    return value.strftime(DATE_FORMAT)


def day_and_time(value: datetime | None, zone: ZoneInfo) -> str:
    """22/11/2026 14:05, in ``zone``, the RTO's time zone."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime(f"{DATE_FORMAT} {TIME_FORMAT}")


def file_size(size: int) -> str:
    """A size as people read it: ``50 MB``, ``1.5 MB``, ``200 KB``, ``12 bytes``."""
    if size >= MB:
        megabytes = size / MB
        return f"{megabytes:.0f} MB" if size % MB == 0 else f"{megabytes:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return "1 byte" if size == 1 else f"{size} bytes"
