"""How a request's transaction ends: work that was not saved is never kept, and on PostgreSQL
a request that only read ends with COMMIT, which keeps psycopg's prepared statements (it
forgets them at every ROLLBACK).

Each request here runs in an empty context, as in a server, so the app ends its own app
context (the other tests hold one open around their requests, and it is never ended there).
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portfolio.extensions import db
from portfolio.models import User
from tests.conftest import PASSWORD


def served(client: FlaskClient, method: str, url: str, **kwargs: Any) -> Any:
    """``client.open`` in a context of its own, as a server runs each request."""
    return contextvars.Context().run(client.open, url, method=method, **kwargs)


def stored_name(user_id: int) -> str:
    with db.engine.connect() as connection:
        return connection.scalar(select(User.name).where(User.id == user_id))


@pytest.fixture
def renaming(app: Flask, make_user: Callable[..., Any]) -> tuple[FlaskClient, int]:
    """A page that changes a user's name and never saves it: only flushed (``flush=1``), or
    left in the session, and then failing (``fail=1``) or answering as if all went well."""

    def rename(user_id: int) -> str:
        user = db.session.get(User, user_id)
        assert user is not None
        user.name = "Changed Without Saving"
        if request.args.get("flush"):
            db.session.flush()
        if request.args.get("fail"):
            raise RuntimeError("the page failed after changing something")
        return "done"

    app.add_url_rule("/test-only/rename/<int:user_id>", view_func=rename)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    user = make_user("learner", name="Lee Learner")
    return FlaskClient(app, app.response_class), user.id


@pytest.mark.parametrize(
    "query",
    ["", "?flush=1", "?fail=1", "?flush=1&fail=1"],
    ids=["kept", "flushed", "failed", "flushed-failed"],
)
def test_a_change_a_page_did_not_save_is_not_kept(renaming, query: str) -> None:
    """Whether the page flushed its change to the database or not, and whether it then failed
    or answered, the change it never committed is gone when the request ends."""
    client, user_id = renaming
    response = served(client, "GET", f"/test-only/rename/{user_id}{query}")
    assert response.status_code == (500 if "fail" in query else 200)
    assert stored_name(user_id) == "Lee Learner"


@pytest.mark.parametrize("who", ["learner", "assessor"])
def test_pages_that_only_read_are_planned_once(
    app: Flask, make_user: Callable[..., Any], make_enrolment: Callable[..., Any], who: str
) -> None:
    """On PostgreSQL, a page read over and over is planned once per connection: its statements
    stay prepared on the server between requests, and each settles on one plan (the learner's
    portfolio page; the assessor's review queue and dashboard, lists a page at a time)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's; run with DATABASE_URL=postgresql+...")
    learner, assessor = make_user("learner"), make_user("assessor")
    enrolment = make_enrolment(learner=learner, assessor=assessor)
    person = learner if who == "learner" else assessor
    email = person.email
    pages = [f"/enrolments/{enrolment.id}"] if who == "learner" else ["/review", "/dashboard"]
    db.session.remove()
    client = FlaskClient(app, app.response_class)
    login = served(client, "POST", "/login", data={"email": email, "password": PASSWORD})
    assert login.status_code == 302
    used: dict[int, Any] = {}
    ran: Counter[str] = Counter()

    def note(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        used[id(cursor.connection)] = cursor.connection
        ran[statement] += 1

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        # psycopg prepares a statement at its sixth run; PostgreSQL weighs one plan for all
        # runs against the five it made for each.
        for _ in range(12):
            for page in pages:
                assert served(client, "GET", page).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    plans: dict[str, tuple[int, int]] = {}
    for connection in used.values():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            )
            plans.update({row[0]: row[1:] for row in cursor.fetchall()})
        connection.rollback()
    # Each statement run at every request (not those that load a unit once per process).
    assert len(plans) == sum(1 for n in ran.values() if n >= 6), (plans, ran)
    assert all(generic > 0 for generic, _ in plans.values()), plans
