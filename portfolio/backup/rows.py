"""Rows as lines of JSON and back, for every table of ``portfolio.models``.

A backup holds one JSON-lines file per table: one JSON object per row, keyed by column name,
in primary key order. Values are written so that any database reads them back the same:

- text, numbers and booleans as themselves, ``null`` for NULL;
- timestamps and dates in ISO 8601 (``2026-11-22T03:05:00.123456+00:00``, ``2026-11-22``);
- enums by the value stored in the database (``"pc"``, ``"competent"``);
- a JSON column as ``{"json": <value>}``, so that a JSON ``null`` stays distinct from an SQL
  NULL, which is written as plain ``null``.

A new column type that none of these covers is refused when the backup is made, rather than
written in a form that might not read back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Select,
    String,
    Table,
    Time,
    TypeDecorator,
    bindparam,
    select,
    type_coerce,
    union,
)

from portfolio.extensions import db
from portfolio.files.uploads import stored_file_tables

#: Rows fetched from the database, and rows inserted, per round trip.
BATCH_SIZE = 500

_NULL_FLAG = "__sql_null__"
_DEFERRED_KEY = "__deferred_key__"


class UnsupportedColumn(Exception):
    """A column whose type the backup format has no encoding for."""


def tables() -> list[Table]:
    """Every table of the models, each after the tables it refers to.

    The one cycle (an evidence item names its current version; a version names its item) is
    broken by ``use_alter`` on the item's side, so the order exists; see ``deferred_columns``.
    """
    return list(db.metadata.sorted_tables)


def stored_files_query() -> Select[Any]:
    """Each stored file once, by key: ``(storage_key, sha256, size)`` in key order."""
    parts = [
        select(table.c.storage_key, table.c.sha256, table.c.size) for table in stored_file_tables()
    ]
    combined = union(*parts).subquery()
    return select(combined.c.storage_key, combined.c.sha256, combined.c.size).order_by(
        combined.c.storage_key
    )


def primary_key(table: Table) -> Column[Any]:
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise UnsupportedColumn(f"Table {table.name} has no single-column primary key.")
    return columns[0]


def deferred_columns(table: Table, order: list[Table]) -> list[Column[Any]]:
    """Foreign keys to the table itself or to a table restored after it.

    They are restored as NULL with the row and set once every row is in: a correction that
    replaces an entry, a nested target's parent, an evidence item's current version.
    """
    position = {t.name: i for i, t in enumerate(order)}
    here = position[table.name]
    deferred = []
    for column in table.columns:
        for foreign_key in column.foreign_keys:
            if position[foreign_key.column.table.name] >= here:
                if not column.nullable:
                    raise UnsupportedColumn(
                        f"{table.name}.{column.name} refers forward and cannot be NULL, so its "
                        "rows have no order to be restored in."
                    )
                deferred.append(column)
                break
    return deferred


def _base_type(column: Column[Any]) -> Any:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type


@dataclass(frozen=True)
class _Codec:
    name: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    is_json: bool = False


def _same(value: Any) -> Any:
    return value


def _codec(column: Column[Any]) -> _Codec:
    kind = _base_type(column)
    name = column.name

    def nullable(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda value: None if value is None else function(value)

    if isinstance(kind, JSON):
        return _Codec(name, _same, _same, is_json=True)
    if isinstance(kind, DateTime):
        return _Codec(name, nullable(datetime.isoformat), nullable(datetime.fromisoformat))
    if isinstance(kind, Date):
        return _Codec(name, nullable(date.isoformat), nullable(date.fromisoformat))
    if isinstance(kind, Time):
        return _Codec(name, nullable(time.isoformat), nullable(time.fromisoformat))
    if isinstance(kind, LargeBinary):
        return _Codec(
            name,
            nullable(lambda v: base64.b64encode(v).decode("ascii")),
            nullable(base64.b64decode),
        )
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return _Codec(name, nullable(str), nullable(Decimal))
    if isinstance(kind, Integer | String | Boolean | Float):  # Enum is a String
        return _Codec(name, _same, _same)
    raise UnsupportedColumn(
        f"Column {column.table.name}.{name} has type {column.type!r}, which backups do not know "
        "how to write; teach portfolio/backup/rows.py about it."
    )


class TableCodec:
    """Reads one table's rows as JSON-ready dicts, and turns such dicts back into rows."""

    def __init__(self, table: Table, order: list[Table]) -> None:
        self.table = table
        self.key = primary_key(table)
        self.codecs = [_codec(column) for column in table.columns]
        self.names = [codec.name for codec in self.codecs]
        self._by_name = {codec.name: codec for codec in self.codecs}
        self.deferred = [column.name for column in deferred_columns(table, order)]

    # Reading -------------------------------------------------------------------------------

    def query(self) -> Select[Any]:
        """Every row in primary key order. Enums come as the stored text; a JSON column comes
        with a flag saying whether it is SQL NULL."""
        selected: list[ColumnElement[Any]] = []
        for column in self.table.columns:
            if isinstance(_base_type(column), Enum):
                selected.append(type_coerce(column, String()).label(column.name))
            else:
                selected.append(column)
        for codec in self.codecs:
            if codec.is_json:
                selected.append(self.table.c[codec.name].is_(None).label(_NULL_FLAG + codec.name))
        return select(*selected).order_by(self.key)

    def rows(self, connection: Connection) -> Iterator[dict[str, Any]]:
        """Every row, streamed from the database a batch at a time."""
        result = connection.execution_options(yield_per=BATCH_SIZE).execute(self.query())
        for row in result.mappings():
            yield self.encode(row)

    def encode(self, row: Any) -> dict[str, Any]:
        line: dict[str, Any] = {}
        for codec in self.codecs:
            value = row[codec.name]
            if codec.is_json:
                line[codec.name] = None if row[_NULL_FLAG + codec.name] else {"json": value}
            else:
                line[codec.name] = codec.encode(value)
        return line

    # Writing -------------------------------------------------------------------------------

    def decode(self, line: Any) -> dict[str, Any]:
        """The values to insert for one line; raises ValueError when it does not fit."""
        if not isinstance(line, dict) or set(line) != set(self.names):
            raise ValueError(f"it does not have the columns of the {self.table.name} table")
        values: dict[str, Any] = {}
        for codec in self.codecs:
            value = line[codec.name]
            if codec.is_json:
                if value is None:
                    values[_NULL_FLAG + codec.name] = None
                elif isinstance(value, dict) and set(value) == {"json"}:
                    inner = value["json"]
                    values[_NULL_FLAG + codec.name] = JSON.NULL if inner is None else inner
                else:
                    raise ValueError(f"column {codec.name} is not written as {{'json': ...}}")
            elif codec.name in self.deferred:
                values[codec.name] = None
            else:
                values[codec.name] = codec.decode(value)
        return values

    def insert(self) -> Any:
        """An INSERT for rows from ``decode``: JSON columns bound so that SQL NULL stays NULL
        and a JSON ``null`` stays ``null``."""
        return self.table.insert().values(
            {
                codec.name: bindparam(_NULL_FLAG + codec.name, type_=JSON(none_as_null=True))
                for codec in self.codecs
                if codec.is_json
            }
        )

    def deferred_values(self, line: dict[str, Any]) -> dict[str, Any] | None:
        """The deferred foreign keys of one line, or None when they are all NULL."""
        if all(line[name] is None for name in self.deferred):
            return None
        values = {
            _DEFERRED_KEY + name: self._by_name[name].decode(line[name]) for name in self.deferred
        }
        return {_DEFERRED_KEY: line[self.key.name], **values}

    def update_deferred(self) -> Any:
        """An UPDATE setting the deferred foreign keys of one row (by primary key)."""
        return (
            self.table.update()
            .where(self.key == bindparam(_DEFERRED_KEY))
            .values({name: bindparam(_DEFERRED_KEY + name) for name in self.deferred})
        )
