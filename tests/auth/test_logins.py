"""Logging in: every outcome in the audit log, an account locked after repeated failures, an
address slowed after many, and an unknown email costing the same work as a known one."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select

import portfolio.auth.logins as logins
import portfolio.models.accounts as accounts
from portfolio import create_app
from portfolio.auth.logins import LoginPolicy, log_in
from portfolio.extensions import db
from portfolio.models import AuditEvent
from tests.conftest import PASSWORD

WRONG = "not the password"


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def post_login(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password})


def test_every_login_is_in_the_audit_log_with_its_address(client, make_user) -> None:
    user = make_user("learner", email="lee@example.org")
    assert post_login(client, "lee@example.org", WRONG).status_code == 200
    assert post_login(client, "nobody@example.org", WRONG).status_code == 200
    assert post_login(client, "lee@example.org", PASSWORD).status_code == 302
    failed = events("login.failed")
    assert [(e.subject, e.after["reason"]) for e in failed] == [
        (f"user:{user.id}", "wrong password"),
        ("email:nobody@example.org", "no such account"),
    ]
    [succeeded] = events("login.succeeded")
    assert succeeded.subject == f"user:{user.id}" and succeeded.actor_id == user.id
    assert succeeded.after["address"] == "127.0.0.1"


def test_a_deactivated_account_fails_and_says_no_more_than_a_wrong_password(
    client, make_user
) -> None:
    user = make_user("learner", email="gone@example.org")
    user.active = False
    db.session.commit()
    page = post_login(client, "gone@example.org", PASSWORD)
    assert "That email and password do not match an active account." in page.text
    assert events("login.failed")[0].after["reason"] == "account deactivated"


def test_an_account_locks_after_five_failures_even_for_the_right_password(
    client, make_user
) -> None:
    make_user("learner", email="lee@example.org")
    for _ in range(5):
        post_login(client, "lee@example.org", WRONG)
    assert len(events("login.locked")) == 1
    page = post_login(client, "lee@example.org", PASSWORD)
    assert page.status_code == 200
    assert "Too many failed attempts to log in to this account: try again after" in page.text
    assert events("login.succeeded") == []
    assert events("login.refused")[0].after["reason"] == "locked"
    # Other accounts are not affected.
    make_user("learner", email="sam@example.org")
    assert post_login(client, "sam@example.org", PASSWORD).status_code == 302


def attempt_as(user, policy: LoginPolicy | None = None):
    """``attempt(password, address)``: a login of ``user`` through the service, committed."""

    def attempt(password: str, address: str = "203.0.113.9"):
        result = log_in(
            db.session,
            email=user.email,
            password=password,
            address=address,
            hash_method="pbkdf2:sha256:1000",
            policy=policy or LoginPolicy(),
        )
        db.session.commit()
        return result

    return attempt


def test_the_lock_ends_with_its_window_and_a_success_clears_the_count(app, make_user) -> None:
    user = make_user("learner", email="lee@example.org")
    attempt = attempt_as(user, LoginPolicy(failures=2, window=timedelta(seconds=1)))
    assert attempt(WRONG).locked_until is None
    assert attempt(PASSWORD, "192.0.2.7").user == user  # the success clears the count
    assert attempt(WRONG).locked_until is None
    assert attempt(WRONG).locked_until is not None  # two in a row: locked
    assert attempt(PASSWORD).user is None
    time.sleep(1.1)
    assert attempt(PASSWORD).user == user


def test_a_lock_does_not_hold_where_the_person_logged_in_before(app, make_user) -> None:
    """Someone guessing from elsewhere locks the account for their own address and any new
    one, but not for the address its owner works from: the lockout cannot be used to keep a
    person out. Before, five wrong guesses from anywhere locked the owner out too."""
    user = make_user("learner", email="lee@example.org")
    attempt = attempt_as(user)
    assert attempt(PASSWORD, "192.0.2.7").user == user  # the owner, at work
    for _ in range(5):
        attempt(WRONG, "203.0.113.9")  # someone else
    assert attempt(PASSWORD, "203.0.113.9").locked_until is not None
    assert attempt(PASSWORD, "198.51.100.1").locked_until is not None  # a new place too
    assert attempt(PASSWORD, "192.0.2.7").user == user
    assert [e.after["address"] for e in events("login.succeeded")] == ["192.0.2.7"] * 2


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The method of every password hash checked, wherever the check is made."""
    checked: list[str] = []
    real = accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    monkeypatch.setattr(logins, "check_password_hash", counting)
    return checked


def test_an_unknown_email_costs_the_same_hash_work_as_a_known_one(
    client, make_user, hash_checks
) -> None:
    make_user("learner", email="lee@example.org")
    post_login(client, "lee@example.org", WRONG)
    known = list(hash_checks)
    hash_checks.clear()
    post_login(client, "nobody@example.org", WRONG)
    assert known == ["pbkdf2:sha256:1000"]
    assert hash_checks == known


def test_many_failures_from_one_address_wait_whatever_the_accounts(app, client, make_user):
    app.config["LOGIN_ADDRESS_LIMIT"] = "3 per minute"
    make_user("learner", email="lee@example.org")
    assert post_login(client, "lee@example.org", PASSWORD).status_code == 302  # not counted
    client.post("/logout")
    for n in range(3):
        assert post_login(client, f"guess{n}@example.org", WRONG).status_code == 200
    page = post_login(client, "another@example.org", WRONG)
    assert page.status_code == 429
    assert "Too many failed attempts from your network" in page.text
    assert int(page.headers["Retry-After"]) > 0


def test_address_counts_are_shared_by_every_worker_through_redis(app, make_user, redis_url):
    """Two app processes (gunicorn workers, or two machines) keep one count per address when
    RATELIMIT_STORAGE_URI names a Redis; with the default memory:// each would count alone."""
    Redis.from_url(redis_url).flushdb()
    make_user("learner", email="lee@example.org")
    settings = {**app.config, "RATELIMIT_STORAGE_URI": redis_url}
    settings["LOGIN_ADDRESS_LIMIT"] = "3 per minute"
    first, second = create_app(settings), create_app(settings)
    try:
        one, two = first.test_client(), second.test_client()
        assert post_login(one, "guess1@example.org", WRONG).status_code == 200
        assert post_login(two, "guess2@example.org", WRONG).status_code == 200
        assert post_login(one, "guess3@example.org", WRONG).status_code == 200
        page = post_login(two, "guess4@example.org", WRONG)
        assert page.status_code == 429
        assert "Too many failed attempts from your network" in page.text
        assert Redis.from_url(redis_url).keys("LIMITS*")  # the count is in Redis, not a worker
    finally:
        for other in (first, second):
            with other.app_context():
                db.engine.dispose()
