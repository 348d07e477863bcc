"""Enrolments: a learner in one release of a unit, with an assessor and a workflow state."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import StoredFileColumns, UTCDateTime, enum_values, utcnow
from portfolio.models.units import UnitRelease

if TYPE_CHECKING:
    from portfolio.models.review import GapFeedback


class AssessmentState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    DECIDED = "decided"
    # After Not yet competent: the learner works on another attempt.
    REASSESSMENT = "reassessment"
    # Closed other than by a judgement.
    WITHDRAWN = "withdrawn"
    CREDIT_TRANSFER = "credit_transfer"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Enrolment(db.Model):
    """A learner enrolled in a unit, pinned to the release they are assessed against."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("learner_id", "unit_release_id"),
        # The review queue and the assessor's dashboard: an assessor's enrolments in a state.
        Index("ix_enrolments_assessor_id_state", "assessor_id", "state"),
        # The assessor's learners, a page at a time in the order they were enrolled.
        Index("ix_enrolments_assessor_id_id", "assessor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    unit_release_id: Mapped[int] = mapped_column(ForeignKey("unit_releases.id"), index=True)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_rpl: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[AssessmentState] = mapped_column(
        Enum(AssessmentState, native_enum=False, length=16, values_callable=enum_values),
        default=AssessmentState.DRAFT,
    )
    # Evidence references (E1, E2, ...) are numbered per enrolment.
    next_evidence_number: Mapped[int] = mapped_column(Integer, default=1)
    # The attempt the learner and assessor are on: 1, then one more for each reassessment.
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The activity dates a student management system reports (AVETMISS): the start, and the
    # end once the unit is decided or the enrolment closed.
    activity_start: Mapped[date] = mapped_column(Date)
    activity_end: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every UPDATE of the row: of two requests that read the same enrolment and both
    # change it (two tabs submitting, two new items numbered at once), the second is refused.
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")
    # The day the retention rules destroyed the learner's evidence (files and texts); the
    # audit log holds a receipt for each item. The assessment records stay.
    evidence_destroyed_on: Mapped[date | None] = mapped_column(Date)
    # The day the retention rules destroyed its records too (outcome, judgements, sign-offs,
    # submissions, items), past the record period; the row stays as the audit log's subject.
    records_destroyed_on: Mapped[date | None] = mapped_column(Date)

    __mapper_args__ = {"version_id_col": lock_version}

    #: The hash of the latest audit event about the enrolment, where a query asks for it
    #: (``enrolments.progress.with_last_event``); None otherwise. Every change to the
    #: enrolment's evidence, records and state appends an event, so it changes with them.
    last_event: Mapped[str | None] = query_expression()

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assessor: Mapped[User | None] = relationship(foreign_keys=[assessor_id])
    unit_release: Mapped[UnitRelease] = relationship()
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="enrolment", order_by="Submission.round"
    )
    reassessments: Mapped[list[Reassessment]] = relationship(
        back_populates="enrolment", order_by="Reassessment.attempt"
    )
    closure: Mapped[Closure | None] = relationship(back_populates="enrolment")

    @property
    def kind_label(self) -> str:
        return "Recognition of prior learning (RPL)" if self.is_rpl else "Assessment"


class Submission(db.Model):
    """One round of a learner handing in their portfolio, with their declaration."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("enrolment_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    declaration: Mapped[str] = mapped_column(Text)
    #: The learner's drawn signature under it, where the RTO asks for one (a PNG the app wrote).
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Returned to the learner: when, by whom, and the assessor's overall feedback.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_feedback: Mapped[str | None] = mapped_column(Text)
    # When its assessor and the admins were told its review is overdue (once a round).
    overdue_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrolment: Mapped[Enrolment] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])
    gap_feedback: Mapped[list[GapFeedback]] = relationship(
        back_populates="submission", order_by="GapFeedback.id"
    )


class Reassessment(db.Model):
    """Another attempt after Not yet competent, with the assessor's plan for it."""

    __tablename__ = "reassessments"
    __table_args__ = (UniqueConstraint("enrolment_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    # What the learner must show, and by when; the criteria to work on, by reference.
    plan: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    enrolment: Mapped[Enrolment] = relationship(back_populates="reassessments")
    opened_by: Mapped[User] = relationship()


class ClosureKind(enum.StrEnum):
    """How an enrolment ends other than by a judgement."""

    WITHDRAWN = "withdrawn"
    CREDIT_TRANSFER = "credit_transfer"

    @property
    def label(self) -> str:
        return {ClosureKind.WITHDRAWN: "Withdrawn", ClosureKind.CREDIT_TRANSFER: "Credit transfer"}[
            self
        ]

    @property
    def avetmiss_code(self) -> str:
        return {ClosureKind.WITHDRAWN: "40", ClosureKind.CREDIT_TRANSFER: "60"}[self]

    @property
    def state(self) -> AssessmentState:
        return AssessmentState(self.value)


class Closure(db.Model):
    """An enrolment closed other than by a judgement: withdrawn, or credit transfer with the
    document verified (issuing RTO, document number and date, who verified it, the file)."""

    __tablename__ = "enrolment_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), unique=True)
    kind: Mapped[ClosureKind] = mapped_column(
        Enum(ClosureKind, native_enum=False, length=16, values_callable=enum_values)
    )
    closed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    # Who recorded it (and, for a credit transfer, verified the document); None for the
    # operator at the command line.
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Credit transfer: the transcript or AQF certificate that was verified.
    issuing_rto: Mapped[str | None] = mapped_column(String(300))
    document_number: Mapped[str | None] = mapped_column(String(100))
    document_date: Mapped[date | None] = mapped_column(Date)

    enrolment: Mapped[Enrolment] = relationship(back_populates="closure")
    closed_by: Mapped[User | None] = relationship()
    files: Mapped[list[ClosureFile]] = relationship(
        back_populates="closure", cascade="all, delete-orphan", order_by="ClosureFile.id"
    )


class ClosureFile(StoredFileColumns, db.Model):
    """The verified transcript or certificate of a credit transfer."""

    __tablename__ = "closure_files"

    closure_id: Mapped[int] = mapped_column(ForeignKey("enrolment_closures.id"), index=True)
    # As the closure's: None when the operator recorded it from a command.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    closure: Mapped[Closure] = relationship(back_populates="files")
