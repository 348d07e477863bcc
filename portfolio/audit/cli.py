"""``flask audit verify``: check that nobody changed, removed or inserted an audit event."""

from __future__ import annotations

import click

from portfolio.audit.log import verify
from portfolio.extensions import db
from portfolio.schema import DatabaseGroup
from portfolio.text import count

audit_cli = DatabaseGroup("audit", help="Check the append-only audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute every event's hash in order; list each break and exit 1 if there is one."""
    result = verify(db.session)
    db.session.rollback()  # read only: end the transaction the check ran in
    if not result.ok:
        for problem in result.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"The audit log has been tampered with: {count(len(result.problems), 'problem')} "
            f"in {count(result.checked, 'event')} checked."
        )
    click.echo(f"{count(result.checked, 'event')} checked; the chain is intact.")
