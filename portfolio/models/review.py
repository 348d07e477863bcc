"""The assessor's work on an enrolment: evidence checks, judgements, gap sign-offs, outcome.

Until the outcome is recorded a row may be changed in place (``lock_version`` refuses the
second of two concurrent saves). After it, the enrolment is locked: a correction is a new row
that ``replaces`` the old one, with who, when and why, and both stay readable.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
    exists,
    false,
)
from sqlalchemy.orm import Mapped, aliased, declared_attr, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.assessment import Enrolment, Submission
from portfolio.models.base import StoredFileColumns, UTCDateTime, enum_values, utcnow
from portfolio.models.evidence import EvidenceVersion
from portfolio.models.units import Target


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=enum_values)


class EvidenceRule(enum.StrEnum):
    """The four rules of evidence."""

    VALID = "valid"
    SUFFICIENT = "sufficient"
    AUTHENTIC = "authentic"
    CURRENT = "current"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def question(self) -> str:
        return {
            EvidenceRule.VALID: "Does it show what the criteria ask for?",
            EvidenceRule.SUFFICIENT: "Is there enough of it, over time and contexts?",
            EvidenceRule.AUTHENTIC: "Is it the learner's own work?",
            EvidenceRule.CURRENT: "Does it show current skills and knowledge?",
        }[self]


class Finding(enum.StrEnum):
    SATISFACTORY = "satisfactory"
    NOT_YET_SATISFACTORY = "not_yet_satisfactory"

    @property
    def label(self) -> str:
        return "Satisfactory" if self is Finding.SATISFACTORY else "Not yet satisfactory"


class MappingSource(enum.StrEnum):
    LEARNER = "learner"
    ASSESSOR = "assessor"


class GapMethod(enum.StrEnum):
    """How an assessor closed a gap the portfolio left."""

    COMPETENCY_CONVERSATION = "competency_conversation"
    DIRECT_OBSERVATION = "direct_observation"
    THIRD_PARTY_REPORT = "third_party_report"
    FURTHER_EVIDENCE = "further_evidence"

    @property
    def label(self) -> str:
        return {
            GapMethod.COMPETENCY_CONVERSATION: "Competency conversation",
            GapMethod.DIRECT_OBSERVATION: "Direct observation",
            GapMethod.THIRD_PARTY_REPORT: "Third-party report",
            GapMethod.FURTHER_EVIDENCE: "Further evidence supplied",
        }[self]


class OutcomeResult(enum.StrEnum):
    COMPETENT = "competent"
    NOT_YET_COMPETENT = "not_yet_competent"
    RPL_GRANTED = "rpl_granted"
    RPL_NOT_GRANTED = "rpl_not_granted"

    @property
    def label(self) -> str:
        return {
            OutcomeResult.COMPETENT: "Competent",
            OutcomeResult.NOT_YET_COMPETENT: "Not yet competent",
            OutcomeResult.RPL_GRANTED: "RPL granted",
            OutcomeResult.RPL_NOT_GRANTED: "RPL not granted",
        }[self]

    @property
    def avetmiss_code(self) -> str:
        """The AVETMISS outcome identifier a student management system expects."""
        return {
            OutcomeResult.COMPETENT: "20",
            OutcomeResult.NOT_YET_COMPETENT: "30",
            OutcomeResult.RPL_GRANTED: "51",
            OutcomeResult.RPL_NOT_GRANTED: "52",
        }[self]

    @property
    def is_achieved(self) -> bool:
        return self in (OutcomeResult.COMPETENT, OutcomeResult.RPL_GRANTED)


class AssessorEntry:
    """Columns every assessor record has: the enrolment, who, when, and correction links."""

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")
    # The attempt it was made in (the enrolment's attempt at the time).
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A correction after the outcome: the entry it replaces and why.
    correction_reason: Mapped[str | None] = mapped_column(Text)

    @declared_attr
    def replaces_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"))

    @declared_attr
    def assessor(cls) -> Mapped[User]:
        return relationship(User, foreign_keys=[cls.assessor_id])

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.lock_version}


class Countersigned:
    """A judgement, sign-off or outcome made by someone working under the direction of a
    credentialed assessor (Standards for RTOs 2025, 3.3): it stands only once a credentialed
    assessor countersigns it, a step of its own with who and when."""

    countersign_needed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def countersigned_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def countersigned_by(cls) -> Mapped[User | None]:
        return relationship(User, foreign_keys=[cls.countersigned_by_id])

    @property
    def awaiting_countersign(self) -> bool:
        return bool(self.countersign_needed) and self.countersigned_at is None


class EvidenceCheck(AssessorEntry, db.Model):
    """One rule of evidence for one evidence version: confirmed, or flagged with a note."""

    __tablename__ = "evidence_checks"

    version_id: Mapped[int] = mapped_column(ForeignKey("evidence_versions.id"), index=True)
    rule: Mapped[EvidenceRule] = mapped_column(_enum(EvidenceRule, 16))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    # A flag the assessor decided to go past, and why: the flag stands, the decisions that lean
    # on the item may then be made (the pack and the audit log show both).
    override_reason: Mapped[str | None] = mapped_column(Text)

    version: Mapped[EvidenceVersion] = relationship()

    @property
    def blocks(self) -> bool:
        """A flag not yet resolved: decisions that lean on the item wait for it."""
        return not self.confirmed and not self.override_reason


class Judgement(AssessorEntry, Countersigned, db.Model):
    """The assessor's finding on one target, with a comment."""

    __tablename__ = "judgements"

    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    finding: Mapped[Finding] = mapped_column(_enum(Finding))
    comment: Mapped[str] = mapped_column(Text, default="")

    target: Mapped[Target] = relationship()
    submission: Mapped[Submission] = relationship()


