"""Backups of a running instance, and restoring one into an empty instance.

A backup is a directory::

    manifest.json              what is in the backup: every file with its SHA-256 and size,
                               every table's row count, the migration revision, app version
    database/<table>.jsonl     one file per table, one JSON object per row (see ``rows``)
    evidence/sha256/ab/cd/...  every stored file, under its key in the evidence store

The tables are written in a form that does not depend on the database, so a backup taken on
SQLite restores on PostgreSQL and the other way round.

The database is read from one consistent snapshot while the app keeps running. On SQLite,
the online backup API first copies the database in one step, inside one read transaction (in
WAL mode, writers carry on meanwhile), and the tables are read from the copy. On PostgreSQL,
every table is read in one ``REPEATABLE READ READ ONLY`` transaction, so all of them come from
the same snapshot. Evidence files are copied after the snapshot: they are stored by content
and never rewritten, so every file the snapshot refers to is still there.

The backup is written to ``<path>.partial`` and renamed to ``<path>`` when complete, so a
directory with that name is always a whole backup; ``manifest.json`` is its last file.

Only stored files that some row refers to are backed up: a file uploaded ahead of a form that
was never sent belongs to nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from flask import current_app
from sqlalchemy import Connection, Engine, Integer, create_engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from portfolio.backup.rows import (
    BATCH_SIZE,
    TableCodec,
    UnsupportedColumn,
    primary_key,
    stored_files_query,
    tables,
)
from portfolio.extensions import db
from portfolio.files.storage import EvidenceStorage, LocalStorage, storage_from_config
from portfolio.models.audit import GENESIS_HASH
from portfolio.schema import code_revision, database_revision
from portfolio.signing import BACKUP_MANIFEST, is_signed, sign

FORMAT = "portfolio-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database"
EVIDENCE = "evidence"
COPY_CHUNK = 1024 * 1024
ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".zip")

#: Rows the migrations insert themselves: the start of the audit chain. An instance holding
#: only these is empty; restoring replaces them with the backup's.
MIGRATION_ROWS: dict[str, list[dict[str, Any]]] = {
    "audit_head": [{"id": 1, "seq": 0, "hash": GENESIS_HASH}],
}


class BackupError(Exception):
    """A backup could not be made or restored; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass
class BackupSummary:
    path: Path
    revision: str
    dialect: str
    tables: int
    rows: int
    files: int
    file_bytes: int


@dataclass
class RestoreSummary:
    path: Path
    revision: str
    tables: int
    rows: int
    files: int
    file_bytes: int


def app_version() -> str:
    try:
        return version("portfolio")
    except PackageNotFoundError:
        return "unknown"


