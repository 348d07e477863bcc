"""The hash chain: intact logs verify, and every way of tampering with one is reported."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import JSON, bindparam, func, select, text

from portfolio.audit.log import event_digest, publish_head, read_head, record, verify
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
    assert result.problems[0] == (
        "the log ends at event 4 but the head says 5: events at the end were removed."
    )
    assert result.problems[1].endswith(
        "audit_head.json says the log reached event 5, but it ends at event 4: events at the "
        "end were removed."
    )


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


# --- Someone who can write the database, but does not hold the audit key ---------------------


def rechain(from_seq: int, *, keyed: bool, key: str | None = None) -> None:
    """Rewrite the log's hashes from ``from_seq`` on as someone with the database would:
    plain SHA-256 (``keyed=False``), or an HMAC with a key they guessed; then the head row."""
    rows = db.session.execute(select(*AuditEvent.__table__.c).order_by(AuditEvent.seq)).all()
    previous = GENESIS_HASH
    for row in rows:
        if row.seq >= from_seq:
            event = SimpleNamespace(**{**row._asdict(), "prev_hash": previous, "keyed": keyed})
            if keyed:
                with current_app.test_request_context():
                    current_app.config["AUDIT_KEY"], real = key, current_app.config["AUDIT_KEY"]
                    digest = event_digest(event)
                    current_app.config["AUDIT_KEY"] = real
            else:
                digest = event_digest(event)
            db.session.execute(
                text(
                    "UPDATE audit_events SET prev_hash = :p, hash = :h, keyed = :k WHERE seq = :s"
                ),
                {"p": previous, "h": digest, "k": keyed, "s": row.seq},
            )
            previous = digest
        else:
            previous = row.hash
    db.session.execute(text("UPDATE audit_head SET hash = :h"), {"h": previous})
    db.session.commit()


def test_a_log_rechained_without_the_key_is_reported(logged) -> None:
    """An outcome's event changed and every hash after it recomputed with SHA-256, as the
    unkeyed chain allowed: before, this verified as intact."""
    db.session.execute(text("UPDATE audit_events SET actor_role = 'learner' WHERE seq = 3"))
    rechain(3, keyed=False)
    problems = verify(db.session).problems
    assert (
        "event 3 is not signed, though events before it are: it was written or rewritten "
        "without the audit key."
    ) in problems
    assert any("is not the one published in" in p for p in problems)


def test_a_log_rechained_with_a_guessed_key_is_reported(logged) -> None:
    db.session.execute(text("UPDATE audit_events SET actor_role = 'learner' WHERE seq = 4"))
    rechain(4, keyed=True, key="guessed")
    problems = verify(db.session).problems
    assert problems[:2] == [
        "event 4 was changed after it was written.",
        "event 5 was changed after it was written.",
    ]


def test_removing_the_last_events_and_the_head_row_with_them_is_reported(logged) -> None:
    """Deleting events at the end and setting the head row back: before, this verified."""
    db.session.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    db.session.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": logged[2].hash})
    db.session.commit()
    assert [p.split(": ", 1)[-1] for p in verify(db.session).problems] == [
        "events at the end were removed."
    ]
    assert (
        "audit_head.json says the log reached event 5, but it ends at event 3"
        in (verify(db.session).problems[0])
    )


def test_the_head_is_published_after_each_commit_and_never_goes_back(app, logged) -> None:
    path = Path(app.config["AUDIT_HEAD_FILE"])
    assert read_head(path) == (5, logged[-1].hash)
    assert path.stat().st_mode & 0o777 == 0o600
    record(db.session, actor=None, role=None, action="test.rolled_back", subject="user:1")
    db.session.rollback()
    db.session.commit()
    assert read_head(path) == (5, logged[-1].hash), "a rolled-back event is never published"
    publish_head(path, 3, logged[2].hash)  # a slower worker, committed earlier
    assert read_head(path) == (5, logged[-1].hash)


def test_checking_with_another_key_says_so(app, logged) -> None:
    app.config["AUDIT_KEY"] = "another key"
    problems = verify(db.session).problems
    assert problems[0] == (
        "No signed event matches its signature: the log is checked with another AUDIT_KEY "
        "than the one that signed it, or every event was rewritten."
    )


def test_a_log_from_before_keying_verifies_and_continues_keyed(app, logged) -> None:
    """An instance upgraded from the unkeyed chain: its events keep their SHA-256 hashes,
    new events are signed and chain onto them, and verify says which are which."""
    rechain(1, keyed=False)
    Path(app.config["AUDIT_HEAD_FILE"]).unlink()
    record(db.session, actor=None, role=None, action="test.after_upgrade", subject="user:1")
    db.session.commit()
    result = verify(db.session)
    assert result.ok, result.problems
    assert result.notes == [
        "Events 1 to 5 were written before the log was signed with the audit key: they are "
        "protected by the chain and the published head only."
    ]
