"""Templates an assessor fills in on the spot: an observation checklist built from a unit's
criteria, and a bank of conversation questions per criterion. Kept per unit release, since
their items point at that release's criteria.

A filled template becomes a gap sign-off; the sign-off keeps the words as they were filled, so
changing or archiving a template later never changes a record made with it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.extensions import db
from portfolio.models.accounts import User
from portfolio.models.base import UTCDateTime, enum_values, utcnow
from portfolio.models.review import GapMethod
from portfolio.models.units import Target, UnitRelease


class TemplateKind(enum.StrEnum):
    OBSERVATION = "observation"
    QUESTIONS = "questions"

    @property
    def label(self) -> str:
        return {
            TemplateKind.OBSERVATION: "Observation checklist",
            TemplateKind.QUESTIONS: "Question bank",
        }[self]

    @property
    def method(self) -> GapMethod:
        """How a gap closed with this template was closed."""
        return {
            TemplateKind.OBSERVATION: GapMethod.DIRECT_OBSERVATION,
            TemplateKind.QUESTIONS: GapMethod.COMPETENCY_CONVERSATION,
        }[self]


class AssessmentTemplate(db.Model):
    """An observation checklist or a question bank for one unit release."""

    __tablename__ = "assessment_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_release_id: Mapped[int] = mapped_column(ForeignKey("unit_releases.id"), index=True)
    kind: Mapped[TemplateKind] = mapped_column(
        Enum(TemplateKind, native_enum=False, length=16, values_callable=enum_values)
    )
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No longer offered to fill in; the records made with it keep their own copy.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version: Mapped[int] = mapped_column(Integer, server_default="1")

    unit_release: Mapped[UnitRelease] = relationship()
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])
    items: Mapped[list[TemplateItem]] = relationship(
        back_populates="template",
        cascade="all, delete-orphan",
        order_by="TemplateItem.position",
    )

    __mapper_args__: dict[str, Any] = {"version_id_col": lock_version}


class TemplateItem(db.Model):
    """One thing to watch for, or one question to ask, about one criterion."""

    __tablename__ = "template_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("assessment_templates.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    template: Mapped[AssessmentTemplate] = relationship(back_populates="items")
    target: Mapped[Target] = relationship()
