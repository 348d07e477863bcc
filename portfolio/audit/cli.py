"""``flask audit verify``: check that nobody changed, removed or inserted an audit event, and
that the judgements, sign-offs and outcomes are what the log says they are."""

from __future__ import annotations

import click

from portfolio.assessment.ledger import compare_with_log
from portfolio.audit.log import verify
from portfolio.extensions import db
from portfolio.schema import DatabaseGroup
from portfolio.text import count

audit_cli = DatabaseGroup("audit", help="Check the append-only audit log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute every event's signature in order, check the log still reaches the head
    published beside the database, and compare each judgement, gap sign-off and outcome
    with the last event about it; list each problem and exit 1 if there is one."""
    result = verify(db.session)
    records = list(compare_with_log(db.session))
    db.session.rollback()  # read only: end the transaction the checks ran in
    for note in result.notes:
        click.echo(note)
    problems = result.problems + records
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"The audit log has been tampered with: {count(len(problems), 'problem')} "
            f"in {count(result.checked, 'event')} checked."
        )
    click.echo(
        f"{count(result.checked, 'event')} checked; the chain is intact and every judgement, "
        "sign-off and outcome is as the log says."
    )
