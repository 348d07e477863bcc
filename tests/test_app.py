"""The app factory: an embedded default that works on first run, overridable from the env."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from portfolio import create_app
from portfolio.config import normalise_database_url
from portfolio.extensions import db


@pytest.fixture
def fresh_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder and no configuration in the environment."""
    for variable in ("DATABASE_URL", "SECRET_KEY", "EVIDENCE_DIR", "UNITS_DIR"):
        monkeypatch.delenv(variable, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(instance))
    return instance


def test_embedded_default_lives_in_the_instance_folder(fresh_instance: Path) -> None:
    """With no configuration, the database and evidence store go in the instance folder."""
    app = create_app()
    database = fresh_instance / "portfolio.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    assert (fresh_instance / "evidence").is_dir()
    assert app.config["MAX_UPLOAD_MB"] == 50
    assert app.config["MAX_CONTENT_LENGTH"] == 201 * 1024 * 1024


def test_what_the_app_writes_is_readable_by_its_owner_only(fresh_instance: Path) -> None:
    """Under the common umask 022 the database was created 0644 (world-readable); now the
    instance folder is 0700 and the database 0600, whatever umask the app was started with."""
    os.umask(0o022)
    app = create_app()
    with app.app_context():
        db.create_all()
    database = fresh_instance / "portfolio.sqlite3"
    assert fresh_instance.stat().st_mode & 0o777 == 0o700
    assert (fresh_instance / "evidence").stat().st_mode & 0o777 == 0o700
    assert database.stat().st_mode & 0o777 == 0o600
    assert os.umask(0o077) == 0o077, "the app keeps the umask for what it writes later"


def test_secret_key_is_generated_once_and_kept(fresh_instance: Path) -> None:
    """Sessions survive a restart: the generated key is kept, readable by its owner only."""
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (fresh_instance / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_overrides_defaults(fresh_instance: Path, monkeypatch, tmp_path: Path):
    """DATABASE_URL, SECRET_KEY, EVIDENCE_DIR, MAX_UPLOAD_MB ... come from the environment."""
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/rto")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("BUNDLE_KEEP_DAYS", "30")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/rto"
    assert app.config["SECRET_KEY"] == "from-env"
    assert (tmp_path / "store").is_dir()
    assert app.config["MAX_UPLOAD_MB"] == 5
    assert app.config["MAX_CONTENT_LENGTH"] == 21 * 1024 * 1024
    assert app.config["BUNDLE_KEEP_DAYS"] == 30


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://h/db", "postgresql+psycopg://h/db"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_forms(given: str, used: str) -> None:
    """The URL forms hosting providers hand out all use the psycopg 3 driver."""
    assert normalise_database_url(given) == used


def test_commands_on_a_database_not_set_up_say_how_to_set_it_up(fresh_instance: Path) -> None:
    """A command run before the first ``make run`` explains itself instead of a traceback."""
    app = create_app()
    runner = app.test_cli_runner()
    for args in (
        ["demo", "generate", "--learners", "2", "--items", "2"],
        ["users", "create", "--name", "Ada", "--email", "ada@example.org", "--role", "admin"],
        ["audit", "verify"],
    ):
        result = runner.invoke(args=args, input="a long enough password\n" * 2)
        assert result.exit_code == 1, (args, result.output)
        assert "is not set up yet. Run 'make run' once" in result.output, result.output
        assert "Traceback" not in result.output
    # Reading unit files needs no database.
    units = Path(app.config["UNITS_DIR"])
    checked = runner.invoke(args=["units", "validate", str(units / "TLII5018.yaml")])
    assert checked.exit_code == 0, checked.output


def test_commands_on_an_older_database_say_to_upgrade(fresh_instance: Path) -> None:
    app = create_app()
    runner = app.test_cli_runner()
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        first = ScriptDirectory.from_config(config).get_base()
    assert runner.invoke(args=["db", "upgrade", first]).exit_code == 0  # the units tables only
    result = runner.invoke(
        args=["users", "create", "--name", "Ada", "--email", "ada@example.org", "--role", "admin"]
    )
    assert result.exit_code == 1, result.output
    assert "Run 'flask db upgrade'." in result.output and "but this version of Portfolio" in (
        result.output
    )
    with app.app_context():
        from portfolio.extensions import db

        db.engine.dispose()


def test_first_run_upgrades_syncs_and_serves(fresh_instance: Path) -> None:
    """What ``make run`` does on a new machine: migrate, load the units, serve them."""
    app = create_app()
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    synced = runner.invoke(args=["units", "sync"])
    assert synced.exit_code == 0, synced.output
    assert (fresh_instance / "portfolio.sqlite3").is_file()
    page = app.test_client().get("/units")
    for code in ("TLII5018", "BSBCUS501", "MEM16003", "SITXCCS008", "INSCS042"):
        assert code in page.text
    with app.app_context():
        from portfolio.extensions import db

        db.engine.dispose()


def test_error_pages_are_pages(client) -> None:
    """A 404 is a page of the app with a way back, not a bare server message."""
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Not Found" in page.text and "Back to the start page" in page.text


def test_suite_runs_on_the_database_it_was_given(app) -> None:
    """CI's PostgreSQL run really uses PostgreSQL, not a silent fallback to SQLite."""
    import os

    from portfolio.extensions import db

    wanted = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert db.engine.dialect.name == wanted
