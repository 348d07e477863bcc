"""Audit test helpers: reading the log."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import AuditEvent


def events(action: str | None = None) -> list[AuditEvent]:
    """The log in order, or only the events of one action."""
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))
