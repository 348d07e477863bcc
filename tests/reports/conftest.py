"""Fixtures of the dashboards: decided enrolments (each by an assessor of its own)."""

from __future__ import annotations

from tests.exports.conftest import admin, decided  # noqa: F401  (fixtures)
