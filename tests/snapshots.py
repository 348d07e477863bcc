"""Database states made once per test process and restored for each test by copying.

Creating the schema and loading the five units runs about 300 statements; an access-matrix
case brings a portfolio to a stage through a dozen services. Each state is built once, by the
same code as before, and saved; a test then starts from a copy of it:

- SQLite: the database file is copied (the engine is disposed first, so WAL is checkpointed);
- PostgreSQL: the test's database is dropped and created again from the saved one, which
  PostgreSQL copies as a template.

The evidence store and the instance folder's export jobs are copied with the database, so a
restored state finds the files its rows name.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, make_url, text

from portfolio.extensions import db


def _folders(app: Flask) -> dict[str, Path]:
    return {
        "evidence": Path(app.config["EVIDENCE_DIR"]),
        "exports": Path(app.instance_path) / "exports",
    }


def _copy_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    if source.exists():
        shutil.copytree(source, target)


@dataclass
class Snapshots:
    """Named states of one test process; ``restore(app, name, build)`` makes one on first use."""

    folder: Path
    saved: dict[str, Any] = field(default_factory=dict)

    def restore(self, app: Flask, name: str, build: Callable[[], Any]) -> Any:
        """Leave the app's database and folders in state ``name``; return what ``build`` gave.

        ``build`` runs once, in the app's own database, starting from whatever is there; it
        returns anything worth keeping with the state (ids of the rows it made).
        """
        if name not in self.saved:
            extra = build()
            db.session.commit()
            self._save(app, name)
            self.saved[name] = extra
            return extra
        self._load(app, name)
        return self.saved[name]

    def _slot(self, name: str) -> Path:
        return self.folder / "".join(c if c.isalnum() else "_" for c in name)

    def _save(self, app: Flask, name: str) -> None:
        db.session.remove()
        db.engine.dispose()
        slot = self._slot(name)
        slot.mkdir(parents=True, exist_ok=True)
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            shutil.copyfile(url.database, slot / "database.sqlite3")
        else:
            _copy_database(url, url.database, _snapshot_name(url.database, slot.name))
        for label, path in _folders(app).items():
            _copy_tree(path, slot / label)

    def _load(self, app: Flask, name: str) -> None:
        db.session.remove()
        db.engine.dispose()
        slot = self._slot(name)
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            target = Path(url.database)
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(slot / "database.sqlite3", target)
        else:
            _copy_database(url, _snapshot_name(url.database, slot.name), url.database)
        for label, path in _folders(app).items():
            _copy_tree(slot / label, path)


def _copy_database(url, source: str, target: str) -> None:
    """Replace PostgreSQL database ``target`` with a copy of ``source`` (its template)."""
    with _server(url) as server:
        server.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        server.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY'))


def _snapshot_name(database: str, slot: str) -> str:
    # PostgreSQL names are at most 63 bytes.
    return f"{database}__{slot}"[:63]


class _server:
    """An autocommit connection to the server's ``postgres`` database, closed on exit."""

    def __init__(self, url) -> None:
        self.engine = create_engine(
            make_url(str(url.render_as_string(hide_password=False))).set(database="postgres"),
            isolation_level="AUTOCOMMIT",
        )

    def __enter__(self):
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()
        self.engine.dispose()