def create_backup(
    path: str | os.PathLike[str],
    *,
    on_table: Callable[[str, int], None] | None = None,
) -> BackupSummary:
    """Write a backup of the app's database and evidence to the new directory ``path``.

    ``on_table(name, rows)`` is called as each table is written.
    """
    destination = Path(path)
    if destination.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise BackupError(
            f"{destination} names an archive, but a backup is a directory. Give a directory "
            "path (it is created); pack it afterwards with tar or zip if you wish."
        )
    if destination.exists() or destination.is_symlink():
        raise BackupError(
            f"{destination} already exists, and a backup never overwrites anything. "
            "Give a new path, for example one with today's date in its name."
        )
    staging = destination.with_name(destination.name + ".partial")
    if staging.exists():
        raise BackupError(
            f"{staging} is left over from a backup that did not finish. Delete it, then try again."
        )
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent} is not a directory; create it first.")
    expected = code_revision()
    storage = storage_from_config(current_app.config)
    try:
        staging.mkdir(mode=0o700)
    except FileExistsError:
        raise BackupError(
            f"{staging} appeared while starting: another backup to {destination} is running."
        ) from None
    try:
        writer = _ManifestWriter(staging)
        (staging / DATABASE).mkdir()
        (staging / EVIDENCE).mkdir()
        evidence_list = staging / ".evidence-list"
        total_rows = 0
        with _snapshot(db.engine, staging) as connection:
            revision = database_revision(connection)
            if revision is None:
                raise BackupError(
                    "The database has no migration revision (no alembic_version table), so a "
                    "restore could not tell which schema it needs. Set the database up with "
                    "'flask db upgrade' before backing it up."
                )
            if revision != expected:
                raise BackupError(
                    f"The database is at migration {revision} but this version of Portfolio "
                    f"expects {expected}. Run 'flask db upgrade', then back up."
                )
            order = tables()
            for table in order:
                codec = _table_codec(table, order)
                relative = f"{DATABASE}/{table.name}.jsonl"
                count = writer.write_table(connection, codec, relative)
                total_rows += count
                if on_table is not None:
                    on_table(table.name, count)
            _write_evidence_list(connection, evidence_list)
        # The snapshot is closed: copying files can take long, and needs no transaction.
        files, file_bytes = 0, 0
        for key, sha256, size in _read_evidence_list(evidence_list):
            writer.copy_evidence(storage, key, sha256, size)
            files += 1
            file_bytes += size
        evidence_list.unlink()
        writer.finish(
            revision=revision,
            dialect=db.engine.dialect.name,
            evidence={"files": files, "bytes": file_bytes},
        )
        _fsync_directory(staging)
        staging.rename(destination)
        _fsync_directory(destination.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupSummary(
        path=destination,
        revision=revision,
        dialect=db.engine.dialect.name,
        tables=len(order),
        rows=total_rows,
        files=files,
        file_bytes=file_bytes,
    )


def _table_codec(table: Any, order: list[Any]) -> TableCodec:
    try:
        return TableCodec(table, order)
    except UnsupportedColumn as error:
        raise BackupError(str(error)) from error


@contextmanager
def _snapshot(engine: Engine, workdir: Path) -> Iterator[Connection]:
    """A connection that sees the whole database as it was at one moment."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        copy = workdir / ".snapshot.sqlite3"
        _sqlite_online_backup(engine, copy)
        snapshot_engine = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
        try:
            with snapshot_engine.connect() as connection:
                yield connection
        finally:
            snapshot_engine.dispose()
            copy.unlink(missing_ok=True)
    elif dialect == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with connection.begin():
                yield connection
    else:
        raise BackupError(
            f"Backups support SQLite and PostgreSQL databases; this one is {dialect}."
        )


def _sqlite_online_backup(engine: Engine, copy: Path) -> None:
    """Copy the live database with SQLite's online backup API, all pages in one step, so
    the copy is one committed state (a copy made in several steps restarts whenever another
    connection writes, and might never finish on a busy instance)."""
    pooled = engine.raw_connection()
    try:
        source = pooled.driver_connection
        assert isinstance(source, sqlite3.Connection)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        pooled.close()


def _write_evidence_list(connection: Connection, path: Path) -> None:
    """The stored files the snapshot refers to, each once, kept on disk rather than in memory."""
    with path.open("w", encoding="utf-8") as out:
        previous: tuple[str, str, int] | None = None
        result = connection.execution_options(yield_per=BATCH_SIZE).execute(stored_files_query())
        for key, sha256, size in result:
            if previous is not None and previous[0] == key:
                raise BackupError(
                    f"Evidence file {key} is recorded with two different SHA-256 hashes or "
                    "sizes in the database; the records need repair before a backup."
                )
            previous = (key, sha256, size)
            out.write(json.dumps([key, sha256, size]) + "\n")


def _read_evidence_list(path: Path) -> Iterator[tuple[str, str, int]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            key, sha256, size = json.loads(line)
            yield key, sha256, size


class _ManifestWriter:
    """Writes the backup's files, hashing each as it goes, and finally the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []

    def write_table(self, connection: Connection, codec: TableCodec, relative: str) -> int:
        digest = hashlib.sha256()
        size = rows = 0
        with (self.root / relative).open("wb") as out:
            for row in codec.rows(connection):
                line = json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"
                data = line.encode("utf-8")
                digest.update(data)
                out.write(data)
                size += len(data)
                rows += 1
            _sync(out)
        self.tables.append({"name": codec.table.name, "rows": rows, "file": relative})
        self.files.append({"path": relative, "sha256": digest.hexdigest(), "size": size})
        return rows

    def copy_evidence(self, storage: EvidenceStorage, key: str, sha256: str, size: int) -> None:
        relative = f"{EVIDENCE}/{_checked_key(key)}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source = storage.open(key)
        except FileNotFoundError:
            raise BackupError(
                f"Evidence file {key} is missing from the evidence store, though the database "
                "refers to it. Put the file back (from an earlier backup), then back up again."
            ) from None
        except ValueError as error:
            raise BackupError(f"Evidence file {key!r} cannot be read: {error}") from error
        with source, target.open("wb") as out:
            found_sha256, found_size = _copy(source, out)
            _sync(out)
        if (found_sha256, found_size) != (sha256, size):
            raise BackupError(
                f"Evidence file {key} does not match what the database recorded for it "
                f"(SHA-256 {found_sha256}, {found_size} bytes; expected {sha256}, {size} bytes): "
                "the evidence store is damaged. Put the file back (from an earlier backup), "
                "then back up again."
            )
        self.files.append({"path": relative, "sha256": sha256, "size": size})

    def finish(self, *, revision: str, dialect: str, evidence: dict[str, int]) -> None:
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": app_version(),
            "alembic_revision": revision,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": {"dialect": dialect},
            "tables": self.tables,
            "evidence": evidence,
            "files": self.files,
        }
        manifest["signature"] = {
            "algorithm": "HMAC-SHA256 with AUDIT_KEY",
            "value": sign(BACKUP_MANIFEST, _signed_bytes(manifest)),
        }
        temporary = self.root / (MANIFEST + ".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(manifest, out, indent=1, ensure_ascii=False)
            out.write("\n")
            _sync(out)
        temporary.rename(self.root / MANIFEST)


def _signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What a manifest's signature covers: everything in it but the signature, canonically."""
    body = {key: value for key, value in manifest.items() if key != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _copy(source: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(COPY_CHUNK):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _sync(out: Any) -> None:
    out.flush()
    os.fsync(out.fileno())


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checked_key(key: str) -> str:
    """A storage key as a relative path that stays inside the backup."""
    parts = PurePosixPath(key).parts
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or key.split("/") != list(parts)
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BackupError(f"Evidence key {key!r} is not a plain relative path.")
    return key


# Restoring a backup -----------------------------------------------------------------------


def restore_backup(path: str | os.PathLike[str]) -> RestoreSummary:
    """Restore the backup at ``path`` into this app's empty database and evidence folder.

    Everything is checked before anything is kept: a refused restore leaves the instance as
    it was.
    """
    root = Path(path)
    manifest = _load_manifest(root)
    files = _file_entries(manifest)
    table_entries = _table_entries(manifest, files)
    backup_revision = manifest["alembic_revision"]
    expected = code_revision()
    if backup_revision != expected:
        raise BackupError(
            f"This backup was made at database migration {backup_revision} (Portfolio "
            f"{manifest.get('app_version', 'unknown')}), but this version of Portfolio is at "
            f"{expected}. Restore it with the version that made it, then upgrade that instance."
        )
    storage = storage_from_config(current_app.config)
    for relative, entry in files.items():
        _check_present(root, relative, entry)
    evidence = {
        relative.removeprefix(f"{EVIDENCE}/"): entry
        for relative, entry in files.items()
        if relative.startswith(f"{EVIDENCE}/")
    }
    stored: list[str] = []
    rows = 0
    order = tables()
    try:
        with db.engine.begin() as connection:
            _check_database_is_empty(connection, expected)
            _check_evidence_is_empty(storage, evidence)
            for table_name in MIGRATION_ROWS:
                connection.execute(db.metadata.tables[table_name].delete())
            codecs = [_table_codec(table, order) for table in order]
            for codec in codecs:
                entry = table_entries[codec.table.name]
                rows += _load_table(connection, root, codec, entry, files[entry["file"]])
            for codec in codecs:
                if codec.deferred:
                    entry = table_entries[codec.table.name]
                    _load_deferred(connection, root, codec, files[entry["file"]])
            _check_stored_files(connection, evidence)
            for key, entry in evidence.items():
                stored.append(key)
                _restore_evidence(root, storage, key, entry)
            if connection.dialect.name == "postgresql":
                _reset_sequences(connection, order)
    except BaseException:
        for key in stored:
            storage.delete(key)
        raise
    return RestoreSummary(
        path=root,
        revision=backup_revision,
        tables=len(order),
        rows=rows,
        files=len(evidence),
        file_bytes=sum(entry["size"] for entry in evidence.values()),
    )


def _damaged(what: str) -> BackupError:
    return BackupError(
        f"{what}: the backup is damaged or was changed after it was made. Nothing was restored."
    )


def _load_manifest(root: Path) -> dict[str, Any]:
    if not root.exists():
        raise BackupError(f"{root} does not exist.")
    if not root.is_dir():
        raise BackupError(
            f"{root} is not a directory. A backup is the directory 'flask backup create' "
            "writes; if it was packed (tar, zip), unpack it and give the directory."
        )
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{root} has no {MANIFEST}, so it is not a complete backup (a backup gets its "
            "manifest last, when everything else is written)."
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise _damaged(f"{MANIFEST} cannot be read ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{manifest_path} is not the manifest of a Portfolio backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"This backup is in format version {manifest.get('format_version')}; this version "
            f"of Portfolio reads version {FORMAT_VERSION}. Restore it with the version that "
            f"made it (Portfolio {manifest.get('app_version', 'unknown')})."
        )
    signature = manifest.get("signature")
    value = signature.get("value") if isinstance(signature, dict) else None
    if not is_signed(BACKUP_MANIFEST, _signed_bytes(manifest), value):
        raise BackupError(
            f"{MANIFEST} is not signed with this instance's AUDIT_KEY: it was changed after the "
            "backup was made (the hashes in it can be recomputed, the signature cannot), or the "
            "backup comes from an instance with another AUDIT_KEY; set the same AUDIT_KEY to "
            "restore it. Nothing was restored."
        )
    required = {"alembic_revision": str, "tables": list, "files": list}
    for field, kind in required.items():
        if not isinstance(manifest.get(field), kind):
            raise _damaged(f"{MANIFEST} has no valid {field!r}")
    return manifest


def _file_entries(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for entry in manifest["files"]:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("size"), int)
        ):
            raise _damaged(f"{MANIFEST} lists a file without a path, SHA-256 and size")
        relative = entry["path"]
        top, _, rest = relative.partition("/")
        if top not in (DATABASE, EVIDENCE) or not rest or relative in entries:
            raise _damaged(f"{MANIFEST} lists {relative!r}, which a backup does not hold")
        try:
            _checked_key(rest)
        except BackupError as error:
            raise _damaged(f"{MANIFEST} lists {relative!r}, which a backup does not hold") from (
                error
            )
        entries[relative] = entry
    return entries


def _table_entries(
    manifest: dict[str, Any], files: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for entry in manifest["tables"]:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("rows"), int)
            and isinstance(entry.get("file"), str)
        ):
            raise _damaged(f"{MANIFEST} lists a table without a name, row count and file")
        if entry["file"] not in files:
            raise _damaged(f"{MANIFEST} gives no SHA-256 for {entry['file']}")
        entries[entry["name"]] = entry
    expected = {table.name for table in tables()}
    missing = sorted(expected - set(entries))
    extra = sorted(set(entries) - expected)
    if missing or extra:
        raise _damaged(
            f"{MANIFEST} does not list the tables of this schema "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(extra) or 'none'})"
        )
    return entries


