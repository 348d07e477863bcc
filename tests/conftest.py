"""Fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL names one)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event, text

from portfolio import create_app
from portfolio.config import PROJECT_ROOT, normalise_database_url
from portfolio.extensions import db
from portfolio.units.loader import load_directory
from portfolio.units.sync import sync_units

DATA = Path(__file__).parent / "data"
UNITS_DIR = PROJECT_ROOT / "units"


def database_url(tmp_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    return normalise_database_url(url) if url else f"sqlite:///{tmp_path / 'test.sqlite3'}"


def reset_database() -> None:
    """Leave the test database empty, including what a migration test may have created."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
    )
    with app.app_context():
        reset_database()
        db.create_all()
        yield app
        db.session.remove()
        reset_database()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def synced(app: Flask) -> None:
    """The five units of ``units/`` loaded as ``flask units sync`` would."""
    result = load_directory(UNITS_DIR)
    assert result.ok, result.problems
    sync_units(db.session, result.units)
    db.session.commit()


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], object]:
    """``with count_queries() as counter: ...`` then ``counter.count`` is the statements run."""

    class Counter:
        count = 0
        statements: list[str]

    @contextmanager
    def counting() -> Iterator[Counter]:
        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
