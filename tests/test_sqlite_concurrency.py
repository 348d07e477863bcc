"""Several people saving at once: no save fails with "database is locked", nothing is lost.

Each writer is a process of its own with its own app and engine, as a gunicorn worker is. The
writers run on the suite's database, so on PostgreSQL they check the audit chain's locking too;
the tests that are about SQLite's own locking are skipped there.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.audit.log import record, verify
from portfolio.extensions import db
from portfolio.models import AuditEvent, AuditHead, User

WRITERS = 8
TRANSACTIONS = 50


def _writer(url: str, instance: str, number: int, start: object, results: object) -> None:
    """Create TRANSACTIONS accounts, one transaction each, through the service the admin page
    uses: it reads (is the email taken?), then writes the account and its audit event."""
    from portfolio import create_app
    from portfolio.auth.services import create_user
    from portfolio.models import Role

    errors: list[str] = []
    try:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "AUDIT_KEY": "test",
                "SQLALCHEMY_DATABASE_URI": url,
                "EVIDENCE_DIR": str(Path(instance) / "evidence"),
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        with app.app_context():
            start.wait()  # all writers begin together
            for n in range(TRANSACTIONS):
                try:
                    create_user(
                        db.session,
                        actor=None,
                        name=f"Writer {number} person {n}",
                        email=f"w{number}p{n}@example.org",
                        roles={Role.LEARNER},
                        password="correct horse battery",
                    )
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    errors.append(f"{type(error).__name__}: {error}".splitlines()[0])
            db.session.remove()
            db.engine.dispose()
    except Exception:
        errors.append(traceback.format_exc())
    results.put((number, errors))


def test_concurrent_writers_all_succeed_and_the_audit_chain_holds(app: Flask) -> None:
    """8 processes each create 50 accounts at once: every one is saved, with its audit event,
    and the audit chain has no gap and no fork."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    results = context.Queue()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    writers = [
        context.Process(target=_writer, args=(url, app.instance_path, n, start, results))
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    reports = {}
    try:
        for _ in writers:
            number, errors = results.get(timeout=300)
            reports[number] = errors
    except queue.Empty:
        pytest.fail(f"only writers {sorted(reports)} finished")
    finally:
        for writer in writers:
            writer.join(timeout=30)
            if writer.is_alive():
                writer.kill()
                writer.join()
        results.close()
        results.join_thread()

    failures = [error for errors in reports.values() for error in errors]
    assert failures == []
    total = WRITERS * TRANSACTIONS
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == total
    seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, total + 1))
    created = db.session.scalars(
        select(AuditEvent.subject).where(AuditEvent.action == "user.created")
    ).all()
    user_ids = db.session.scalars(select(User.id)).all()
    assert sorted(created) == sorted(f"user:{i}" for i in user_ids)
    verification = verify(db.session)
    assert verification.ok, verification.problems
    assert verification.checked == total


def _sqlite_only(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own file locking; PostgreSQL locks rows")


def test_a_transaction_that_read_before_another_saved_can_still_save(app: Flask) -> None:
    """Two requests read, one saves, then the other saves: both are kept.

    With a transaction begun at the first read, the second save fails with "database is
    locked" at once (its snapshot is older than the first save); with every transaction
    taking the write lock at its first read, the first save waits on the second's read.
    """
    _sqlite_only(app)
    with Session(db.engine) as first, Session(db.engine) as second:
        first.scalar(select(AuditHead.seq))
        second.scalar(select(AuditHead.seq))
        record(second, actor=None, role=None, action="test.second", subject="second")
        second.commit()
        record(first, actor=None, role=None, action="test.first", subject="first")
        first.commit()
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["test.second", "test.first"]
    assert verify(db.session).ok


def test_a_long_read_does_not_hold_up_a_save(app: Flask) -> None:
    """An export reading row after row does not stop other people saving meanwhile.

    In SQLite's default journal mode a reader keeps writers from committing until it is done.
    """
    _sqlite_only(app)
    for n in range(3):
        record(db.session, actor=None, role=None, action="test.before", subject=str(n))
    db.session.commit()
    with db.engine.connect() as reader:
        rows = reader.execute(select(AuditEvent.seq).order_by(AuditEvent.seq))
        assert rows.fetchone() == (1,)  # the read is under way, its statement still open
        with Session(db.engine) as writer:
            record(writer, actor=None, role=None, action="test.during", subject="during")
            writer.commit()
        assert [row.seq for row in rows] == [2, 3]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 4
