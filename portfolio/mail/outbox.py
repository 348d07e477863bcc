"""The outbox: a service writes an email in its own transaction (so the email exists exactly
when the event it tells of does), and once that transaction commits, a background job hands it
to the SMTP server. A failed hand-over is retried by the queue engine; the last failure stays
on the row, shown to admins (/admin/mail) with a button to send it again.

People who chose a daily digest have their emails kept (HELD) until ``flask mail digest``
gathers them into one. Account set-up and password reset emails are never kept.

With MAIL_SERVER unset, mail is off: nothing is written, and the pages that would send a link
say so.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portfolio import queue
from portfolio.extensions import db
from portfolio.mail.smtp import SEND_ERRORS, hand_over, message
from portfolio.models import Mail, MailState, NotifyMode, User
from portfolio.models.base import utcnow
from portfolio.queue import enqueue

#: Ids of mail written in a session, to be sent once it commits.
_TO_SEND = "mail.to_send"
#: Kinds that are sent at once whatever the person chose: they hold a link that expires.
URGENT = frozenset({"account.setup", "password.reset"})
DIGEST = "digest"
_NEVER_KEPT = URGENT | {DIGEST}


def mail_on() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def public_url(path: str) -> str:
    """``path`` (``/reviews/3``) as a link for an email: at PUBLIC_URL, never at the Host a
    request claimed."""
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


@dataclass(frozen=True)
class Outsider:
    """Someone with no account, written to at an address (a workplace supervisor)."""

    name: str
    email: str


def write(
    session: Session,
    *,
    to: User | Outsider,
    kind: str,
    subject: str,
    link: str,
    context: dict[str, Any] | None = None,
) -> Mail | None:
    """An email to ``to`` about ``kind`` (its words in ``templates/mail/<kind>.txt`` and
    ``.html``), sent after the caller commits, or kept for their digest. None when mail is off
    or the account is deactivated. Someone with no account is written to at once."""
    user = to if isinstance(to, User) else None
    if not mail_on() or (user is not None and not user.active):
        return None
    values = {
        "person": to,
        "subject": subject,
        "link": link,
        "rto_name": current_app.config["RTO_NAME"],
        "account_link": public_url("/account"),
        **(context or {}),
    }
    held = user is not None and kind not in _NEVER_KEPT and user.notify is NotifyMode.DIGEST
    mail = Mail(
        user=user,
        to_address=to.email,
        kind=kind,
        subject=subject,
        text_body=render_template(f"mail/{kind}.txt", **values),
        html_body=render_template(f"mail/{kind}.html", **values),
        link=link,
        state=MailState.HELD if held else MailState.QUEUED,
    )
    session.add(mail)
    session.flush()
    if not held:
        _send_after_commit(session, [mail.id])
    return mail


def _send_after_commit(session: Session, ids: Iterable[int]) -> None:
    session.info.setdefault(_TO_SEND, set()).update(ids)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    ids = session.info.pop(_TO_SEND, None)
    if not ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for mail_id in sorted(ids):
        enqueue(app, f"{__name__}.deliver", str(mail_id))


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: Any) -> None:
    session.info.pop(_TO_SEND, None)


def deliver(mail_id: str) -> None:
    """The job: hand one email to the SMTP server and record how it went. A refusal is tried
    again: by the queue engine after its pauses, or, run in-process, here after the same
    pauses (this is a background thread, not a request)."""
    while (tries := _attempt(int(mail_id))) is not None:
        time.sleep(queue.RETRY_PAUSES[tries - 1])


def _attempt(mail_id: int) -> int | None:
    """One try. When it failed and is to be tried again in-process, the tries so far."""
    mail = db.session.get(Mail, mail_id)
    if mail is None or mail.state not in (MailState.QUEUED, MailState.FAILED):
        return None  # sent already: a second run of the same job
    config = current_app.config
    mail.attempts += 1
    if not mail_on():  # nothing to try again with
        mail.state = MailState.FAILED
        mail.error = "Mail is off here: MAIL_SERVER is not set."
        db.session.commit()
        return None
    try:
        hand_over(
            config,
            message(
                config,
                to=mail.to_address,
                subject=f"{mail.subject} - {config['RTO_NAME']}",
                text=mail.text_body,
                html=mail.html_body,
            ),
        )
    except SEND_ERRORS as error:
        on_queue = queue.on_queue()
        again = queue.retries_left() > 0 if on_queue else mail.attempts <= queue.RETRIES
        mail.state = MailState.QUEUED if again else MailState.FAILED
        mail.error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
        if again and on_queue:
            raise  # the queue engine runs it again after a pause
        return mail.attempts if again else None
    mail.state = MailState.SENT
    mail.sent_at = utcnow()
    mail.error = ""
    db.session.commit()
    return None


def send_again(session: Session, mails: Iterable[Mail]) -> int:
    """Queue failed (or stuck) emails to be sent again once the caller commits."""
    ids = [m.id for m in mails if m.state in (MailState.FAILED, MailState.QUEUED)]
    for mail in mails:
        if mail.id in ids:
            mail.state = MailState.QUEUED
    _send_after_commit(session, ids)
    return len(ids)


def stuck(session: Session, *, older_than: timedelta = timedelta(minutes=5)) -> list[Mail]:
    """Emails still waiting well after they were written (a web process stopped before its
    job ran), for ``flask mail send``."""
    return list(
        session.scalars(
            select(Mail)
            .where(Mail.state == MailState.QUEUED, Mail.created_at < utcnow() - older_than)
            .order_by(Mail.id)
        )
    )


def gather_digests(session: Session) -> int:
    """One email per person with kept emails, listing them; the kept ones are marked as sent
    in it. Returns how many digests were written."""
    held = session.scalars(
        select(Mail)
        .where(Mail.state == MailState.HELD)
        .order_by(Mail.user_id, Mail.created_at, Mail.id)
    ).all()
    by_person: dict[int, list[Mail]] = {}
    for mail in held:
        if mail.user_id is not None:
            by_person.setdefault(mail.user_id, []).append(mail)
    written = 0
    for mails in by_person.values():
        person = mails[0].user
        assert person is not None
        count = len(mails)
        digest = write(
            session,
            to=person,
            kind=DIGEST,
            subject=f"{count} update{'s' if count != 1 else ''} in your portfolio",
            link=public_url("/"),
            context={"mails": mails},
        )
        if digest is None:
            continue
        for mail in mails:
            mail.state = MailState.DIGESTED
            mail.digest_id = digest.id
        written += 1
    session.flush()
    return written
