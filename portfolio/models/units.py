"""Units of competency as loaded from ``units/*.yaml``: releases, elements and targets."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from portfolio.extensions import db
from portfolio.models.base import UTCDateTime, enum_values, utcnow


class Framework(enum.StrEnum):
    TRAINING_PACKAGE = "training_package"
    NOS = "nos"

    @property
    def label(self) -> str:
        return {
            Framework.TRAINING_PACKAGE: "AU training package",
            Framework.NOS: "UK National Occupational Standard",
        }[self]


class TargetKind(enum.StrEnum):
    """What a learner can map evidence to."""

    PERFORMANCE_CRITERION = "pc"
    ELEMENT = "element"
    PERFORMANCE_EVIDENCE = "pe"
    KNOWLEDGE_EVIDENCE = "ke"

    @property
    def label(self) -> str:
        return {
            TargetKind.PERFORMANCE_CRITERION: "Performance criterion",
            TargetKind.ELEMENT: "Element",
            TargetKind.PERFORMANCE_EVIDENCE: "Performance evidence",
            TargetKind.KNOWLEDGE_EVIDENCE: "Knowledge evidence",
        }[self]


class Unit(db.Model):
    """A unit of competency by code; its content lives in its releases."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    releases: Mapped[list[UnitRelease]] = relationship(
        back_populates="unit", order_by="UnitRelease.release"
    )

    @property
    def title(self) -> str:
        """The title of its latest release (a unit keeps its code across releases)."""
        return self.releases[-1].title if self.releases else ""

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class UnitRelease(db.Model):
    """One release of a unit, exactly as its file gave it. Never rewritten once loaded."""

    __tablename__ = "unit_releases"
    __table_args__ = (UniqueConstraint("unit_id", "release"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    release: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    framework: Mapped[Framework] = mapped_column(
        Enum(Framework, native_enum=False, length=32, values_callable=enum_values)
    )
    application: Mapped[list[str]] = mapped_column(JSON, default=list)
    band: Mapped[str | None] = mapped_column(String(16))
    unit_weight: Mapped[int | None] = mapped_column(Integer)
    competency_field: Mapped[str | None] = mapped_column(String(300))
    sector: Mapped[str | None] = mapped_column(String(300))
    criteria_intro: Mapped[str | None] = mapped_column(Text)
    performance_evidence_intro: Mapped[str | None] = mapped_column(Text)
    performance_evidence_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    knowledge_evidence_intro: Mapped[str | None] = mapped_column(Text)
    knowledge_evidence_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Sections shown and exported but not mapped to: kept in the file's own structure.
    assessment_conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    foundation_skills: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    range_statement: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_file: Mapped[str] = mapped_column(String(300))
    content_sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="releases")
    elements: Mapped[list[Element]] = relationship(
        back_populates="unit_release", order_by="Element.position"
    )
    targets: Mapped[list[Target]] = relationship(
        back_populates="unit_release", order_by="Target.position"
    )

    @property
    def code(self) -> str:
        return self.unit.code

    def __repr__(self) -> str:
        return f"<UnitRelease {self.unit.code} r{self.release}>"


class Element(db.Model):
    """An element of a unit: an essential outcome, with its performance criteria."""

    __tablename__ = "elements"
    __table_args__ = (UniqueConstraint("unit_release_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_release_id: Mapped[int] = mapped_column(ForeignKey("unit_releases.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)

    unit_release: Mapped[UnitRelease] = relationship(back_populates="elements")
    targets: Mapped[list[Target]] = relationship(
        back_populates="element", order_by="Target.position"
    )


class Target(db.Model):
    """Something a learner maps evidence to and an assessor judges.

    Performance criteria, performance and knowledge evidence items (nested ones point at their
    parent), and elements that the published text gives without criteria.
    """

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("unit_release_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_release_id: Mapped[int] = mapped_column(ForeignKey("unit_releases.id"), index=True)
    kind: Mapped[TargetKind] = mapped_column(
        Enum(TargetKind, native_enum=False, length=16, values_callable=enum_values)
    )
    # "pc-2.3", "el-1", "pe-4", "ke-6.2": unique in a release, used in links.
    anchor: Mapped[str] = mapped_column(String(64))
    # What people call it: "2.3", "E1", "PE 4", "KE 6.2".
    ref: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    element_id: Mapped[int | None] = mapped_column(ForeignKey("elements.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer)
    # A line that leads a sub-list ("methods of ...:") is covered through its sub-items;
    # evidence is mapped to those.
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    unit_release: Mapped[UnitRelease] = relationship(back_populates="targets")
    element: Mapped[Element | None] = relationship(back_populates="targets")
    parent: Mapped[Target | None] = relationship(remote_side=[id])

    @hybrid_property
    def judged_alone(self) -> bool:
        """Judged, covered and counted on its own: every target but a group heading (whose
        sub-items are). In a query, ``Target.judged_alone`` is the same rule in SQL."""
        return not self.is_group

    @judged_alone.inplace.expression
    @classmethod
    def _judged_alone_in_sql(cls) -> ColumnElement[bool]:
        return cls.is_group.is_(False)

    def __repr__(self) -> str:
        return f"<Target {self.anchor}>"