class MappingDecision(AssessorEntry, db.Model):
    """The assessor accepting or rejecting a learner's mapping, or mapping an item themselves."""

    __tablename__ = "mapping_decisions"

    version_id: Mapped[int] = mapped_column(ForeignKey("evidence_versions.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    source: Mapped[MappingSource] = mapped_column(_enum(MappingSource, 16))
    accepted: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[EvidenceVersion] = relationship()
    target: Mapped[Target] = relationship()


class GapSignoff(AssessorEntry, Countersigned, db.Model):
    """A gap closed by the assessor: the method, when, notes, and any evidence they gathered."""

    __tablename__ = "gap_signoffs"
    # Coverage (dashboard, review queue) leaves out sign-offs a correction replaced.
    __table_args__ = (Index("ix_gap_signoffs_replaces_id", "replaces_id"),)

    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"), index=True)
    method: Mapped[GapMethod] = mapped_column(_enum(GapMethod))
    held_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # A competency conversation: [{"question": ..., "answer": ...}, ...] in the order asked.
    questions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # One conversation or observation recorded against several criteria: a row per criterion
    # (each judged and logged on its own), the same key on each. Corrected as one.
    record_key: Mapped[str | None] = mapped_column(String(32), index=True)
    # An observation checklist as it was filled in: {"title": ..., "items": [{"ref": "2.3",
    # "item": what to watch for, "seen": bool, "note": ...}, ...]}; the template may change later.
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    target: Mapped[Target] = relationship()
    files: Mapped[list[SignoffFile]] = relationship(
        back_populates="signoff", cascade="all, delete-orphan", order_by="SignoffFile.id"
    )


class SignoffFile(StoredFileColumns, db.Model):
    """A file the assessor gathered to close a gap (an observation checklist, a recording)."""

    __tablename__ = "signoff_files"

    signoff_id: Mapped[int] = mapped_column(ForeignKey("gap_signoffs.id"), index=True)

    signoff: Mapped[GapSignoff] = relationship(back_populates="files")


class GapFeedback(db.Model):
    """What the learner must add for one target when a submission is returned to them."""

    __tablename__ = "gap_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    feedback: Mapped[str] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="gap_feedback")
    target: Mapped[Target] = relationship()


class UnitOutcome(AssessorEntry, Countersigned, db.Model):
    """The unit's result with the assessor's dated declaration."""

    __tablename__ = "unit_outcomes"
    # The outcomes register and the audit bundle: current outcomes decided in a date range;
    # an assessor's dashboard and queue: what they decided this month.
    __table_args__ = (
        Index("ix_unit_outcomes_decided_on", "decided_on"),
        Index("ix_unit_outcomes_replaces_id", "replaces_id"),
        Index("ix_unit_outcomes_assessor_id_decided_on", "assessor_id", "decided_on"),
    )

    result: Mapped[OutcomeResult] = mapped_column(_enum(OutcomeResult))
    declaration: Mapped[str] = mapped_column(Text)
    #: The assessor's drawn signature under it, where the RTO asks for one.
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_on: Mapped[date] = mapped_column(Date)

    enrolment: Mapped[Enrolment] = relationship()


__all__ = [
    "AssessorEntry",
    "Countersigned",
    "EvidenceCheck",
    "EvidenceRule",
    "Finding",
    "GapFeedback",
    "GapMethod",
    "GapSignoff",
    "Judgement",
    "MappingDecision",
    "MappingSource",
    "OutcomeResult",
    "SignoffFile",
    "UnitOutcome",
]


E = TypeVar("E", bound=AssessorEntry)


def not_replaced(model: type[AssessorEntry]) -> ColumnElement[bool]:
    """In SQL, what ``current_entries`` keeps: an entry no correction replaced (looked up by
    the ``replaces_id`` index, the entry's own corrections only)."""
    later = aliased(model)
    return ~exists().where(later.replaces_id == model.id)


def current_entries(rows: Iterable[E]) -> list[E]:
    """The entries no correction has replaced."""
    rows = list(rows)
    replaced = {row.replaces_id for row in rows if row.replaces_id is not None}
    return [row for row in rows if row.id not in replaced]


def standing_by_target(rows: Iterable[E]) -> dict[int, E]:
    """Each target's entry that stands, from ``rows`` in the order recorded: one no correction
    replaced, and the latest of those (a later attempt's judgement of a criterion stands)."""
    return {row.target_id: row for row in current_entries(rows)}


def standing_outcomes(
    rows: Iterable[UnitOutcome], attempts: Mapping[int, int]
) -> dict[int, UnitOutcome]:
    """Each enrolment's outcome that stands, from ``rows`` in the order recorded (``attempts``:
    the attempt each enrolment is on): the latest of its attempt's outcomes that no correction
    replaced. An earlier attempt's outcome does not stand for a later attempt."""
    return {
        row.enrolment_id: row
        for row in current_entries(rows)
        if row.attempt == attempts.get(row.enrolment_id)
    }


def outcome_stands() -> ColumnElement[bool]:
    """In SQL, joining outcomes to enrolments, what ``standing_outcomes`` keeps: the
    enrolment's outcome of the attempt it is on that no correction replaced."""
    return and_(
        UnitOutcome.enrolment_id == Enrolment.id,
        UnitOutcome.attempt == Enrolment.attempt,
        not_replaced(UnitOutcome),
    )
