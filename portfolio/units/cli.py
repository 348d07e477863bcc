"""``flask units ...``: check unit files and load them into the database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from portfolio.extensions import db
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup
from portfolio.units.importing import SourceError, prepare, text_from_upload
from portfolio.units.loader import LoadResult, load_directory, load_files
from portfolio.units.sync import SyncReport, sync_units

units_cli = DatabaseGroup("units", help="Check unit files and load them into the database.")


def _load(files: tuple[Path, ...]) -> LoadResult:
    if files:
        return load_files(files)
    return load_directory(Path(current_app.config["UNITS_DIR"]))


def _fail(problems: list) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    noun = "problem" if len(problems) == 1 else "problems"
    raise click.ClickException(f"{len(problems)} {noun}; nothing was changed.")


@units_cli.command("validate", needs_database=False)
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

    def sync() -> SyncReport:
        report = sync_units(db.session, result.units)
        if not report.ok:
            _fail(report.problems)
        return report

    report = commit_or_fail(sync)
    for label in report.added:
        click.echo(f"added {label}")
    click.echo(f"{len(report.added)} added, {len(report.unchanged)} already loaded.")


@units_cli.command("import", needs_database=False)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", help="The unit code, where the text gives none or gives it wrong.")
@click.option("--title", help="The unit title, where the text gives none or gives it wrong.")
@click.option(
    "--release",
    type=click.IntRange(min=1),
    help="The release number, where the text gives none (1 for a unit's first release).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the unit file to (default: UNITS_DIR).",
)
@click.option("--force", is_flag=True, help="Replace a unit file of the same name.")
def import_command(
    source: Path,
    code: str | None,
    title: str | None,
    release: int | None,
    output: Path | None,
    force: bool,
) -> None:
    """Write a unit file from a unit's published text (.txt, .md, .docx or .html).

    Every line the parser could not place, or placed by a guess, is reported with its line
    number. Nothing is written unless the unit file passes `flask units validate`.
    """
    try:
        with source.open("rb") as stream:
            text = text_from_upload(source.name, stream)
    except SourceError as error:
        raise click.ClickException(str(error)) from error
    draft = prepare(text, code=code, title=title, release=release)
    if draft.refusal:
        click.echo(f"Error: {draft.refusal} Nothing was written.", err=True)
    groups = draft.parsed.warning_groups()
    for group in groups:
        click.echo(str(group), err=True)
    for group in groups:
        for warning in group.warnings:
            click.echo(f"{source}:{warning.line}: {warning.message}", err=True)
    if draft.refusal:
        raise SystemExit(1)
    asked = [name for name in draft.missing if name != "criteria"]
    if asked:
        options = _listed([f"--{name}" for name in asked], "and")
        raise click.ClickException(
            f"The text gives no unit {_listed(asked, 'or')}: give {options}; nothing was written."
        )
    if not draft.ok:
        _fail(draft.problems)
    folder = output or Path(current_app.config["UNITS_DIR"])
    target = folder / draft.file_name
    if target.exists() and not force:
        raise click.ClickException(
            f"{target} already exists; give another --release, or --force to replace it."
        )
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.yaml_text, encoding="utf-8")
    document = draft.unit.document
    counts = f"{len(document.elements)} elements, {len(document.all_criteria())} criteria"
    noun = "warning" if len(draft.parsed.warnings) == 1 else "warnings"
    click.echo(f"wrote {target}: {document.code} release {document.release}, {counts}")
    if draft.parsed.warnings:
        click.echo(
            f"{len(draft.parsed.warnings)} {noun}: check those lines, then `flask units sync`."
        )
    else:
        click.echo("Check it, then load it with `flask units sync`.")


def _listed(words: list[str], conjunction: str) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"
