"""Expressions SQLite and PostgreSQL spell differently: the month of a date, the days between
two moments, and a column its index must not drive. Each dialect gets its own spelling, so
the queries aggregate in the database and keep their plans on both."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class month_of(FunctionElement[str]):
    """ "2026-11" for a date or a moment."""

    type = String()
    inherit_cache = True


class local_month_of(FunctionElement[str]):
    """ "2026-11" for a stored moment (UTC) as it fell in a time zone: ``local_month_of(column,
    zone)``, ``zone`` a ``ZoneInfo``. PostgreSQL converts each moment with the zone's rules;
    SQLite has no time zones, so each moment is shifted by the zone's offset from UTC now (an
    upload within an hour of midnight on the first of a month, on the other side of a daylight
    saving change, can fall in the neighbouring month)."""

    type = String()
    inherit_cache = True

    def __init__(self, column: Any, zone: ZoneInfo) -> None:
        offset = datetime.now(zone).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        super().__init__(
            column,
            literal(zone.key, String()),
            literal(f"{minutes:+d} minutes", String()),
        )


class days_between(FunctionElement[float]):
    """The days (with fractions) from the first moment to the second."""

    type = Float()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(local_month_of, "sqlite")
def _local_month_sqlite(element: local_month_of, compiler: Any, **kw: Any) -> str:
    column, _zone, offset = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(column, **kw)}, {compiler.process(offset, **kw)})"


@compiles(local_month_of, "postgresql")
def _local_month_postgresql(element: local_month_of, compiler: Any, **kw: Any) -> str:
    column, zone, _offset = list(element.clauses)
    return (
        f"to_char(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)}), "
        "'YYYY-MM')"
    )


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 86400.0)"
    )


class not_by_index(FunctionElement[int]):
    """The column as it is, for comparing, but not through its own index. SQLite's planner,
    without statistics, may drive a lookup from an index that matches half a table (every
    mapping of a criterion, every learner's) rather than from the narrow one beside it;
    ``+column`` is SQLite's way to rule that index out. PostgreSQL plans from statistics."""

    type = Integer()
    inherit_cache = True


@compiles(not_by_index, "sqlite")
def _not_by_index_sqlite(element: not_by_index, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(not_by_index)
def _not_by_index(element: not_by_index, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)
