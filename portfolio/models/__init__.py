"""Typed SQLAlchemy models, one module per area of the domain."""

from portfolio.models.accounts import Role, User, UserRole
from portfolio.models.assessment import AssessmentState, Enrolment, Submission
from portfolio.models.evidence import (
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceType,
    EvidenceVersion,
)
from portfolio.models.units import Element, Framework, Target, TargetKind, Unit, UnitRelease

__all__ = [
    "AssessmentState",
    "Element",
    "Enrolment",
    "EvidenceFile",
    "EvidenceItem",
    "EvidenceMapping",
    "EvidenceType",
    "EvidenceVersion",
    "Framework",
    "Role",
    "Submission",
    "Target",
    "TargetKind",
    "Unit",
    "UnitRelease",
    "User",
    "UserRole",
]
