"""Lists a page at a time: Flask-SQLAlchemy's pagination, with the page's LIMIT and OFFSET
written into its statement, its statements made once for each list, and (for a list known to
stay short) the total counted in the page's own statement.

- LIMIT and OFFSET sent as parameters keep PostgreSQL from settling on one plan for the
  prepared statement (a plan for an unknown LIMIT is priced as if it read a tenth of the
  table), so it would plan the statement again at every request. Written in, each page's
  statement is planned once per connection.
- The page's statements are made once for each list's statement: a list whose statement is
  built once (its values as parameters, ``params``) is not built again, nor is its cache key
  worked out again, at every request.
- ``counted_with_page``: the total is ``count(*) OVER ()`` beside each row of the page
  (counted before the LIMIT), one statement instead of two. That reads every row of the list
  whole before the first is returned, so it is only for lists that stay short (one assessor's
  learners, their queue), never for the RTO's enrolments, the audit log or the outbox, whose
  total a narrow ``count(*)`` finds. A page past the last has no rows to carry it, and is
  counted apart.

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

#: The largest OFFSET a database takes (a 64-bit integer); a page further on is past the last.
_FURTHEST = 2**63 - 1

_pages: WeakKeyDictionary[Select[Any], dict[bool, Select[Any]]] = WeakKeyDictionary()
_counts: WeakKeyDictionary[Select[Any], Select[Any]] = WeakKeyDictionary()


def _page_of(query: Select[Any], *, counted: bool) -> Select[Any]:
    """A page of ``query`` (with its total beside each row if ``counted``), made once."""
    made = _pages.setdefault(query, {})
    found = made.get(counted)
    if found is None:
        page = query.add_columns(func.count().over()) if counted else query
        found = made[counted] = page.limit(
            bindparam("page_limit", type_=Integer, literal_execute=True)
        ).offset(bindparam("page_offset", type_=Integer, literal_execute=True))
    return found


def _count_of(query: Select[Any]) -> Select[Any]:
    """The number of rows of ``query``, made once."""
    found = _counts.get(query)
    if found is None:
        rows = query.options(lazyload("*")).order_by(None).subquery()
        found = _counts[query] = select(func.count()).select_from(rows)
    return found


class _Page(SelectPagination):
    _total: int | None = None

    def _query_items(self) -> list[Any]:
        if self._query_offset > _FURTHEST:
            return []
        query, counted = self._query_args["select"], self._query_args["counted"]
        given = {
            **self._query_args["params"],
            "page_limit": self.per_page,
            "page_offset": self._query_offset,
        }
        result = self._query_args["session"].execute(_page_of(query, counted=counted), given)
        if not counted:
            return list(result.unique().scalars())
        rows = result.unique().all()
        if rows:
            self._total = rows[0][-1]
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        if self._total is not None:
            return self._total
        count = _count_of(self._query_args["select"])
        return self._query_args["session"].scalar(count, self._query_args["params"]) or 0


def paginate(
    query: Select[Any],
    *,
    per_page: int,
    params: Mapping[str, Any] | None = None,
    counted_with_page: bool = False,
) -> SelectPagination:
    """The page of ``query`` (with the values of its parameters, ``params``) the request asks
    for (``?page=``), ``per_page`` rows a page, with the total (counted in the same statement
    if ``counted_with_page``: for lists that stay short); a page past the last is empty rather
    than an error, and the page says so."""
    return _Page(
        select=query,
        params=dict(params or {}),
        counted=counted_with_page,
        session=db.session(),
        page=None,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
    )
