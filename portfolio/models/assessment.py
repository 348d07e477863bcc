"""Enrolments: a learner in one release of a unit, with an assessor and a workflow state."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import UTCDateTime, enum_values, utcnow
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Bumped by every UPDATE of the row: of two requests that read the same enrolment and both
    # change it (two tabs submitting, two new items numbered at once), the second is refused.
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assessor: Mapped[User | None] = relationship(foreign_keys=[assessor_id])
    unit_release: Mapped[UnitRelease] = relationship()
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="enrolment", order_by="Submission.round"
    )

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
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    declaration: Mapped[str] = mapped_column(Text)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Returned to the learner: when, by whom, and the assessor's overall feedback.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_feedback: Mapped[str | None] = mapped_column(Text)

    enrolment: Mapped[Enrolment] = relationship(back_populates="submissions")
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])
    gap_feedback: Mapped[list[GapFeedback]] = relationship(
        back_populates="submission", order_by="GapFeedback.id"
    )
