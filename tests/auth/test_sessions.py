"""Sessions end when they should: on logout (everywhere, a copied cookie included), when the
account is deactivated (and stay ended if it is reactivated), and a fixed time after login
however busy they were."""

from __future__ import annotations

import time

from portfolio.auth.services import set_active
from portfolio.extensions import db
from tests.conftest import PASSWORD


def logged_in(app, user):
    """A new browser, logged in through the form."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def copy_of(app, browser):
    """Another browser (another machine, another User-Agent) holding a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    return thief


def signed_in(browser, **headers) -> bool:
    response = browser.get("/dashboard", headers=headers)
    return response.status_code == 200


def test_a_copied_cookie_stops_working_at_logout(app, make_user) -> None:
    user = make_user("learner")
    browser = logged_in(app, user)
    thief = copy_of(app, browser)
    assert signed_in(thief, **{"User-Agent": "curl/8.0"})  # a bearer token until then
    browser.post("/logout")
    assert not signed_in(thief)
    assert not signed_in(thief, **{"User-Agent": "curl/8.0"})


def test_logging_out_ends_the_sessions_on_other_devices(app, make_user) -> None:
    user = make_user("learner")
    desk, phone = logged_in(app, user), logged_in(app, user)
    assert signed_in(desk) and signed_in(phone)
    phone.post("/logout")
    assert not signed_in(desk)
    assert signed_in(logged_in(app, user))  # logging in again works


def test_a_reactivated_account_starts_afresh(app, make_user) -> None:
    user = make_user("learner")
    browser = logged_in(app, user)
    set_active(db.session, actor=None, user=user, active=False)
    db.session.commit()
    assert not signed_in(browser)
    set_active(db.session, actor=None, user=user, active=True)
    db.session.commit()
    assert not signed_in(browser)  # the cookie from before stays dead
    assert signed_in(logged_in(app, user))


def test_a_new_password_ends_the_sessions_that_knew_the_old_one(app, make_user) -> None:
    user = make_user("learner")
    browser = logged_in(app, user)
    user.set_password("a completely new password")
    db.session.commit()
    assert not signed_in(browser)


def test_a_session_ends_a_fixed_time_after_login_however_busy(app, make_user) -> None:
    user = make_user("learner")
    browser = logged_in(app, user)
    assert signed_in(browser)
    hours = app.config["SESSION_ABSOLUTE_HOURS"]
    with browser.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - hours * 3600 - 1
    response = browser.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.location
