"""``flask reviews``: telling people of reviews past their due date (daily, from cron)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app

from portfolio.assessment.overdue import tell_overdue
from portfolio.clock import today
from portfolio.extensions import db
from portfolio.mail.outbox import mail_on
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

reviews_cli = DatabaseGroup("reviews", help="Reviews and their due dates.")


@reviews_cli.command("overdue")
def overdue_command() -> None:
    """Email each assessor the reviews of theirs newly past due, and every admin all of them
    (once a submission round). Run daily, from cron."""
    if not mail_on():
        raise click.ClickException("Mail is off: set MAIL_SERVER to tell people by email.")
    config = current_app.config
    told = commit_or_fail(
        lambda: tell_overdue(
            db.session,
            today=today(),
            due_days=int(config["REVIEW_DUE_WORKING_DAYS"]),
            zone=ZoneInfo(config["RTO_TIMEZONE"]),
        )
    )
    click.echo(f"told of {told} review{'s' if told != 1 else ''} newly past due")
