"""Flask extensions, created unbound and bound to the app in ``create_app``."""

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Connection, Engine, MetaData, TypeDecorator, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL, so
# batch migrations on SQLite can find and alter the constraints they created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

#: Rate limits by client address (behind a proxy, the address ProxyFix took from it); only the
#: routes that name a limit have one. ``RATELIMIT_STORAGE_URI`` says where counts are kept.
limiter = Limiter(key_func=get_remote_address)

#: How long a SQLite connection waits for another one's write to finish before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def configure_sqlite(engine: Engine) -> None:
    """Settings for every connection to a SQLite database; other databases are left alone.

    - WAL: readers never wait for a writer and a writer never waits for readers.
    - busy_timeout: a writer queues behind another writer instead of failing at once.
    - synchronous=NORMAL: safe with WAL (a power cut may lose the last commits, never the file).

    Foreign keys are checked, as PostgreSQL checks them. Work that drops or rebuilds tables
    (Alembic's batch migrations, emptying a test database) turns the check off for its
    connection with ``sqlite_foreign_keys_off``.

    Transactions: the sqlite3 module runs reads on their own and begins a transaction at the
    first INSERT, UPDATE or DELETE, as ``BEGIN IMMEDIATE`` here, which takes the write lock
    there and then (waiting up to the busy timeout). A transaction that begins with a plain
    ``BEGIN`` at its first read (SQLAlchemy's recipe for SQLite, and the sqlite3 module's
    default in a future Python) holds a snapshot from there; when two such transactions both
    write, the second fails with "database is locked" at once, whatever the timeout. So the
    sqlite3 module's mode is pinned: reads before a transaction's first write each see the
    latest committed data, much as on PostgreSQL's default READ COMMITTED, and writes queue.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, connection_record: object) -> None:
        if hasattr(dbapi_connection, "autocommit"):  # Python 3.12 and later
            dbapi_connection.autocommit = sqlite3.LEGACY_TRANSACTION_CONTROL
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()


logger = logging.getLogger(__name__)

#: In a connection's ``info``: its transaction ran a statement that is not a SELECT.
_WROTE = "portfolio.wrote"


def end_reads_with_commit(app: Flask) -> None:
    """On PostgreSQL, end a transaction that only read with COMMIT rather than ROLLBACK.

    psycopg prepares a statement it has run five times on a connection, so the server plans
    it once instead of at every run (most of a small query's cost), but forgets all of them
    at every ROLLBACK: and every request that only read used to end with one, so nothing
    stayed prepared. For a transaction that wrote nothing, COMMIT and ROLLBACK leave the
    database the same. A transaction counts as having written once it runs any statement
    that does not begin with SELECT, or when the session holds unsaved changes; it then ends
    with ROLLBACK as before, as does every context that ends with an error. Other databases
    are left alone. Register after ``db.init_app``: it runs before the session is removed.
    """
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "begin")
    def _began(connection: Connection) -> None:
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _ran(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip()[:6].upper() != "SELECT":
            connection.info[_WROTE] = True

    @app.teardown_appcontext
    def _end(error: BaseException | None) -> None:
        # Whatever happens here, the session is removed after it (by Flask-SQLAlchemy), which
        # rolls back what is still open: nothing here may keep that from running.
        session = db.session()
        if error is not None or not session.in_transaction():
            return
        if session.new or session.dirty or session.deleted:
            return
        try:
            if not session.connection().info.get(_WROTE, True):
                session.commit()
        except SQLAlchemyError:
            logger.warning("A read-only transaction could not be committed", exc_info=True)
            with suppress(SQLAlchemyError):
                session.rollback()


class ForeignKeyViolation(RuntimeError):
    """Rows left referring to rows that do not exist, after work with the check turned off."""


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Drop and rebuild tables on SQLite without foreign key checks, then check every row.

    SQLite deletes a dropped table's rows first, and refuses when other rows refer to them;
    Alembic's batch mode rebuilds a table by dropping it. The pragma only takes effect outside
    a transaction, so the connection must not be in one; the caller commits its own work
    inside. On the way out every foreign key is checked once and the check is turned back on.
    Other databases are left alone.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    try:
        yield
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            found = ", ".join(
                f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in broken
            )
            raise ForeignKeyViolation(f"rows refer to rows that do not exist: {found}")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the project's column types into migrations as the plain SQLAlchemy types they
    store, so a migration never imports application code that may later change."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl!r}"
    return False


# render_as_batch lets ALTER TABLE work on SQLite by rebuilding the table.
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=_render_item)
csrf = CSRFProtect()
bootstrap = Bootstrap5()

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
# A stolen session cookie used from elsewhere is dropped rather than trusted.
login_manager.session_protection = "strong"
