"""Typed SQLAlchemy models, one module per area of the domain."""

from portfolio.models.units import Element, Framework, Target, TargetKind, Unit, UnitRelease

__all__ = ["Element", "Framework", "Target", "TargetKind", "Unit", "UnitRelease"]
