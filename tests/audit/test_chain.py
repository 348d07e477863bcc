"""The hash chain: intact logs verify, and every way of tampering with one is reported."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from sqlalchemy import JSON, bindparam, func, select, text

from portfolio.audit.log import record, verify
from portfolio.extensions import db
from portfolio.models import AuditEvent, AuditHead, Role
from portfolio.models.audit import GENESIS_HASH, AuditLogIsAppendOnly
from tests.audit.conftest import events


@pytest.fixture
def logged(app, make_user) -> list[AuditEvent]:
    """Five committed events: an account created by the system, then four by an admin."""
    admin = make_user("admin")
    for n in range(4):
        record(
            db.session,
            actor=admin,
            role=Role.ADMIN,
            action="test.changed",
            subject=f"user:{admin.id}",
            before={"n": n},
            after={"n": n + 1},
        )
    db.session.commit()
    return events()


def head() -> tuple[int, str]:
    return tuple(db.session.execute(select(AuditHead.seq, AuditHead.hash)).one())


def test_an_empty_log_verifies(app) -> None:
    """A fresh database starts the chain at the genesis hash and has nothing to check."""
    result = verify(db.session)
    assert result.ok and result.checked == 0
    assert head() == (0, GENESIS_HASH)


def test_an_untouched_log_verifies(logged) -> None:
    """Every event follows the one before it and the head names the last."""
    assert [e.seq for e in logged] == [1, 2, 3, 4, 5]
    assert logged[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(logged))
    result = verify(db.session)
    assert result.ok, result.problems
    assert result.checked == 5
    assert head() == (5, logged[-1].hash)


def test_changing_an_events_values_in_sql_is_reported(logged) -> None:
    """An UPDATE behind the application's back breaks that event's hash."""
    db.session.execute(
        text('UPDATE audit_events SET "after" = :after WHERE seq = 3').bindparams(
            bindparam("after", type_=JSON)
        ),
        {"after": {"n": 99}},
    )
    db.session.commit()
    db.session.expire_all()
    assert events()[2].after == {"n": 99}
    result = verify(db.session)
    assert result.problems == ["event 3 was changed after it was written."]


def test_changing_who_did_it_is_reported(logged) -> None:
    """Every field is covered by the hash, not only the values."""
    db.session.execute(text("UPDATE audit_events SET actor_role = 'learner' WHERE seq = 2"))
    db.session.commit()
    assert verify(db.session).problems == ["event 2 was changed after it was written."]


def test_deleting_an_event_in_the_middle_is_reported(logged) -> None:
    """A gap in the numbers and a broken link both name where the event went missing."""
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    db.session.commit()
    result = verify(db.session)
    assert not result.ok
    assert result.checked == 4
    assert "event 3 is missing (the next one is 4)." in result.problems
    assert any(p.startswith("event 4 does not follow") for p in result.problems)


def test_deleting_the_last_event_is_reported(logged) -> None:
    """The chain up to the removed event is intact, but the head still names it."""
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    db.session.commit()
    result = verify(db.session)
    assert result.problems == [
        "the log ends at event 4 but the head says 5: events at the end were removed."
    ]


def test_rehashing_a_changed_event_still_breaks_the_next_link(logged) -> None:
    """Whoever rewrites an event and its hash is caught by the event after it."""
    db.session.execute(text("UPDATE audit_events SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    db.session.commit()
    problems = verify(db.session).problems
    assert "event 2 was changed after it was written." in problems
    assert any(p.startswith("event 3 does not follow") for p in problems)


def test_the_orm_refuses_to_change_an_event(logged) -> None:
    """Changing an event through the models raises before anything reaches the database."""
    event = logged[1]
    event.after = {"n": 42}
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert verify(db.session).ok


def test_the_orm_refuses_to_delete_an_event(logged) -> None:
    """Deleting an event through the models raises, and the event stays."""
    db.session.delete(logged[1])
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 5
    assert verify(db.session).ok


def test_an_event_rolls_back_with_its_transaction(logged) -> None:
    """A change that is rolled back leaves no event behind, and the head where it was."""
    before = head()
    record(db.session, actor=None, role=None, action="test.rolled_back", subject="user:1")
    assert head()[0] == before[0] + 1  # written in the transaction...
    db.session.rollback()
    assert head() == before  # ...and gone with it
    assert events("test.rolled_back") == []
    assert verify(db.session).ok


def test_values_are_stored_as_json_would_keep_them(app) -> None:
    """Enums, dates and sets become plain JSON, so the hash reads back the same."""
    from datetime import date

    event = record(
        db.session,
        actor=None,
        role=None,
        action="test.values",
        subject="user:1",
        after={"role": Role.ASSESSOR, "on": date(2026, 3, 1), "refs": {"2.1", "1.1"}},
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.id).after == {
        "role": "assessor",
        "on": "2026-03-01",
        "refs": ["1.1", "2.1"],
    }
    assert event.actor_role == "system"
    assert json.dumps(event.after)  # nothing left that JSON cannot hold
    assert verify(db.session).ok
