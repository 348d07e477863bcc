"""``flask validation``: which units are due for validation, and drawing a sample again to
check it."""

from __future__ import annotations

import click

from portfolio.extensions import db
from portfolio.models import Validation
from portfolio.schema import DatabaseGroup
from portfolio.validation import rules, services

validation_cli = DatabaseGroup("validation", help="Validation of assessment.")


@validation_cli.command("due")
def due_command() -> None:
    """Each unit with a plan: its risk, when it was last validated and when it is next due."""
    for row in services.plans(db.session):
        if row.plan is None:
            click.echo(f"{row.unit.code}: no validation plan")
            continue
        last = f"{row.last_completed:%d/%m/%Y}" if row.last_completed else "never"
        due = f"{row.next_due:%d/%m/%Y}" if row.next_due else "now"
        click.echo(
            f"{row.unit.code}: {row.plan.risk.label} risk ({rules.frequency(row.plan.risk)}), "
            f"last validated {last}, due {due}" + (" (overdue)" if row.overdue else "")
        )


@validation_cli.command("redraw")
@click.argument("validation_id", type=int)
def redraw_command(validation_id: int) -> None:
    """Draw a validation's sample again from its seed and population; exit 1 if it differs."""
    validation = db.session.get(Validation, validation_id)
    if validation is None:
        raise click.ClickException(f"No validation has the id {validation_id}.")
    kept = [s.enrolment_id for s in validation.samples]
    again = services.redraw(validation)
    click.echo(f"Seed {validation.seed!r}, population {len(validation.population)}")
    click.echo("Kept:      " + " ".join(map(str, kept)))
    click.echo("Redrawn:   " + " ".join(map(str, again)))
    if again != kept:
        raise click.ClickException("The sample drawn again differs from the one kept.")
    click.echo("The same enrolments, in the same order.")
