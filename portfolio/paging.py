"""Lists a page at a time: Flask-SQLAlchemy's pagination, with the total counted in the same
statement as the page and the page's LIMIT and OFFSET written into it.

- The total is ``count(*) OVER ()`` beside each row of the page (counted before the LIMIT):
  one statement, not a second one to count. A page past the last has no rows to carry it, and
  is counted apart.
- LIMIT and OFFSET sent as parameters keep PostgreSQL from settling on one plan for the
  prepared statement (a plan for an unknown LIMIT is priced as if it read a tenth of the
  table), so it would plan the statement again at every request. Written in, each page's
  statement is planned once per connection.
- The page's statement is made once for each list's statement: a list whose statement is
  built once (its values as parameters, ``params``) is not built again, nor is its cache key
  worked out again, at every request.

For statements of one entity, without DISTINCT or GROUP BY (the count would be of the rows
before they are merged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import lazyload

from portfolio.extensions import db

_pages: WeakKeyDictionary[Select[Any], tuple[Select[Any], Select[Any]]] = WeakKeyDictionary()


def _statements(query: Select[Any]) -> tuple[Select[Any], Select[Any]]:
    """A page of ``query`` with its total, and the count of all its rows, made once."""
    found = _pages.get(query)
    if found is None:
        page = (
            query.add_columns(func.count().over())
            .limit(bindparam("page_limit", type_=Integer, literal_execute=True))
            .offset(bindparam("page_offset", type_=Integer, literal_execute=True))
        )
        rows = query.options(lazyload("*")).order_by(None).subquery()
        found = _pages[query] = (page, select(func.count()).select_from(rows))
    return found


class _Page(SelectPagination):
    _total: int | None = None

    def _query_items(self) -> list[Any]:
        page, _ = _statements(self._query_args["select"])
        given = {
            **self._query_args["params"],
            "page_limit": self.per_page,
            "page_offset": self._query_offset,
        }
        rows = self._query_args["session"].execute(page, given).unique().all()
        if rows:
            self._total = rows[0][-1]
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        _, count = _statements(self._query_args["select"])
        return self._query_args["session"].scalar(count, self._query_args["params"]) or 0


def paginate(
    query: Select[Any], *, per_page: int, params: Mapping[str, Any] | None = None
) -> SelectPagination:
    """The page of ``query`` (with the values of its parameters, ``params``) the request asks
    for (``?page=``), ``per_page`` rows a page, with the total; a page past the last is empty
    rather than an error, and the page says so."""
    return _Page(
        select=query,
        params=dict(params or {}),
        session=db.session(),
        page=None,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
    )
