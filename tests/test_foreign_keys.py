"""Rows never refer to rows that do not exist, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portfolio.extensions import ForeignKeyViolation, db, sqlite_foreign_keys_off
from portfolio.models import AssessmentState, Enrolment


def insert_orphan(connection) -> None:
    """An enrolment of a learner and a unit release that do not exist."""
    connection.execute(
        Enrolment.__table__.insert().values(
            learner_id=999_999,
            unit_release_id=999_999,
            state=AssessmentState.DRAFT,
            activity_start=date(2026, 1, 1),
        )
    )


def test_a_row_referring_to_nothing_is_refused(app) -> None:
    db.engine.dispose()  # a new connection, as a worker opens one
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError):
            insert_orphan(connection)
        connection.rollback()


def test_turning_the_check_off_still_finds_what_was_broken(app) -> None:
    """Work done with the check off (a batch migration) is checked once at the end."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL never turns the check off; this is SQLite's pragma")
    with db.engine.connect() as connection:
        with (
            pytest.raises(ForeignKeyViolation, match="enrolments row"),
            sqlite_foreign_keys_off(connection),
        ):
            insert_orphan(connection)
            connection.commit()
        connection.execute(text("DELETE FROM enrolments"))
        connection.commit()
        # The connection goes back to the pool checking again.
        with pytest.raises(IntegrityError):
            insert_orphan(connection)
        connection.rollback()
