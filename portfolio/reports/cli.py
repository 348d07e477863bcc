"""``flask reports``: the dashboard's figures as CSV, for a student management system or a
spreadsheet (the same numbers as the admin's dashboard)."""

from __future__ import annotations

import click
from flask import current_app

from portfolio.auth.services import find_user_by_email
from portfolio.clock import rto_zone, today
from portfolio.extensions import db
from portfolio.reports.dashboard import ADMIN_FIGURES, admin_figures, figure_csv, pick
from portfolio.reports.figures import Filters
from portfolio.schema import DatabaseGroup

reports_cli = DatabaseGroup("reports", help="The dashboards' figures as CSV.")


@reports_cli.command("figure")
@click.argument("name", type=click.Choice(ADMIN_FIGURES))
@click.option("--unit", help="Only this unit (its code).")
@click.option("--assessor", "email", help="Only this assessor (their email).")
@click.option("--from", "decided_from", type=click.DateTime(["%Y-%m-%d"]), help="Decided from.")
@click.option("--to", "decided_to", type=click.DateTime(["%Y-%m-%d"]), help="Decided until.")
def figure_command(name: str, unit, email, decided_from, decided_to) -> None:
    """Print one figure as CSV: states, outcomes-by-unit, outcomes-by-assessor,
    times-by-month, times-by-assessor, queue or evidence."""
    assessor_id = None
    if email:
        person = find_user_by_email(db.session, email)
        if person is None:
            raise click.ClickException(f"No account has the email {email}.")
        assessor_id = person.id
    frm = decided_from.date() if decided_from else None
    to = decided_to.date() if decided_to else None
    if frm and to and frm > to:
        raise click.ClickException("--from is after --to.")
    filters = Filters(unit.strip().upper() if unit else None, assessor_id, frm, to)
    made = admin_figures(
        db.session,
        filters,
        today=today(),
        due_days=current_app.config["REVIEW_DUE_WORKING_DAYS"],
        zone=rto_zone(),
    )
    figure = pick(made, name)
    assert figure is not None
    click.echo(figure_csv(figure), nl=False)
