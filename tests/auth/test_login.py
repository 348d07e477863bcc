"""Logging in and out, sessions, and CSRF on every form."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from portfolio.extensions import db
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


def test_sessions_expire(app: Flask) -> None:
    """A session lasts a working day without activity, not for ever."""
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)


def test_next_only_follows_local_paths(client: FlaskClient, make_user) -> None:
    """After login, ``next`` may not send the person to another site."""
    user = make_user("learner")
    response = client.post(
        "/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD}
    )
    assert response.location == "/"


def test_stale_csrf_token_is_refused_with_a_message(app: Flask, make_user) -> None:
    """A form without a valid token is refused with a clear page, and nothing happens."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("learner")
    client = app.test_client()
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert page.status_code == 400
    assert "The form has expired" in page.text
    assert client.get("/dashboard").status_code == 302
