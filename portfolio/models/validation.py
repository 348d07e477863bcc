"""Validation of assessment (Standards for RTOs 2025, 1.5): a plan per unit with its risk, a
sample of decided enrolments drawn by a seeded, reproducible draw, validators' findings on each
sampled enrolment and on the assessment tool, and the actions the findings lead to.

The draw is kept whole: the seed, the population as it was (each enrolment with its stratum)
and the sample, so anyone can draw again and get the same enrolments.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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
from portfolio.models.assessment import Enrolment
from portfolio.models.base import UTCDateTime, enum_values, utcnow
from portfolio.models.units import Target, Unit


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        return {RiskLevel.LOW: "Low", RiskLevel.MEDIUM: "Medium", RiskLevel.HIGH: "High"}[self]


def _risk_column() -> Mapped[RiskLevel]:
    return mapped_column(Enum(RiskLevel, native_enum=False, length=8, values_callable=enum_values))


class RiskReason(db.Model):
    """One reason a unit's validation risk is rated as it is: a list the RTO keeps."""

    __tablename__ = "validation_risk_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200), unique=True)
    #: A reason no longer offered; plans that chose it keep its words.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ValidationPlan(db.Model):
    """A unit's validation plan: its risk rating and the reasons for it."""

    __tablename__ = "validation_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), unique=True)
    risk: Mapped[RiskLevel] = _risk_column()
    #: The reasons chosen, in their words at the time.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")

    unit: Mapped[Unit] = relationship()
    updated_by: Mapped[User | None] = relationship()
    validations: Mapped[list[Validation]] = relationship(
        back_populates="plan", order_by="Validation.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class Validation(db.Model):
    """One validation of a unit: the period, the draw, the validators and the tool review."""

    __tablename__ = "validations"
    # A period of a unit is sampled once (a second click of Draw, or a second try, is refused).
    __table_args__ = (UniqueConstraint("plan_id", "period_from", "period_to"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("validation_plans.id"), index=True)
    #: The plan's risk and reasons when the sample was drawn.
    risk: Mapped[RiskLevel] = _risk_column()
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    seed: Mapped[str] = mapped_column(String(64))
    #: The sample size rule as shown when drawing, in words.
    rule: Mapped[str] = mapped_column(Text)
    #: The population as drawn from: [{"enrolment_id", "assessor_id", "result"}, ...].
    population: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The review of the assessment tool: consistent with the unit, sufficient, valid.
    tool_consistent: Mapped[bool | None] = mapped_column(Boolean)
    tool_sufficient: Mapped[bool | None] = mapped_column(Boolean)
    tool_valid: Mapped[bool | None] = mapped_column(Boolean)
    tool_note: Mapped[str] = mapped_column(Text, default="")
    tool_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tool_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")

    plan: Mapped[ValidationPlan] = relationship(back_populates="validations")
    drawn_by: Mapped[User] = relationship(foreign_keys=[drawn_by_id])
    tool_reviewed_by: Mapped[User | None] = relationship(foreign_keys=[tool_reviewed_by_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    validators: Mapped[list[ValidationValidator]] = relationship(
        back_populates="validation", cascade="all, delete-orphan", order_by="ValidationValidator.id"
    )
    samples: Mapped[list[ValidationSample]] = relationship(
        back_populates="validation",
        cascade="all, delete-orphan",
        order_by="ValidationSample.position",
    )
    actions: Mapped[list[ValidationAction]] = relationship(
        back_populates="validation", cascade="all, delete-orphan", order_by="ValidationAction.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class ValidationValidator(db.Model):
    """A validator of one validation, with whether the register showed a training and
    assessment credential on the day the sample was drawn."""

    __tablename__ = "validation_validators"
    __table_args__ = (UniqueConstraint("validation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(ForeignKey("validations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    holds_tae: Mapped[bool] = mapped_column(Boolean)

    validation: Mapped[Validation] = relationship(back_populates="validators")
    user: Mapped[User] = relationship()


class ValidationSample(db.Model):
    """One enrolment drawn into a validation's sample."""

    __tablename__ = "validation_samples"
    __table_args__ = (UniqueConstraint("validation_id", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(ForeignKey("validations.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    #: "<assessor id>/<outcome>": the stratum it was drawn from.
    stratum: Mapped[str] = mapped_column(String(64))

    validation: Mapped[Validation] = relationship(back_populates="samples")
    enrolment: Mapped[Enrolment] = relationship()
    findings: Mapped[list[ValidationFinding]] = relationship(
        back_populates="sample", cascade="all, delete-orphan", order_by="ValidationFinding.id"
    )


class ValidationFinding(db.Model):
    """A validator's finding on one criterion of a sampled enrolment: whether they agree with
    the assessor's judgement, with a note (needed when they do not)."""

    __tablename__ = "validation_findings"
    __table_args__ = (UniqueConstraint("sample_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("validation_samples.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    validator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sample: Mapped[ValidationSample] = relationship(back_populates="findings")
    target: Mapped[Target] = relationship()
    validator: Mapped[User] = relationship()


class ValidationAction(db.Model):
    """What the findings lead to: what is to change, who owns it, by when; closed with what
    was changed."""

    __tablename__ = "validation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    validation_id: Mapped[int] = mapped_column(ForeignKey("validations.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed: Mapped[str] = mapped_column(Text, default="")

    validation: Mapped[Validation] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
