"""Handing one message to the SMTP server the environment names (MAIL_SERVER, MAIL_PORT,
MAIL_USE_TLS or MAIL_USE_SSL, MAIL_USERNAME, MAIL_PASSWORD, MAIL_DEFAULT_SENDER)."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

#: CRLF line ends as SMTP wants; a header is folded only past the 998 characters the standard
#: allows (folded at 78, a subject began with a space in some clients).
_POLICY = email.policy.SMTP.clone(max_line_length=998)
#: What a failed hand-over raises: the server refused, or could not be reached in time.
SEND_ERRORS = (smtplib.SMTPException, OSError)


def message(
    config: Mapping[str, Any], *, to: str, subject: str, text: str, html: str
) -> EmailMessage:
    """A message with a plain-text part and an HTML part of the same content."""
    mail = EmailMessage(policy=_POLICY)
    mail["Subject"] = subject
    mail["From"] = config["MAIL_DEFAULT_SENDER"]
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=str(config["MAIL_DEFAULT_SENDER"]).rpartition("@")[2])
    # Replies and bounces go to the sender; automatic replies are not wanted.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail


def hand_over(config: Mapping[str, Any], mail: EmailMessage) -> None:
    """Send ``mail`` through the configured server; raises one of SEND_ERRORS if it fails."""
    host, port = config["MAIL_SERVER"], int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT_SECONDS"])
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    with server:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            server.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            server.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        server.send_message(mail)
