"""One-time account links: set-up for a new account, reset for a forgotten password; expired,
reused and forged links; the same answer whether or not an email has an account."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import AccountLink, AuditEvent, LinkPurpose, User
from portfolio.models.base import utcnow
from tests.smtpserver import Inbox

NEW = "violet tram 4 harbour"
LINK = re.compile(r"https?://[^\s\"<]+/account/(setup|reset)/[\w-]+")


def refusals() -> list[dict]:
    return [
        e.after
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.link-refused")
        )
    ]


def path_of(url: str) -> str:
    return "/account/" + url.split("/account/", 1)[1]


def test_a_set_up_link_lets_a_new_account_choose_its_password_once(
    client: FlaskClient, make_user, login
) -> None:
    """With mail off the admin is shown the link to hand over; it works once."""
    login(make_user("admin"))
    page = client.post(
        "/admin/users/new",
        data={"name": "Nia New", "email": "nia@example.org", "roles": ["learner"]},
    )
    url = LINK.search(page.text).group(0)
    client.post("/logout")
    assert (
        client.post("/login", data={"email": "nia@example.org", "password": ""}).status_code == 200
    )
    form = client.get(path_of(url))
    assert "Choose your password" in form.text
    assert form.headers["Cache-Control"] == "no-store"
    weak = client.post(path_of(url), data={"new_password": "nia12345", "confirm": "nia12345"})
    assert "Use at least 12 characters" in weak.text
    done = client.post(
        path_of(url), data={"new_password": NEW, "confirm": NEW}, follow_redirects=True
    )
    assert "Your password is saved. Log in with your email and it." in done.text
    assert (
        client.post("/login", data={"email": "nia@example.org", "password": NEW}).status_code == 302
    )
    client.post("/logout")
    again = client.get(path_of(url))
    assert again.status_code == 410 and "This link does not work" in again.text
    assert refusals()[-1]["reason"] == "used or replaced"


def test_an_expired_a_forged_and_a_replaced_link_change_nothing(
    client: FlaskClient, make_user, login
) -> None:
    admin = make_user("admin")
    learner = make_user("learner", email="lou@example.org")
    login(admin)
    first = LINK.search(client.post(f"/admin/users/{learner.id}/link").text).group(0)
    second = LINK.search(client.post(f"/admin/users/{learner.id}/link").text).group(0)
    client.post("/logout")
    hash_before = db.session.get(User, learner.id).password_hash
    # The first was replaced by the second.
    assert (
        client.post(path_of(first), data={"new_password": NEW, "confirm": NEW}).status_code == 410
    )
    # A made-up token.
    assert client.get("/account/setup/made-up-token").status_code == 410
    # A set-up token used as a reset link.
    assert client.get(path_of(second).replace("/setup/", "/reset/")).status_code == 410
    # The second, once past its time.
    link = db.session.scalar(select(AccountLink).where(AccountLink.used_at.is_(None)))
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert (
        client.post(path_of(second), data={"new_password": NEW, "confirm": NEW}).status_code == 410
    )
    db.session.expire_all()
    assert db.session.get(User, learner.id).password_hash == hash_before
    assert [r["reason"] for r in refusals()] == [
        "used or replaced",
        "unknown link",
        "wrong kind of link",
        "expired",
    ]


def test_a_forgotten_password_is_reset_by_an_emailed_link(
    client: FlaskClient, smtp: Inbox, make_user
) -> None:
    """The answer is the same for an account and for no account; only the account's holder
    gets an email, whose link works for an hour, once."""
    make_user("learner", name="Max Forgetful", email="max@example.org")
    known = client.post("/account/forgot", data={"email": "MAX@example.org"}, follow_redirects=True)
    unknown = client.post(
        "/account/forgot", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    answer = "If an active account has that email, a link to choose a new password is on its way"
    assert answer in known.text and answer in unknown.text
    assert [m["To"] for m in smtp.messages] == ["max@example.org"]
    text, html = Inbox.parts(smtp.messages[0])
    url = LINK.search(text).group(0)
    assert url.startswith("https://portfolio.rto.example.org/account/reset/") and url in html
    assert "Hello Max Forgetful" in text
    link = db.session.scalar(select(AccountLink))
    assert link.purpose is LinkPurpose.RESET
    assert timedelta(minutes=59) < link.expires_at - utcnow() <= timedelta(hours=1)
    token = url.rsplit("/", 1)[1]
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only a hash is kept
    client.post(path_of(url), data={"new_password": NEW, "confirm": NEW})
    assert (
        client.post("/login", data={"email": "max@example.org", "password": NEW}).status_code == 302
    )
    refused = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.reset-refused")
    )
    assert refused.subject == "email:nobody@example.org"
    assert refused.after["reason"] == "no such account"


def test_with_mail_off_the_reset_page_says_to_ask_the_rto(client: FlaskClient) -> None:
    page = client.get("/account/forgot")
    assert "This portfolio does not send email" in page.text
    assert "Ask your RTO's administrator for a new set-up link" in page.text


def test_new_accounts_are_emailed_their_set_up_link(
    client: FlaskClient, smtp: Inbox, make_user, login
) -> None:
    login(make_user("admin"))
    page = client.post(
        "/admin/users/new",
        data={"name": "Eve Emailed", "email": "eve@example.org", "roles": ["assessor"]},
        follow_redirects=True,
    )
    assert "emailed them a link to choose their password" in page.text
    (message,) = smtp.to("eve@example.org")
    text, _ = Inbox.parts(message)
    assert "(Assessor)" in text and "/account/setup/" in text
