"""``flask files ...``: upkeep of the evidence store."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portfolio.extensions import db
from portfolio.files.migrate import MigrationError, migrate
from portfolio.files.storage import named_storage
from portfolio.files.sweep import sweep
from portfolio.files.uploads import storage
from portfolio.text import count, file_size

files_cli = AppGroup("files", help="Upkeep of the evidence store.")


@files_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
def sweep_command(dry_run: bool) -> None:
    """Remove uploads never claimed by a form, and stored files no record uses, once older
    than an upload token's lifetime (24 hours). Safe while the app runs; run it daily."""
    result = sweep(db.session, storage(), dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} {count(result.unclaimed_uploads, 'upload')} never claimed by a form, "
        f"{count(result.files_removed, 'stored file')} no record uses "
        f"({file_size(result.bytes_removed)})"
        + (f" and {count(result.unfinished_removed, 'unfinished upload')}." if not dry_run else ".")
    )


storage_cli = AppGroup("storage", help="Where evidence files are kept.")


@storage_cli.command("migrate")
@click.option(
    "--from",
    "source",
    type=click.Choice(["local", "s3"]),
    required=True,
    help="The store the files are in now.",
)
@click.option(
    "--to",
    "destination",
    type=click.Choice(["local", "s3"]),
    required=True,
    help="The store to copy them to (set EVIDENCE_STORAGE to it afterwards).",
)
def migrate_command(source: str, destination: str) -> None:
    """Copy every evidence file to another store, verifying each SHA-256; safe to run again
    after a stop (files already there are checked, not copied). The source is left intact."""
    if source == destination:
        raise click.UsageError("--from and --to name the same store.")
    config = current_app.config
    try:
        result = migrate(
            db.session,
            named_storage(config, source),
            named_storage(config, destination),
            progress=click.echo,
        )
    except (MigrationError, ValueError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"Copied {count(result.copied, 'file')} ({file_size(result.bytes)}) to {destination}; "
        f"{count(result.verified, 'file')} already there and verified"
        + (f", {count(len(result.replaced), 'damaged copy')} replaced" if result.replaced else "")
        + f". Every file's SHA-256 matches its key; {count(result.records, 'record')} now name "
        f"{destination}. Set EVIDENCE_STORAGE={destination} and restart; the {source} store "
        "is left as it was."
    )
