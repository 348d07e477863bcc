"""Evidence: items with versions, their files and their mappings to a unit's targets."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.assessment import Enrolment, Submission
from portfolio.models.base import StoredFileColumns, UTCDateTime, enum_values, utcnow
from portfolio.models.units import Target


class EvidenceType(enum.StrEnum):
    PLAN = "plan"
    COMPLAINT_LOG = "complaint_log"
    REPORT = "report"
    POLICY_PROCEDURE = "policy_procedure"
    MEETING_MINUTES = "meeting_minutes"
    FEEDBACK_SURVEY = "feedback_survey"
    CORRESPONDENCE = "correspondence"
    PHOTO = "photo"
    VIDEO = "video"
    WRITTEN_ANSWER = "written_answer"
    THIRD_PARTY_REPORT = "third_party_report"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            EvidenceType.PLAN: "Plan",
            EvidenceType.COMPLAINT_LOG: "Complaint log",
            EvidenceType.REPORT: "Report",
            EvidenceType.POLICY_PROCEDURE: "Policy or procedure",
            EvidenceType.MEETING_MINUTES: "Meeting minutes",
            EvidenceType.FEEDBACK_SURVEY: "Customer feedback or survey",
            EvidenceType.CORRESPONDENCE: "Email or correspondence",
            EvidenceType.PHOTO: "Photo",
            EvidenceType.VIDEO: "Video",
            EvidenceType.WRITTEN_ANSWER: "Written answer",
            EvidenceType.THIRD_PARTY_REPORT: "Third-party report",
            EvidenceType.OTHER: "Other",
        }[self]


class EvidenceItem(db.Model):
    """A piece of evidence in one enrolment, known by its reference (E1, E2, ...)."""

    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The newest version; older ones stay readable once they were submitted.
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_versions.id", use_alter=True)
    )

    enrolment: Mapped[Enrolment] = relationship()
    versions: Mapped[list[EvidenceVersion]] = relationship(
        back_populates="item",
        order_by="EvidenceVersion.version",
        foreign_keys="EvidenceVersion.item_id",
    )
    current_version: Mapped[EvidenceVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    @property
    def reference(self) -> str:
        return f"E{self.number}"


class EvidenceVersion(db.Model):
    """What an item said at one time. A submitted version is frozen: changes make a new one."""

    __tablename__ = "evidence_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    evidence_type: Mapped[EvidenceType] = mapped_column(
        Enum(EvidenceType, native_enum=False, length=32, values_callable=enum_values)
    )
    work_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Set when the version is handed in; from then on it is never changed.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)

    item: Mapped[EvidenceItem] = relationship(back_populates="versions", foreign_keys=[item_id])
    created_by: Mapped[User] = relationship()
    submission: Mapped[Submission | None] = relationship()
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="version", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )
    mappings: Mapped[list[EvidenceMapping]] = relationship(
        back_populates="version", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        return self.submission_id is not None


class EvidenceFile(StoredFileColumns, db.Model):
    """A stored file of an evidence version."""

    __tablename__ = "evidence_files"

    version_id: Mapped[int] = mapped_column(ForeignKey("evidence_versions.id"), index=True)

    version: Mapped[EvidenceVersion] = relationship(back_populates="files")


class EvidenceMapping(db.Model):
    """The learner's claim that a version shows a target, with a line on how."""

    __tablename__ = "evidence_mappings"
    __table_args__ = (UniqueConstraint("version_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("evidence_versions.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version: Mapped[EvidenceVersion] = relationship(back_populates="mappings")
    target: Mapped[Target] = relationship()


class PendingUpload(db.Model):
    """A file stored ahead of the form that will claim it (drag and drop with progress).

    It counts against the learner's allowance until claimed (the row is then deleted) or
    swept away, with its file if no record uses it, after the upload token's lifetime.
    """

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
