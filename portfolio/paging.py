"""Lists a page at a time: Flask-SQLAlchemy's pagination, with each page's LIMIT and OFFSET
written into its statement.

Sent as parameters, they keep PostgreSQL from settling on one plan for the prepared statement
(a plan made for an unknown LIMIT is priced as if it read a tenth of the table), so it plans
the statement again at every request. Written in, each page's statement is planned once per
connection; SQLAlchemy still builds it once for all pages.
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Integer, Select, bindparam

from portfolio.extensions import db


class _Page(SelectPagination):
    def _query_items(self) -> list[Any]:
        query = self._query_args["select"]
        query = query.limit(
            bindparam("page_limit", self.per_page, Integer, literal_execute=True)
        ).offset(bindparam("page_offset", self._query_offset, Integer, literal_execute=True))
        return list(self._query_args["session"].execute(query).unique().scalars())


def paginate(query: Select[Any], *, per_page: int) -> SelectPagination:
    """The page of ``query`` the request asks for (``?page=``), ``per_page`` rows a page; a page
    past the last is empty rather than an error, and the page says so."""
    return _Page(
        select=query,
        session=db.session(),
        page=None,
        per_page=per_page,
        max_per_page=None,
        error_out=False,
        count=True,
    )
