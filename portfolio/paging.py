"""Lists a page at a time: Flask-SQLAlchemy's pagination, with the total counted in the same
statement as the page and the page's LIMIT and OFFSET written into it.

- The total is ``count(*) OVER ()`` beside each row of the page (counted before the LIMIT):
  one statement, not a second one to count. A page past the last has no rows to carry it, and
  is counted apart.
- LIMIT and OFFSET sent as parameters keep PostgreSQL from settling on one plan for the
  prepared statement (a plan for an unknown LIMIT is priced as if it read a tenth of the
  table), so it would plan the statement again at every request. Written in, each page's
  statement is planned once per connection; SQLAlchemy still builds it once for all pages.

For statements of one entity, without DISTINCT or GROUP BY (the count would be of the rows
before they are merged).
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Integer, Select, bindparam, func

from portfolio.extensions import db


class _Page(SelectPagination):
    _total: int | None = None

    def _query_items(self) -> list[Any]:
        query = (
            self._query_args["select"]
            .add_columns(func.count().over())
            .limit(bindparam("page_limit", self.per_page, Integer, literal_execute=True))
            .offset(bindparam("page_offset", self._query_offset, Integer, literal_execute=True))
        )
        rows = self._query_args["session"].execute(query).unique().all()
        if rows:
            self._total = rows[0][-1]
        return [row[0] for row in rows]

    def _query_count(self) -> int:
        return self._total if self._total is not None else super()._query_count()


def paginate(query: Select[Any], *, per_page: int) -> SelectPagination:
    """The page of ``query`` the request asks for (``?page=``), ``per_page`` rows a page, with
    the total; a page past the last is empty rather than an error, and the page says so."""
    return _Page(
        select=query,
        session=db.session(),
        page=None,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
    )
