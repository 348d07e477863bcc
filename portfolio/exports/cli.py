"""``flask exports``: the same documents as the exports pages, written to files."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from portfolio.audit.exports import record_export
from portfolio.errors import ServiceError
from portfolio.exports.bundle import Progress, Selection, selected_ids
from portfolio.exports.jobs import write_bundle
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import build_matrix, cohort_ids, matrix_data
from portfolio.exports.pack import build_pack, pack_data
from portfolio.exports.pdf import Converter
from portfolio.exports.register import describe_register, register_rows, write_csv, write_xlsx
from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import Enrolment, Unit
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup
from portfolio.text import count

exports_cli = DatabaseGroup(
    "exports", help="Evidence packs, matrices, registers and audit bundles."
)

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value) -> date | None:
    return value.date() if value else None


def _known_unit(unit_code: str | None) -> None:
    """A unit filter that names no unit is a mistake to report, not an empty export."""
    if (
        unit_code
        and db.session.scalar(select(Unit.id).where(Unit.code == unit_code.upper())) is None
    ):
        raise click.ClickException(f"There is no unit {unit_code.upper()}.")


def _recorded(kind: str, description: str, count: int, enrolment: Enrolment | None = None) -> None:
    commit_or_fail(
        lambda: record_export(
            db.session,
            actor=None,
            role=None,
            kind=kind,
            description=description,
            count=count,
            enrolment=enrolment,
        )
    )


@exports_cli.command("pack")
@click.argument("enrolment_id", type=int)
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def pack_command(enrolment_id: int, out: Path) -> None:
    """Write the evidence pack of one enrolment to OUT (.docx)."""
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise click.ClickException(f"No enrolment has the id {enrolment_id}.")
    config = current_app.config
    data = pack_data(db.session, enrolment, currency_years=config["EVIDENCE_CURRENCY_YEARS"])
    document = build_pack(data, letterhead=Letterhead.from_config(config), open_file=storage().open)
    Converter.from_config(config).try_number_contents(document)  # when LibreOffice is there
    document.save(out)
    _recorded("pack", f"Evidence pack {data.reference}", 1, enrolment)
    click.echo(f"wrote {out}")


@exports_cli.command("matrix")
@click.argument("unit_code")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--enrolled-from", type=DAY)
@click.option("--enrolled-to", type=DAY)
def matrix_command(unit_code: str, out: Path, enrolled_from, enrolled_to) -> None:
    """Write the mapping matrix of UNIT_CODE for its learners to OUT (.docx)."""
    start, end = _day(enrolled_from), _day(enrolled_to)
    try:
        ids = cohort_ids(db.session, unit_code, enrolled_from=start, enrolled_to=end)
        data = matrix_data(db.session, unit_code, ids, description=f"{len(ids)} learners")
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    build_matrix(data, letterhead=Letterhead.from_config(current_app.config)).save(out)
    _recorded("matrix", f"Unit mapping matrix {unit_code.upper()}", len(ids))
    click.echo(f"wrote {out}: {len(ids)} learners")


@exports_cli.command("register")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--unit", "unit_code")
@click.option("--decided-from", type=DAY)
@click.option("--decided-to", type=DAY)
def register_command(out: Path, unit_code, decided_from, decided_to) -> None:
    """Write the outcomes register to OUT: .csv or .xlsx by its extension."""
    _known_unit(unit_code)
    filters = {
        "unit_code": unit_code,
        "decided_from": _day(decided_from),
        "decided_to": _day(decided_to),
    }
    try:
        rows = register_rows(db.session, **filters)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    if out.suffix.lower() == ".xlsx":
        with out.open("wb") as stream:
            write_xlsx(rows, stream)
    else:
        with out.open("w", encoding="utf-8", newline="") as stream:
            write_csv(rows, stream, bom=True)
    _recorded("register", describe_register(**filters), len(rows))
    click.echo(f"wrote {out}: {len(rows)} outcomes")


@exports_cli.command("bundle")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--unit", "unit_code", help="Only this unit.")
@click.option("--decided-from", type=DAY)
@click.option("--decided-to", type=DAY)
@click.option("--enrolment", "enrolment_ids", type=int, multiple=True, help="Hand-pick; repeat.")
@click.option("--pdfs", is_flag=True, help="A PDF beside each Word document (LibreOffice).")
def bundle_command(out: Path, unit_code, decided_from, decided_to, enrolment_ids, pdfs) -> None:
    """Write an audit bundle (packs, files, matrix, register, manifest) to OUT (.zip)."""
    selection = Selection(
        unit_code, _day(decided_from), _day(decided_to), list(enrolment_ids), pdfs=pdfs
    )
    if pdfs and not Converter.from_config(current_app.config).available():
        raise click.ClickException("--pdfs needs LibreOffice (soffice), which is not installed.")
    try:
        if not selected_ids(db.session, selection):
            raise click.ClickException("No decided enrolment matches that selection.")
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    bar = None

    def progress(p: Progress) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=p.total, label="Adding enrolments", file=sys.stderr)
            bar.__enter__()
        bar.update(p.done - bar.pos)

    try:
        size = write_bundle(current_app._get_current_object(), selection, out, on_progress=progress)
    except ServiceError as error:
        raise click.ClickException(error.message) from error
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    total = bar.length if bar is not None else 0
    _recorded("bundle", f"Audit bundle: {selection.describe()}", total)
    click.echo(f"wrote {out}: {count(total, 'enrolment')}, {size} bytes")
