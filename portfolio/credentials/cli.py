"""``flask credentials``: telling admins of credential entries about to lapse (daily, from
cron)."""

from __future__ import annotations

import click

from portfolio.credentials.services import tell_expiring
from portfolio.extensions import db
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup
from portfolio.text import count

credentials_cli = DatabaseGroup("credentials", help="The assessors' credential register.")


@credentials_cli.command("expiring")
def expiring_command() -> None:
    """List the entries that lapse in the next 60 days and email them to every admin (when
    mail is on). Run daily, from cron."""
    entries, told = commit_or_fail(lambda: tell_expiring(db.session))
    for entry in entries:
        click.echo(
            f"{entry.user.name}: {entry.kind.label} {entry.code} {entry.title}, until "
            f"{entry.ends_on:%d/%m/%Y}"
        )
    click.echo(f"{count(len(entries), 'entry')} lapsing; {count(told, 'admin')} told by email")
