"""``flask backup create`` and ``flask backup restore``: a whole instance, out and back in."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade
from sqlalchemy import JSON, select, update

from portfolio.auth.services import create_user
from portfolio.backup.service import create_backup
from portfolio.extensions import db
from portfolio.models import AuditEvent, Role, User
from portfolio.schema import code_revision
from tests.backup.conftest import invoke, is_postgresql, populate


def contents() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the current app's database, in id order; for a JSON column
    also whether it is SQL NULL (which reads back as None, as a JSON null does)."""
    found = {}
    for table in db.metadata.sorted_tables:
        nulls = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
        query = select(*table.columns, *nulls).order_by(*table.primary_key.columns)
        found[table.name] = [tuple(row) for row in db.session.execute(query)]
    db.session.rollback()
    return found


def evidence_files(instance: Flask) -> dict[str, str]:
    """Every file in an instance's evidence folder by path, with its SHA-256."""
    root = Path(instance.config["EVIDENCE_DIR"])
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and path.relative_to(root).parts[0] != "tmp"
    }


def manifest_of(backup: Path) -> dict[str, Any]:
    return json.loads((backup / "manifest.json").read_text(encoding="utf-8"))


def lines_in(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


@pytest.fixture
def backup(source: Flask, tmp_path: Path) -> Path:
    """A backup of a populated instance."""
    populate()
    path = tmp_path / "backup"
    result = invoke(source, "backup", "create", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_round_trip_restores_every_row_and_every_file(
    source: Flask, backup: Path, make_instance: Callable[..., Flask]
) -> None:
    """What comes back is the instance that was backed up: every row, every file, the audit
    chain; and the restored instance carries on as the original would."""
    expected = contents()
    empty = sorted(name for name, rows in expected.items() if not rows)
    assert not empty, f"the populated instance should have rows in every table: {empty}"
    columns = len(db.metadata.tables["unit_releases"].columns)
    assert any(any(row[columns:]) for row in expected["unit_releases"]), "JSON holding SQL NULL"

    manifest = manifest_of(backup)
    assert manifest["alembic_revision"] == code_revision()
    assert manifest["app_version"]
    assert datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {
        name: len(rows) for name, rows in expected.items()
    }
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for relative, sha256 in evidence_files(source).items():
        assert listed[f"evidence/{relative}"]["sha256"] == sha256
    for relative, entry in listed.items():
        data = (backup / relative).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["size"])

    target = make_instance()
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert "every file matching the manifest" in result.output
    assert "the chain is intact" in result.output

    assert evidence_files(target) == evidence_files(source)
    with target.app_context():
        assert contents() == expected
        verified = invoke(target, "audit", "verify")
        assert verified.exit_code == 0, verified.output
        events = len(expected["audit_events"])
        assert f"{events} events checked; the chain is intact" in verified.output
        # New work gets new ids after the restored ones, and joins the audit chain.
        user = create_user(
            db.session,
            actor=None,
            name="New Starter",
            email="new.starter@example.org",
            roles={Role.LEARNER},
            password="a long enough password",
        )
        db.session.commit()
        assert user.id > max(row[0] for row in expected["users"])
        assert invoke(target, "audit", "verify").exit_code == 0


def test_backup_moves_between_sqlite_and_postgresql(
    source: Flask, backup: Path, make_instance: Callable[..., Flask], tmp_path: Path
) -> None:
    """A backup taken on PostgreSQL restores on SQLite, and one taken there back on
    PostgreSQL, with every row and file the same."""
    if not is_postgresql():
        pytest.skip("needs DATABASE_URL naming a PostgreSQL database")
    expected = contents()
    on_sqlite = make_instance("sqlite", sqlite=True)
    assert invoke(on_sqlite, "backup", "restore", str(backup)).exit_code == 0
    with on_sqlite.app_context():
        assert contents() == expected
    again = tmp_path / "from-sqlite"
    assert invoke(on_sqlite, "backup", "create", str(again)).exit_code == 0
    assert manifest_of(again)["source"]["dialect"] == "sqlite"

    on_postgresql = make_instance("restore")
    result = invoke(on_postgresql, "backup", "restore", str(again))
    assert result.exit_code == 0, result.output
    with on_postgresql.app_context():
        assert contents() == expected
    assert evidence_files(on_postgresql) == evidence_files(source)


def test_create_writes_a_directory_and_never_overwrites(
    source: Flask, backup: Path, tmp_path: Path
) -> None:
    another = tmp_path / "another"
    result = invoke(source, "backup", "create", str(another))
    assert result.exit_code == 0, result.output
    manifest = manifest_of(another)
    rows = sum(table["rows"] for table in manifest["tables"])
    files = len(evidence_files(source))
    dialect = db.engine.dialect.name
    assert result.output.startswith(
        f"Backup written to {another}: {rows:,} rows in {len(manifest['tables'])} tables "
        f"({dialect}, migration {code_revision()}), {files} evidence files ("
    )
    assert sorted(os.listdir(another)) == ["database", "evidence", "manifest.json"]
    assert another.stat().st_mode & 0o777 == 0o700
    assert (another / "manifest.json").stat().st_mode & 0o777 == 0o600
    written = sorted(n for n in os.listdir(tmp_path) if n.startswith(("another", "backup")))
    assert written == ["another", "backup"], "nothing else is left behind"

    before = (backup / "manifest.json").read_bytes()
    result = invoke(source, "backup", "create", str(backup))
    assert result.exit_code == 1
    assert f"{backup} already exists, and a backup never overwrites anything" in result.output
    assert (backup / "manifest.json").read_bytes() == before
    assert not backup.with_name("backup.partial").exists()


def test_create_refuses_an_archive_name(source: Flask, tmp_path: Path) -> None:
    result = invoke(source, "backup", "create", str(tmp_path / "backup.tar"))
    assert result.exit_code == 1
    assert "names an archive, but a backup is a directory" in result.output
    assert list(tmp_path.glob("backup*")) == []


def test_create_refuses_a_damaged_evidence_store_and_leaves_nothing(
    source: Flask, tmp_path: Path
) -> None:
    """A stored file that no longer matches its recorded SHA-256 is named; no backup is left
    that would look complete."""
    populate()
    damaged = sorted(evidence_files(source))[0]
    (Path(source.config["EVIDENCE_DIR"]) / damaged).write_bytes(b"overwritten")
    result = invoke(source, "backup", "create", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert f"Evidence file {damaged} does not match what the database recorded" in result.output
    assert "the evidence store is damaged" in result.output
    assert list(tmp_path.glob("backup*")) == []


def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(
    backup: Path, make_instance: Callable[..., Flask]
) -> None:
    """Units loaded into the new instance first (a likely slip) stop the restore."""
    target = make_instance()
    assert invoke(target, "units", "sync").exit_code == 0
    with target.app_context():
        before = contents()
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "The database is not empty: units, unit_releases, elements, targets" in result.output
    assert "Nothing was changed." in result.output
    with target.app_context():
        assert contents() == before
    assert evidence_files(target) == {}


def test_restore_into_an_evidence_folder_with_files_is_refused(
    backup: Path, make_instance: Callable[..., Flask]
) -> None:
    target = make_instance()
    stray = Path(target.config["EVIDENCE_DIR"]) / "sha256" / "aa" / "bb" / "left-behind"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"an old file")
    with target.app_context():
        before = contents()
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert f"The evidence folder {target.config['EVIDENCE_DIR']} is not empty" in result.output
    with target.app_context():
        assert contents() == before
    assert evidence_files(target) == {
        "sha256/aa/bb/left-behind": hashlib.sha256(b"an old file").hexdigest()
    }


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _first_evidence(backup: Path) -> str:
    return next(e["path"] for e in manifest_of(backup)["files"] if e["path"].startswith("evidence"))


def _rename_admin(backup: Path) -> str:
    users = backup / "database" / "users.jsonl"
    users.write_text(users.read_text().replace("Ada Admin", "Eve Admin"))
    return "database/users.jsonl does not match the SHA-256 in the manifest"


def _drop_last_event(backup: Path) -> str:
    events = backup / "database" / "audit_events.jsonl"
    lines = events.read_bytes().splitlines(keepends=True)
    events.write_bytes(b"".join(lines[:-1]))
    size = sum(len(line) for line in lines)
    return (
        f"database/audit_events.jsonl is {size - len(lines[-1])} bytes but the manifest says {size}"
    )


def _change_evidence(backup: Path) -> str:
    relative = _first_evidence(backup)
    _flip_a_byte(backup / relative)
    return f"{relative} does not match the SHA-256 in the manifest"


def _truncate_evidence(backup: Path) -> str:
    relative = _first_evidence(backup)
    (backup / relative).write_bytes((backup / relative).read_bytes()[:100])
    return f"{relative} is 100 bytes but the manifest says"


@pytest.mark.parametrize(
    "tamper", [_rename_admin, _drop_last_event, _change_evidence, _truncate_evidence]
)
def test_a_backup_that_does_not_match_its_manifest_is_refused_naming_the_file(
    backup: Path, make_instance: Callable[..., Flask], tamper: Callable[[Path], str]
) -> None:
    target = make_instance()
    with target.app_context():
        before = contents()
    message = tamper(backup)
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert message in result.output
    assert "the backup is damaged or was changed after it was made" in result.output
    with target.app_context():
        assert contents() == before
    assert evidence_files(target) == {}


def _resign_hashes(backup: Path, relative: str) -> None:
    """Recompute a changed file's SHA-256 and size in the manifest, as a forger would."""
    manifest = manifest_of(backup)
    data = (backup / relative).read_bytes()
    for entry in manifest["files"]:
        if entry["path"] == relative:
            entry.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (backup / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def test_a_backup_rehashed_after_adding_an_admin_role_is_refused(
    backup: Path, make_instance: Callable[..., Flask]
) -> None:
    """Someone adds an admin role to a learner in the backup's rows and recomputes the
    manifest's hashes to match: before, it restored as valid. The manifest's signature needs
    the audit key, which the backup does not hold."""
    roles = backup / "database" / "user_roles.jsonl"
    rows = [json.loads(line) for line in roles.read_text().splitlines()]
    learner = next(row for row in rows if row["role"] == "learner")
    rows.append({**learner, "id": max(row["id"] for row in rows) + 1, "role": "admin"})
    roles.write_text("".join(json.dumps(row) + "\n" for row in rows))
    _resign_hashes(backup, "database/user_roles.jsonl")
    target = make_instance()
    with target.app_context():
        before = contents()
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "manifest.json is not signed with this instance's AUDIT_KEY" in result.output
    assert "Nothing was restored." in result.output
    with target.app_context():
        assert contents() == before


def test_a_backup_restores_only_with_the_audit_key_that_made_it(
    backup: Path, make_instance: Callable[..., Flask]
) -> None:
    target = make_instance()
    target.config["AUDIT_KEY"] = "another instance's key"
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "or the backup comes from an instance with another AUDIT_KEY" in result.output
    target.config["AUDIT_KEY"] = "test"
    restored = invoke(target, "backup", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "the chain is intact" in restored.output
    # The restored log's head is published for this instance, so truncation is seen from now.
    head = json.loads(Path(target.config["AUDIT_HEAD_FILE"]).read_text())
    with target.app_context():
        last = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    assert head["seq"] == last > 0


def test_an_incomplete_backup_is_refused(backup: Path, make_instance: Callable[..., Flask]) -> None:
    (backup / "manifest.json").unlink()
    result = invoke(make_instance(), "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert "has no manifest.json, so it is not a complete backup" in result.output


def test_restore_needs_the_database_at_the_backups_migration(
    backup: Path, make_instance: Callable[..., Flask]
) -> None:
    target = make_instance()
    with target.app_context():
        downgrade(revision="-1")
    result = invoke(target, "backup", "restore", str(backup))
    assert result.exit_code == 1
    assert f"this version of Portfolio expects {code_revision()}" in result.output
    assert "Run 'flask db upgrade', then restore." in result.output


def test_a_backup_of_a_tampered_audit_log_restores_and_says_so(
    source: Flask, make_instance: Callable[..., Flask], tmp_path: Path
) -> None:
    """The backup is faithful: a log already broken is restored broken, and reported."""
    populate()
    db.session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(subject="user:99"))
    db.session.commit()
    path = tmp_path / "backup"
    assert invoke(source, "backup", "create", str(path)).exit_code == 0
    result = invoke(make_instance(), "backup", "restore", str(path))
    assert result.exit_code == 1
    assert "event 3 was changed after it was written." in result.output
    assert "The backup is restored, but its audit log does not verify" in result.output


def test_backup_while_another_connection_writes_is_one_snapshot(
    source: Flask, make_instance: Callable[..., Flask], tmp_path: Path
) -> None:
    """Accounts (each with its audit event) are created while the backup runs, in between the
    tables it writes: the backup holds every table as of one moment."""
    populate()
    written = 0
    failures: list[BaseException] = []
    stop = threading.Event()
    progress = threading.Condition()

    def write_accounts() -> None:
        nonlocal written
        try:
            with source.app_context():
                while not stop.is_set():
                    create_user(
                        db.session,
                        actor=None,
                        name=f"Walk-in {written}",
                        email=f"walk-in-{written}@example.org",
                        roles={Role.LEARNER},
                        password="a long enough password",
                    )
                    db.session.commit()
                    with progress:
                        written += 1
                        progress.notify_all()
                db.session.remove()
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)
            with progress:
                progress.notify_all()

    def wait_for_writes(table: str, rows: int) -> None:
        if table != "users":
            return
        with progress:
            seen = written
            assert progress.wait_for(lambda: failures or written >= seen + 3, timeout=60)

    writer = threading.Thread(target=write_accounts)
    writer.start()
    try:
        with progress:
            assert progress.wait_for(lambda: failures or written >= 2, timeout=60)
        path = tmp_path / "backup"
        create_backup(path, on_table=wait_for_writes)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures

    manifest = manifest_of(path)
    for table in manifest["tables"]:
        assert lines_in(path / table["file"]) == table["rows"], table["name"]

    def rows(table: str) -> list[dict[str, Any]]:
        with (path / "database" / f"{table}.jsonl").open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines]

    users = {f"user:{row['id']}" for row in rows("users")}
    created = {e["subject"] for e in rows("audit_events") if e["action"] == "user.created"}
    assert users == created, "each account and its audit event are in the backup together"
    (head,) = rows("audit_head")
    assert head["seq"] == len(rows("audit_events"))
    with source.app_context():
        live = db.session.scalar(select(db.func.count()).select_from(User))
    assert live > len(users), "accounts were created after the snapshot"

    target = make_instance()
    result = invoke(target, "backup", "restore", str(path))
    assert result.exit_code == 0, result.output
    verified = invoke(target, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert f"{head['seq']} events checked; the chain is intact" in verified.output
