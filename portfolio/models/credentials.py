"""The credential register: what allows an assessor to assess a unit, and until when.

Each entry is one of three kinds (Standards for RTOs 2025, 1.5 and the Credential Policy): a
training and assessment credential, vocational competency in one unit (held, or equivalent
with the reason), or an industry currency activity. Entries are never deleted: one that no
longer stands is ended, with who, when and why, and stays on record, so the register on any
past day can be read back.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import StoredFileColumns, UTCDateTime, enum_values, utcnow


class CredentialKind(enum.StrEnum):
    TRAINING_AND_ASSESSMENT = "training_and_assessment"
    VOCATIONAL = "vocational"
    INDUSTRY_CURRENCY = "industry_currency"
    #: Assessing under the direction of a credentialed assessor, without the training and
    #: assessment credential (Standards for RTOs 2025, 3.3): each judgement, sign-off and
    #: outcome then stands only once a credentialed assessor countersigns it.
    UNDER_DIRECTION = "under_direction"

    @property
    def label(self) -> str:
        return {
            CredentialKind.TRAINING_AND_ASSESSMENT: "Training and assessment credential",
            CredentialKind.VOCATIONAL: "Vocational competency",
            CredentialKind.INDUSTRY_CURRENCY: "Industry currency",
            CredentialKind.UNDER_DIRECTION: "Working under direction",
        }[self]


class CredentialBasis(enum.StrEnum):
    """Whether the credential is held, or an equivalence the RTO accepted (with its reason)."""

    HELD = "held"
    EQUIVALENT = "equivalent"

    @property
    def label(self) -> str:
        return "Held" if self is CredentialBasis.HELD else "Equivalent (reason recorded)"


class Credential(db.Model):
    """One entry of an assessor's credential register."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[CredentialKind] = mapped_column(
        Enum(CredentialKind, native_enum=False, length=32, values_callable=enum_values)
    )
    #: TAE40122, a unit code, or for industry currency the units it keeps current (may be "").
    code: Mapped[str] = mapped_column(String(32), default="")
    #: What it is, in words: the qualification's title, or the activity.
    title: Mapped[str] = mapped_column(String(300))
    basis: Mapped[CredentialBasis] = mapped_column(
        Enum(CredentialBasis, native_enum=False, length=16, values_callable=enum_values),
        default=CredentialBasis.HELD,
    )
    #: Why an equivalence was accepted (needed for one).
    reason: Mapped[str] = mapped_column(Text, default="")
    #: Issued on, or the day the activity began.
    starts_on: Mapped[date] = mapped_column(Date)
    #: Expiry or review date; none for a qualification that does not lapse.
    ends_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the entry no longer stands (entered in error, withdrawn); it stays on record.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])
    files: Mapped[list[CredentialFile]] = relationship(
        back_populates="credential", order_by="CredentialFile.id", cascade="all, delete-orphan"
    )


class CredentialFile(StoredFileColumns, db.Model):
    """A document behind a credential entry: a certificate, a statement of attainment, a log."""

    __tablename__ = "credential_files"

    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), index=True)

    credential: Mapped[Credential] = relationship(back_populates="files")
