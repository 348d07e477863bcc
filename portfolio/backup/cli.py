"""``flask backup ...``: write and restore snapshots of an instance."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portfolio.audit.log import publish_head, verify
from portfolio.backup.service import BackupError, create_backup, restore_backup
from portfolio.extensions import db
from portfolio.models import AuditHead
from portfolio.text import count, file_size

backup_cli = AppGroup("backup", help="Write and restore snapshots of the database and evidence.")


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
def create_command(path: Path) -> None:
    """Back up the database and every evidence file to PATH, a new directory.

    Safe while the app is running: the database is read from one consistent snapshot.
    """
    try:
        summary = create_backup(path)
    except BackupError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Backup written to {summary.path}: {count(summary.rows, 'row')} in "
        f"{count(summary.tables, 'table')} ({summary.dialect}, migration {summary.revision}), "
        f"{count(summary.files, 'evidence file')} ({file_size(summary.file_bytes)})."
    )


@backup_cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup in directory PATH into this instance, which must be empty.

    Set up the new instance with 'flask db upgrade' only, and an empty EVIDENCE_DIR. Every
    file is checked against the backup's manifest; a changed or damaged backup is refused.
    """
    try:
        summary = restore_backup(path)
    except BackupError as error:
        raise click.ClickException(error.message) from error
    click.echo(
        f"Restored {summary.path}: {count(summary.rows, 'row')} in "
        f"{count(summary.tables, 'table')}, {count(summary.files, 'evidence file')} "
        f"({file_size(summary.file_bytes)}), every file matching the manifest."
    )
    result = verify(db.session)
    db.session.rollback()
    if not result.ok:
        for problem in result.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"The backup is restored, but its audit log does not verify: "
            f"{count(len(result.problems), 'problem')} in {count(result.checked, 'event')}. "
            "The log was already broken in the instance the backup was taken from."
        )
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    db.session.rollback()
    if head.seq:
        publish_head(Path(current_app.config["AUDIT_HEAD_FILE"]), head.seq, head.hash)
    click.echo(f"Audit log: {count(result.checked, 'event')} checked; the chain is intact.")
