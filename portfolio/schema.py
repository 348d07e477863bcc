"""Which migration the database is at, which one this code expects, and what to do about it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from portfolio.extensions import db


def code_revision() -> str:
    """The migration this version of the code expects the database to be at."""
    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "the migrations have no head"
    return head


def database_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def schema_problem() -> str | None:
    """What is wrong with the database's tables for this code, in words, or None."""
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return (
                f"The database ({db.engine.url.render_as_string(hide_password=True)}) is not set "
                "up yet. Run 'make run' once, which sets it up and loads the units, or "
                "'flask db upgrade' and then 'flask units sync'."
            )
        revision, expected = database_revision(connection), code_revision()
    if revision != expected:
        return (
            f"The database is at migration {revision} but this version of Portfolio expects "
            f"{expected}. Run 'flask db upgrade'."
        )
    return None


class DatabaseGroup(AppGroup):
    """Commands that fail on a database without the app's tables say how to set it up.

    The check runs only when a command fails with a database error, so it costs nothing on
    the way that works. ``needs_database=False`` leaves a command alone (it reads only files,
    or makes its own checks).
    """

    def command(self, *args: Any, needs_database: bool = True, **kwargs: Any) -> Callable:
        register = super().command(*args, **kwargs)
        if not needs_database:
            return register

        def decorator(f: Callable) -> click.Command:
            @functools.wraps(f)
            def explained(*f_args: Any, **f_kwargs: Any) -> Any:
                try:
                    return f(*f_args, **f_kwargs)
                except DBAPIError as error:
                    db.session.rollback()
                    problem = schema_problem()
                    if problem is None:
                        raise
                    raise click.ClickException(problem) from error

            return register(explained)

        return decorator
