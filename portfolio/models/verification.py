"""Third parties: a workplace supervisor, who has no account, answers through a single-use
link sent to them by email. They either verify one version of an evidence item, or write a
report of the learner's performance they observed, against chosen criteria.

A verification keeps the SHA-256 of the item's text and of every file the supervisor was
shown, so it stays with exactly those bytes: a later version of the item is not verified by
it. A report arrives in the portfolio as an evidence item of its own, kept as they wrote it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.assessment import Enrolment
from portfolio.models.base import UTCDateTime, enum_values, utcnow
from portfolio.models.evidence import EvidenceItem, EvidenceVersion


class RequestKind(enum.StrEnum):
    VERIFY = "verify"
    REPORT = "report"

    @property
    def label(self) -> str:
        return "Verification" if self is RequestKind.VERIFY else "Third-party report"


class VerificationState(enum.StrEnum):
    #: Sent; the link works until it expires.
    OPEN = "open"
    #: The supervisor confirmed every statement.
    CONFIRMED = "confirmed"
    #: The supervisor declined one statement or more.
    DECLINED = "declined"
    #: The supervisor wrote the report asked for.
    REPORTED = "reported"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return {
            VerificationState.OPEN: "Waiting for the verifier",
            VerificationState.CONFIRMED: "Confirmed",
            VerificationState.DECLINED: "Not confirmed",
            VerificationState.REPORTED: "Report received",
            VerificationState.REVOKED: "Withdrawn",
            VerificationState.EXPIRED: "Expired unanswered",
        }[self]

    @property
    def answered(self) -> bool:
        return self in (
            VerificationState.CONFIRMED,
            VerificationState.DECLINED,
            VerificationState.REPORTED,
        )


class VerifierCheck(enum.StrEnum):
    """How the assessor made sure the verifier is who they say they are."""

    PHONE_CALL = "phone_call"
    KNOWN_CONTACT = "known_contact"
    ORGANISATION_RECORDS = "organisation_records"
    IN_PERSON = "in_person"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            VerifierCheck.PHONE_CALL: "Phone call to the workplace's listed number",
            VerifierCheck.KNOWN_CONTACT: "A contact already known to the RTO",
            VerifierCheck.ORGANISATION_RECORDS: "Checked with the organisation's records",
            VerifierCheck.IN_PERSON: "Met in person",
            VerifierCheck.OTHER: "Other (see the note)",
        }[self]


class VerificationRequest(db.Model):
    """A request to a named third party (verify one evidence version, or report what they saw
    against chosen criteria), and their answer."""

    __tablename__ = "verification_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(
        Enum(RequestKind, native_enum=False, length=16, values_callable=enum_values),
        default=RequestKind.VERIFY,
    )
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    #: The version to verify (a report is about none).
    version_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_versions.id"), index=True)
    #: A report: the ids of the criteria it is asked about, in the unit's order.
    report_targets: Mapped[list[int] | None] = mapped_column(JSON)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verifier_name: Mapped[str] = mapped_column(String(200))
    verifier_email: Mapped[str] = mapped_column(String(254))
    verifier_position: Mapped[str] = mapped_column(String(200))
    verifier_organisation: Mapped[str] = mapped_column(String(200))
    #: How they know the learner ("direct supervisor for two years").
    relationship_to_learner: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the link's token; the token itself is only in the email.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[VerificationState] = mapped_column(
        Enum(VerificationState, native_enum=False, length=16, values_callable=enum_values),
        default=VerificationState.OPEN,
        index=True,
    )
    #: When it was answered, revoked or found expired.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The answer.
    #: {statement: true (confirmed) or false (declined)}.
    statements: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    #: The drawn signature, as a PNG the app wrote.
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: What the verifier saw: {"text_sha256": ..., "files": [{"name", "size", "sha256"}]}; for
    #: a report, the hashes of the evidence item it became.
    confirmed_hashes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: A report: {target id: {"seen": true or false, "note": ...}}, and the day observed.
    observations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    observed_on: Mapped[date | None] = mapped_column(Date)
    #: A report: the evidence item it arrived as.
    report_item_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_items.id"))

    # The assessor's check on the verifier.
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_method: Mapped[VerifierCheck | None] = mapped_column(
        Enum(VerifierCheck, native_enum=False, length=32, values_callable=enum_values)
    )
    check_note: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship()
    version: Mapped[EvidenceVersion | None] = relationship()
    report_item: Mapped[EvidenceItem | None] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])

    @property
    def answered(self) -> bool:
        return self.state.answered
