"""Email on its way out: each message is a row, written in the same transaction as the event
it tells of, then sent by a background job. A message that cannot be sent stays here, failed,
with the server's answer, for an admin to see and send again: nothing is lost."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import UTCDateTime, enum_values, utcnow


class MailState(enum.StrEnum):
    #: Kept for the person's daily digest.
    HELD = "held"
    QUEUED = "queued"
    SENT = "sent"
    #: Sent as part of a digest (``digest_id``).
    DIGESTED = "digested"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {
            MailState.HELD: "Kept for the daily digest",
            MailState.QUEUED: "Waiting to be sent",
            MailState.SENT: "Sent",
            MailState.DIGESTED: "Sent in a digest",
            MailState.FAILED: "Failed",
        }[self]


class Mail(db.Model):
    __tablename__ = "mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    #: What it tells of (``submission.waiting``, ``password.reset``, ...).
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    #: The page it is about, listed in a digest beside the subject.
    link: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[MailState] = mapped_column(
        Enum(MailState, native_enum=False, length=16, values_callable=enum_values),
        default=MailState.QUEUED,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The mail server's answer to the last failed attempt.
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("mail.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
