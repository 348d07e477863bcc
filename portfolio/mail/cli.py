"""``flask mail``: send what is waiting, gather the daily digests, send a test email."""

from __future__ import annotations

import click
from flask import current_app

from portfolio.extensions import db
from portfolio.mail.outbox import deliver, gather_digests, mail_on, stuck
from portfolio.mail.smtp import SEND_ERRORS, hand_over, message
from portfolio.models import Mail, MailState
from portfolio.schema import DatabaseGroup

mail_cli = DatabaseGroup("mail", help="Send waiting email and the daily digests.")


def _require_mail() -> None:
    if not mail_on():
        raise click.ClickException(
            "Mail is off: set MAIL_SERVER (and MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, "
            "MAIL_PASSWORD, MAIL_DEFAULT_SENDER) to send email."
        )


@mail_cli.command("digest")
def digest_command() -> None:
    """Gather each digest reader's kept emails into one and send it (run daily, from cron)."""
    _require_mail()
    written = gather_digests(db.session)
    db.session.commit()
    click.echo(f"sent {written} digest{'s' if written != 1 else ''}")


@mail_cli.command("send")
@click.option("--failed", is_flag=True, help="Also send again the emails that failed.")
def send_command(failed: bool) -> None:
    """Send the emails still waiting (a web process stopped before sending them), here and now.
    Safe to run from cron every few minutes."""
    _require_mail()
    waiting = stuck(db.session)
    if failed:
        waiting += list(
            db.session.scalars(
                db.select(Mail).where(Mail.state == MailState.FAILED).order_by(Mail.id)
            )
        )
    sent = 0
    for mail_id in [m.id for m in waiting]:
        deliver(str(mail_id))
        sent += db.session.get(Mail, mail_id).state is MailState.SENT
    click.echo(f"sent {sent} of {len(waiting)} waiting")
    if sent < len(waiting):
        raise click.ClickException("some could not be sent: see /admin/mail for the answers")


@mail_cli.command("test")
@click.argument("address")
def test_command(address: str) -> None:
    """Send one test email to ADDRESS, to check the mail settings."""
    _require_mail()
    config = current_app.config
    try:
        hand_over(
            config,
            message(
                config,
                to=address,
                subject=f"Test email - {config['RTO_NAME']}",
                text="The portfolio can send email with these settings.",
                html="<p>The portfolio can send email with these settings.</p>",
            ),
        )
    except SEND_ERRORS as error:
        raise click.ClickException(
            f"could not send through {config['MAIL_SERVER']}:{config['MAIL_PORT']}: {error}"
        ) from error
    click.echo(f"sent a test email to {address}")
