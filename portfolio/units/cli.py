"""``flask units ...``: check unit files and load them into the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portfolio.extensions import db
from portfolio.units.loader import LoadResult, load_directory, load_files
from portfolio.units.sync import sync_units

units_cli = AppGroup("units", help="Check unit files and load them into the database.")


def _load(files: tuple[Path, ...]) -> LoadResult:
    if files:
        return load_files(files)
    return load_directory(Path(current_app.config["UNITS_DIR"]))


def _fail(problems: list) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    noun = "problem" if len(problems) == 1 else "problems"
    raise click.ClickException(f"{len(problems)} {noun}; nothing was changed.")


@units_cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check unit files (default: every file in UNITS_DIR) and report every problem."""
    result = _load(files)
    if not result.ok:
        _fail(result.problems)
    click.echo(f"{len(result.units)} unit files are valid.")


@units_cli.command("sync")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sync_command(files: tuple[Path, ...]) -> None:
    """Load unit files into the database in one transaction; loaded releases stay as they are."""
    result = _load(files)
    if not result.ok:
        _fail(result.problems)
    report = sync_units(db.session, result.units)
    if not report.ok:
        db.session.rollback()
        _fail(report.problems)
    db.session.commit()
    for label in report.added:
        click.echo(f"added {label}")
    click.echo(f"{len(report.added)} added, {len(report.unchanged)} already loaded.")
