"""``flask files ...``: upkeep of the evidence store."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portfolio.extensions import db
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
