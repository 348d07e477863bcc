"""Logging in and out, sessions, and CSRF on every form."""

from __future__ import annotations

import io
import re
import time

import itsdangerous.timed
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import EvidenceItem
from tests.conftest import PASSWORD


def test_login_with_right_password_lands_on_dashboard(client: FlaskClient, make_user) -> None:
    """A learner logs in and sees their own start page."""
    user = make_user("learner", name="Lee Learner")
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert "Welcome, Lee Learner" in client.get("/dashboard").text


def test_wrong_password_says_so_without_saying_which(client: FlaskClient, make_user) -> None:
    """A wrong password or unknown email gets the same message, and no session."""
    user = make_user("learner")
    for email, password in ((user.email, "wrong"), ("nobody@example.org", PASSWORD)):
        page = client.post("/login", data={"email": email, "password": password})
        assert page.status_code == 200
        assert "That email and password do not match an active account." in page.text
    assert client.get("/dashboard").status_code == 302


def test_passwords_are_hashed(make_user) -> None:
    """The database never holds the password itself."""
    user = make_user("learner")
    assert PASSWORD not in (user.password_hash or "")
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_deactivated_user_is_logged_out_and_cannot_log_in(client, make_user, login) -> None:
    """Deactivating an account ends its session at the next request."""
    user = make_user("learner")
    login(user)
    user.active = False
    db.session.commit()
    assert client.get("/dashboard").status_code == 302
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "do not match an active account" in page.text


def test_logout_is_a_post(client: FlaskClient, make_user, login) -> None:
    """A link cannot log anyone out; the button's POST does."""
    login(make_user("learner"))
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_a_session_ends_after_a_working_day(client: FlaskClient, make_user, monkeypatch) -> None:
    """Eight hours after the last request the session cookie no longer logs anyone in."""
    user = make_user("learner")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/dashboard").status_code == 200
    now = time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 7.5 * 3600)
    assert client.get("/dashboard").status_code == 200  # still within the day
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 16 * 3600)
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location


def test_without_the_session_cookie_nobody_is_logged_in(client: FlaskClient, make_user) -> None:
    """Logging in belongs to the browser that did it, not to the server process."""
    user = make_user("learner")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert client.get("/dashboard").status_code == 200
    client.delete_cookie("session")
    assert client.get("/dashboard").status_code == 302


def test_next_only_follows_local_paths(client: FlaskClient, make_user) -> None:
    """After login, ``next`` may not send the person to another site."""
    user = make_user("learner")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        client.post("/logout")
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": user.email, "password": PASSWORD},
        )
        assert response.status_code == 302
        assert response.location in ("/", "/%5Cevil.example"), (target, response.location)
    client.post("/logout")
    response = client.post(
        "/login?next=/enrolments/1", data={"email": user.email, "password": PASSWORD}
    )
    assert response.location == "/enrolments/1"


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page).group(1)


def test_a_form_without_a_token_is_refused(app: Flask, make_user) -> None:
    """A login posted without a token (e.g. from another site) is refused with a clear page."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("learner")
    client = app.test_client()
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert page.status_code == 400
    assert "The form has expired" in page.text
    assert client.get("/dashboard").status_code == 302


def test_stale_form_saves_nothing_and_shows_what_was_typed(
    app: Flask, make_user, make_enrolment
) -> None:
    """A form opened before logging out and in again is refused; the typed text is shown back."""
    app.config["WTF_CSRF_ENABLED"] = True
    learner = make_user("learner")
    enrolment = make_enrolment(learner=learner)
    client = app.test_client()

    def log_in() -> None:
        token = csrf_token(client.get("/login").text)
        data = {"email": learner.email, "password": PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302

    log_in()
    form_page = client.get(f"/enrolments/{enrolment.id}/evidence/new").text
    stale = csrf_token(form_page)
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/dashboard").text)})
    log_in()
    page = client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data={
            "csrf_token": stale,
            "title": "Site induction notes",
            "evidence_type": "report",
            "work_date": "2026-10-01",
            "description": "Walked the new starter through the complaint process.",
        },
    )
    assert page.status_code == 400
    assert "The form has expired" in page.text and "nothing was saved" in page.text
    assert "Walked the new starter through the complaint process." in page.text
    assert stale not in page.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_an_upload_with_a_stale_token_gets_json(app: Flask, make_user, make_enrolment) -> None:
    """The upload script is told why in words it can show next to the file."""
    app.config["WTF_CSRF_ENABLED"] = True
    learner = make_user("learner")
    enrolment = make_enrolment(learner=learner)
    client = app.test_client()
    token = csrf_token(client.get("/login").text)
    client.post("/login", data={"email": learner.email, "password": PASSWORD, "csrf_token": token})
    response = client.post(
        f"/enrolments/{enrolment.id}/uploads",
        data={"file": (io.BytesIO(b"notes"), "notes.txt")},
        headers={"X-CSRFToken": "stale", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_json()["error"]
