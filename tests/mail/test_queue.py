"""Email on a real job queue (RQ on Redis): a refused email is tried again by the worker and
sent once the server takes it; one that keeps failing is left failed for an admin."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from portfolio import queue
from portfolio.extensions import db
from portfolio.models import Mail, MailState
from tests.mail.test_outbox import write_notice
from tests.smtpserver import Inbox


@pytest.fixture
def queued(app: Flask, smtp: Inbox, redis_url: str, monkeypatch) -> Inbox:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    app.config.update(QUEUE_URL=redis_url, JOBS_SYNCHRONOUS=False)
    monkeypatch.setattr(queue, "RETRY_PAUSES", [0, 0])  # tried again at once, for the test
    return smtp


def test_a_refused_email_is_tried_again_by_the_worker_then_sent(
    app, queued: Inbox, make_user
) -> None:
    learner = make_user("learner", email="later@example.org")
    queued.refuse.add("later@example.org")
    write_notice(learner)
    assert db.session.scalar(select(Mail)).state is MailState.QUEUED  # waiting for a worker

    queue.work(app, burst=True, max_jobs=1)
    db.session.expire_all()
    first = db.session.scalar(select(Mail))
    assert (first.state, first.attempts) == (MailState.QUEUED, 1) and "550" in first.error

    queued.refuse.clear()
    queue.work(app, burst=True)
    db.session.expire_all()
    sent = db.session.scalar(select(Mail))
    assert (sent.state, sent.attempts, sent.error) == (MailState.SENT, 2, "")
    assert len(queued.to("later@example.org")) == 1


def test_an_email_that_keeps_failing_is_left_failed(app, queued: Inbox, make_user) -> None:
    learner = make_user("learner", email="never@example.org")
    queued.refuse.add("never@example.org")
    write_notice(learner)
    queue.work(app, burst=True)
    db.session.expire_all()
    mail = db.session.scalar(select(Mail))
    assert (mail.state, mail.attempts) == (MailState.FAILED, 1 + queue.RETRIES)
    assert queued.messages == []
