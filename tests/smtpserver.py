"""A real SMTP server (aiosmtpd) in the test process, keeping what it is sent: the app talks to
it over a socket exactly as to the RTO's mail server."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Inbox:
    """What arrived; ``refuse`` recipients are answered 550 (a mailbox that does not exist),
    ``busy`` ones 451 (try again later) once each."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.busy:
            self.busy.discard(address)
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def parts(message: EmailMessage) -> tuple[str, str]:
        """The plain-text and HTML bodies."""
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        return text.get_content(), html.get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller
