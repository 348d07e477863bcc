"""``flask verifications``: closing links past their expiry (daily, from cron)."""

from __future__ import annotations

import click

from portfolio.extensions import db
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup
from portfolio.text import count
from portfolio.verification.services import expire_due

verifications_cli = DatabaseGroup("verifications", help="Verification links sent to supervisors.")


@verifications_cli.command("expire")
def expire_command() -> None:
    """Mark every unanswered link past its expiry as expired, in the audit log too. Run daily,
    from cron; a link opened after it expired is marked so there and then as well."""
    expired = commit_or_fail(lambda: expire_due(db.session))
    click.echo(f"{count(expired, 'link')} expired")
