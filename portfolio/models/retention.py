"""Legal holds: an enrolment kept past its retention dates while a complaint, appeal, audit or
court matter needs it. A hold is placed and lifted with reasons and kept as history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import UTCDateTime, utcnow


class LegalHold(db.Model):
    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the hold ends; an enrolment is held while any of its holds is not lifted.
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str] = mapped_column(Text, default="")

    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def active(self) -> bool:
        return self.lifted_at is None


__all__ = ["LegalHold"]