def _check_present(root: Path, relative: str, entry: dict[str, Any]) -> None:
    path = root / relative
    if not path.is_file():
        raise _damaged(f"{relative} is missing")
    size = path.stat().st_size
    if size != entry["size"]:
        raise _damaged(f"{relative} is {size} bytes but the manifest says {entry['size']}")


def _check_database_is_empty(connection: Connection, expected: str) -> None:
    revision = database_revision(connection)
    if revision is None:
        raise BackupError(
            "The database has not been set up. Run 'flask db upgrade' (and nothing else: no "
            "'units sync', no 'demo accounts'), then restore."
        )
    if revision != expected:
        raise BackupError(
            f"The database is at migration {revision} but this version of Portfolio expects "
            f"{expected}. Run 'flask db upgrade', then restore."
        )
    occupied = []
    for table in tables():
        baseline = MIGRATION_ROWS.get(table.name, [])
        query = select(table).order_by(primary_key(table)).limit(len(baseline) + 1)
        found = [dict(row) for row in connection.execute(query).mappings()]
        if found != baseline:
            occupied.append(table.name)
    if occupied:
        named = ", ".join(occupied[:4])
        if len(occupied) > 4:
            named += f" and {len(occupied) - 4} more tables"
        raise BackupError(
            f"The database is not empty: {named} already "
            f"{'has rows' if len(occupied) == 1 else 'have rows'}. A backup restores only into "
            "a new database set up with 'flask db upgrade' and nothing else (no 'units sync', "
            "no 'demo accounts'). Nothing was changed."
        )


