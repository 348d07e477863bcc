"""Statements per request: each page requested through the Flask test client, in this process,
against the same database the server uses, counting with a ``before_cursor_execute`` listener.

The client logs in through the login form (with its CSRF token) as the load driver does; each
page is requested once to warm up and once counted, then timed one request at a time: with no
other request competing, that time follows the work the page does for its data, where the
latency under load also follows whatever else the machine is doing.
"""

from __future__ import annotations

import statistics
import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portfolio.extensions import db
from tests.benchmarks.load import LoadError, csrf_token


def _logged_in(app: Flask, email: str | None, password: str) -> FlaskClient:
    client = app.test_client()
    if email is None:
        return client
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page.data), "email": email, "password": password},
    )
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise LoadError(f"logging in as {email} in process failed ({response.status_code})")
    return client


def count_queries(
    app: Flask, pages: list[tuple[str, str, str | None]], password: str, *, timed: int = 10
) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """``pages`` as (name, path, email or None for anonymous) -> statements per request, and
    for each page the median milliseconds of ``timed`` more requests, one at a time, with the
    mean milliseconds of those spent in the database (between ``before_cursor_execute`` and
    ``after_cursor_execute``)."""
    with app.app_context():
        engine = db.engine
    counts: dict[str, int] = {}
    timings: dict[str, dict[str, float]] = {}
    clients: dict[str | None, FlaskClient] = {}
    statements: list[str] = []
    in_database = [0.0]
    began: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)
        began.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        if began:
            in_database[0] += time.perf_counter() - began.pop()

    for name, path, email in pages:
        if email not in clients:
            clients[email] = _logged_in(app, email, password)
        client = clients[email]
        warm = client.get(path)
        if warm.status_code != 200:
            raise LoadError(f"{path} answered {warm.status_code} in process")
        statements.clear()
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            response = client.get(path)
            if response.status_code != 200:
                raise LoadError(f"{path} answered {response.status_code} in process")
            counts[name] = len(statements)
            in_database[0] = 0.0
            times = []
            for _ in range(timed):
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        timings[name] = {
            "median_ms": statistics.median(times) * 1000 if times else 0.0,
            "database_ms": in_database[0] / max(timed, 1) * 1000,
        }
    return counts, timings
