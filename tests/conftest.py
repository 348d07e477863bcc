"""Fixtures: a fresh database per test (SQLite, or PostgreSQL when DATABASE_URL names one)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, event, make_url, text

from portfolio import create_app
from portfolio.config import PROJECT_ROOT, normalise_database_url
from portfolio.extensions import db, sqlite_foreign_keys_off
from portfolio.units.loader import load_directory
from portfolio.units.sync import sync_units
from tests.clamdserver import clamd_binary, running_clamd
from tests.redisserver import redis_binary, running_redis
from tests.s3server import S3Server, running_s3
from tests.snapshots import Snapshots

DATA = Path(__file__).parent / "data"
UNITS_DIR = PROJECT_ROOT / "units"


def database_url(tmp_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url = normalise_database_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url


@functools.cache
def _worker_database(url: str, worker: str) -> str:
    """Tests run in parallel (pytest -n): each worker gets a database of its own, made once."""
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def reset_database() -> None:
    """Leave the test database empty, including what a migration test may have created."""
    with db.engine.connect() as connection, sqlite_foreign_keys_off(connection):
        db.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        connection.commit()


class SessionOnlyClient(FlaskClient):
    """A test client whose login and CSRF token come from its session cookie alone.

    The ``app`` fixture keeps one app context open for the whole test, and Flask reuses it for
    every request, so what Flask-Login and Flask-WTF cache in ``g`` (the user, the CSRF token)
    would outlive a cleared cookie or an expired session. In a server each request has its own
    ``g``; forgetting both before each request makes every request prove who it is.
    """

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-compatible server (SeaweedFS), started once per test worker when asked for."""
    with running_s3(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis for the job queue, started once per test worker when asked for. Without
    redis-server the test skips, or fails when CI says it must be there."""
    _needed(redis_binary(), "redis-server")
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _needed(binary: str | None, package: str) -> None:
    """Skip without the server's binary, or fail when CI says it must be there."""
    if binary is None:
        reason = f"{package} is not installed (apt install {package})"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"CI needs it: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ClamAV daemon with the EICAR test signature, once per test worker."""
    _needed(clamd_binary(), "clamav-daemon")
    with running_clamd(tmp_path_factory.mktemp("clamd")) as path:
        yield path


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    """Database states this test process has built, to start later tests from a copy."""
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


def _schema() -> None:
    reset_database()
    db.create_all()


def _synced_units() -> None:
    _schema()
    result = load_directory(UNITS_DIR)
    assert result.ok, result.problems
    sync_units(db.session, result.units)


@pytest.fixture
def app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    snapshots: Snapshots,
) -> Iterator[Flask]:
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "instance"))
    # A shell that serves the app in production must not turn the tests into production.
    for variable in ("PORTFOLIO_ENV", "TRUSTED_PROXIES"):
        monkeypatch.delenv(variable, raising=False)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            # One audit key for every test, so the events in shared snapshots verify.
            "AUDIT_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            # scrypt is right for real accounts and far too slow for hundreds of test users.
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            # Each test reads the dashboard it has just changed (the keeping is tested apart).
            "DASHBOARD_CACHE_SECONDS": 0,
        }
    )
    app.test_client_class = SessionOnlyClient
    with app.app_context():
        # An empty schema, or with the units loaded if the test asks for them anywhere
        # among its fixtures (so no fixture's rows are lost to a later restore).
        if "synced" in request.fixturenames:
            snapshots.restore(app, "synced", _synced_units)
        else:
            snapshots.restore(app, "schema", _schema)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def synced(app: Flask) -> None:
    """The five units of ``units/`` loaded as ``flask units sync`` would (the ``app`` fixture
    starts such a test from the saved copy)."""


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


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Mail on, through a real SMTP server in this process; the fixture is its inbox. Emails
    are sent as soon as the request that wrote them commits (JOBS_SYNCHRONOUS), and a refused
    one is tried again at once (no pauses)."""
    from portfolio import queue
    from tests.smtpserver import Inbox, start

    monkeypatch.setattr(queue, "RETRY_PAUSES", [0, 0])
    inbox = Inbox()
    controller = start(inbox)
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_DEFAULT_SENDER="portfolio@rto.example.org",
        PUBLIC_URL="https://portfolio.rto.example.org",
        JOBS_SYNCHRONOUS=True,
    )
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real OpenID Connect provider process, started once per test worker."""
    from tests.oidcprovider import running_provider

    with running_provider(tmp_path_factory.mktemp("oidc") / "provider.log") as provider:
        yield provider


@pytest.fixture
def sso(app: Flask, oidc_provider) -> object:
    """The app signs people on with the test provider (the app is made again with it, as a
    deployment names its provider in the environment)."""
    from portfolio.auth import sso as sso_module

    app.config.update(
        OIDC_ISSUER=oidc_provider.issuer,
        OIDC_CLIENT_ID="portfolio-tests",
        OIDC_CLIENT_SECRET="not-a-secret",
        OIDC_NAME="Test Identity",
    )
    sso_module.init_app(app)
    return oidc_provider


PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app: Flask) -> Callable[..., object]:
    """``make_user("learner")`` -> a committed, active user with those roles."""
    from portfolio.auth.services import create_user
    from portfolio.models import Role

    counter = iter(range(1, 10_000))

    def make(*roles: str, name: str | None = None, email: str | None = None, **fields):
        n = next(counter)
        user = create_user(
            db.session,
            actor=None,
            name=name or f"Person {n}",
            email=email or f"person{n}@example.org",
            roles={Role(r) for r in roles or ("learner",)},
            password=PASSWORD,
            **fields,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[object], None]:
    """Log the test client in as a user, through the real login form."""

    def log_in(user) -> None:
        client.post("/logout")
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.text

    return log_in


@pytest.fixture
def make_enrolment(app: Flask, synced: None, make_user) -> Callable[..., object]:
    """``make_enrolment(learner=..., assessor=..., unit="TLII5018")`` -> a committed enrolment."""
    from portfolio.enrolments.services import enrol

    def make(learner=None, assessor=None, unit: str = "TLII5018", is_rpl: bool = False):
        enrolment = enrol(
            db.session,
            actor=None,
            learner=learner or make_user("learner"),
            unit_code=unit,
            assessor=assessor,
            is_rpl=is_rpl,
        )
        db.session.commit()
        return enrolment

    return make


@pytest.fixture
def learner_enrolment(make_user, make_enrolment, login):
    """A logged-in learner, Lee Learner, enrolled in TLII5018."""
    learner = make_user("learner", name="Lee Learner")
    enrolment = make_enrolment(learner=learner)
    login(learner)
    return enrolment