def _check_evidence_is_empty(storage: EvidenceStorage, evidence: dict[str, Any]) -> None:
    if isinstance(storage, LocalStorage):
        found = _files_in(storage.root)
        if found:
            raise BackupError(
                f"The evidence folder {storage.root} is not empty (it holds {found} "
                f"file{'' if found == 1 else 's'}). A backup restores only into an empty "
                "evidence folder: set EVIDENCE_DIR to a new folder. Nothing was changed."
            )
        return
    for key in evidence:
        if storage.exists(key):
            raise BackupError(
                f"The evidence store already holds {key}. A backup restores only into an empty "
                "evidence store. Nothing was changed."
            )


def _files_in(root: Path) -> int:
    """Files stored under ``root``; the store's own temporary folder does not count."""
    count = 0
    for folder, directories, names in os.walk(root):
        if Path(folder) == root and "tmp" in directories:
            directories.remove("tmp")
        count += len(names)
    return count


class _VerifiedLines:
    """The lines of one backup file, hashed as they are read, checked against the manifest."""

    def __init__(self, root: Path, relative: str, entry: dict[str, Any]) -> None:
        self.relative = relative
        self.entry = entry
        self.stream = (root / relative).open("rb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.number = 0

    def __enter__(self) -> _VerifiedLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.digest.update(line)
            self.size += len(line)
            self.number += 1
            yield line

    def check(self) -> None:
        """Read what is left, then refuse the file if it is not the one the manifest lists."""
        for _ in self:
            pass
        if self.size != self.entry["size"]:
            raise _damaged(
                f"{self.relative} is {self.size} bytes but the manifest says {self.entry['size']}"
            )
        if self.digest.hexdigest() != self.entry["sha256"]:
            raise _damaged(f"{self.relative} does not match the SHA-256 in the manifest")


def _load_table(
    connection: Connection,
    root: Path,
    codec: TableCodec,
    table_entry: dict[str, Any],
    file_entry: dict[str, Any],
) -> int:
    relative = table_entry["file"]
    statement = codec.insert()
    batch: list[dict[str, Any]] = []
    count = 0
    with _VerifiedLines(root, relative, file_entry) as lines:
        try:
            for line in lines:
                batch.append(codec.decode(json.loads(line)))
                count += 1
                if len(batch) >= BATCH_SIZE:
                    connection.execute(statement, batch)
                    batch = []
            if batch:
                connection.execute(statement, batch)
        except (ValueError, TypeError, UnicodeDecodeError, SQLAlchemyError) as error:
            lines.check()  # a changed file is named as such, whatever it broke
            raise BackupError(
                f"{relative} could not be restored (at line {lines.number}): {error}. "
                "Nothing was restored."
            ) from error
        lines.check()
    if count != table_entry["rows"]:
        raise _damaged(f"{relative} holds {count} rows but the manifest says {table_entry['rows']}")
    return count


def _load_deferred(
    connection: Connection, root: Path, codec: TableCodec, file_entry: dict[str, Any]
) -> None:
    """Set the foreign keys left NULL by ``_load_table``, now that every row exists."""
    statement = codec.update_deferred()
    batch: list[dict[str, Any]] = []
    with _VerifiedLines(root, file_entry["path"], file_entry) as lines:
        for line in lines:
            values = codec.deferred_values(json.loads(line))
            if values is not None:
                batch.append(values)
            if len(batch) >= BATCH_SIZE:
                connection.execute(statement, batch)
                batch = []
        if batch:
            connection.execute(statement, batch)
        lines.check()


def _check_stored_files(connection: Connection, evidence: dict[str, dict[str, Any]]) -> None:
    """Every file the restored rows refer to is in the backup, with the same hash and size."""
    for key, sha256, size in connection.execute(stored_files_query()):
        entry = evidence.get(key)
        if entry is None:
            raise _damaged(
                f"the database refers to evidence file {key}, which the manifest does not list"
            )
        if (entry["sha256"], entry["size"]) != (sha256, size):
            raise _damaged(
                f"{EVIDENCE}/{key} in the manifest does not match the file the database records"
            )


def _restore_evidence(
    root: Path, storage: EvidenceStorage, key: str, entry: dict[str, Any]
) -> None:
    relative = f"{EVIDENCE}/{key}"
    with (root / relative).open("rb") as source:
        blob = storage.save(source)
    if (blob.sha256, blob.size) != (entry["sha256"], entry["size"]):
        storage.delete(blob.key)
        raise _damaged(f"{relative} does not match the SHA-256 in the manifest")
    if blob.key != key:
        storage.delete(blob.key)
        raise BackupError(
            f"The evidence store keeps {relative} under {blob.key}, not {key}; this backup "
            "needs an evidence store that keys files the same way. Nothing was restored."
        )


def _reset_sequences(connection: Connection, order: list[Any]) -> None:
    """Rows came with their ids; each id sequence continues after the highest."""
    preparer = connection.dialect.identifier_preparer
    for table in order:
        key = primary_key(table)
        if not isinstance(key.type, Integer):
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": preparer.format_table(table), "column": key.name},
        ).scalar()
        if sequence is None:
            continue
        highest = connection.execute(select(key).order_by(key.desc()).limit(1)).scalar()
        connection.execute(
            text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
            {"sequence": sequence, "value": highest or 1, "called": highest is not None},
        )
