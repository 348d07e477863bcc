"""``flask demo``: demo accounts for ``make run``, and a synthetic RTO of any size."""

from __future__ import annotations

import click
from flask import current_app

from portfolio.demo.accounts import DEMO_ACCOUNTS, create_demo_accounts
from portfolio.demo.generate import DEMO_PASSWORD, GenerateError, generate
from portfolio.extensions import db
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

demo_cli = DatabaseGroup("demo", help="Demo data for trying the app.")


@demo_cli.command("accounts")
def demo_accounts_command() -> None:
    """On a database with no accounts, create demo accounts and enrolments; print the logins."""
    created = commit_or_fail(lambda: create_demo_accounts(db.session))
    if created is None:
        return  # a real instance: its accounts are not the demo's
    if created:
        click.echo("Created demo accounts; Sam Learner's TLII5018 is assessed Competent.")
    click.echo("Demo logins (for trying the app; change or deactivate them in production):")
    for name, email, password, roles in DEMO_ACCOUNTS:
        click.echo(f"  {', '.join(r.label for r in roles):<10} {email:<24} {password:<20} ({name})")
    if not current_app.config.get("MAIL_SERVER"):
        click.echo(
            "Mail is off (MAIL_SERVER is not set): no notifications are sent, and new accounts' "
            "set-up links are shown to the admin to hand over."
        )


@demo_cli.command("generate")
@click.option("--learners", type=click.IntRange(min=1), required=True, help="Learners to add.")
@click.option(
    "--items",
    type=click.IntRange(min=1),
    required=True,
    help="Evidence items in each submitted portfolio (drafts have fewer).",
)
@click.option(
    "--assessors", type=click.IntRange(min=1), help="Assessors to add (default: 1 per 25 learners)."
)
@click.option(
    "--units", default="all", show_default=True, help="Unit codes, comma-separated, or all."
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same data."
)
def demo_generate_command(
    learners: int, items: int, assessors: int | None, units: str, seed: int
) -> None:
    """Add a synthetic cohort: learners in three units each, evidence files, every stage of
    the assessment, the audit trail. Run it again to add more."""
    codes = None if units.strip().lower() == "all" else [c for c in units.split(",") if c.strip()]
    try:
        summary = generate(
            db.session,
            current_app._get_current_object(),
            learners=learners,
            items=items,
            assessors=assessors,
            units=codes,
            seed=seed,
            progress=click.echo,
        )
    except GenerateError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for line in summary.lines():
        click.echo(line)
    click.echo(f"Log in with the password {DEMO_PASSWORD}:")
    for role, login in (("Learner", summary.learner), ("Assessor", summary.assessor)):
        if login is not None:
            click.echo(f"  {role:<9} {login.email:<36} ({login.name}; {login.detail})")
