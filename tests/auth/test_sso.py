"""Single sign-on against a real OpenID Connect provider process: the redirect dance, accounts
matched by verified email, and answers that must be refused (a wrong state, nonce, signature or
client), each logged and changing nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portfolio.auth import sso as sso_module
from portfolio.extensions import db
from portfolio.models import AuditEvent
from tests.conftest import PASSWORD


def sign_on(client: FlaskClient, provider, sub: str) -> str:
    """Start at the login page's button, sign in at the provider, come back: the location the
    app's callback sends the browser to."""
    start = client.get("/login/sso")
    assert start.status_code == 302 and start.location.startswith(provider.issuer)
    back = provider.authorize(start.location, sub)
    callback = urlsplit(back)
    answer = client.get(f"{callback.path}?{callback.query}")
    assert answer.status_code == 302
    return answer.location


def last_login() -> AuditEvent:
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.in_(("login.succeeded", "login.failed")))
        .order_by(AuditEvent.seq.desc())
    ).first()


def test_staff_sign_on_with_their_organisation_and_land_on_their_work(
    client: FlaskClient, sso, make_user
) -> None:
    assessor = make_user("assessor", name="Ash Assessor", email="ash@rto.example.org")
    sso.person("ash-entra-id", email="Ash@RTO.example.org", email_verified=True, name="Ash")
    assert "Log in with Test Identity" in client.get("/login").text
    assert sign_on(client, sso, "ash-entra-id") == "/"
    assert client.get("/dashboard").status_code == 200
    event = last_login()
    assert event.action == "login.succeeded" and event.subject == f"user:{assessor.id}"
    assert event.after["method"] == "sso"


def test_an_unverified_or_unknown_email_is_refused(client: FlaskClient, sso, make_user) -> None:
    make_user("learner", email="lee@example.org")
    sso.person("lee-unverified", email="lee@example.org", email_verified=False)
    assert sign_on(client, sso, "lee-unverified") == "/login"
    page = client.get("/login")
    assert "has not verified the email lee@example.org" in page.text
    assert last_login().after["reason"] == "email not verified"
    sso.person("stranger", email="stranger@example.org", email_verified=True)
    sign_on(client, sso, "stranger")
    assert "There is no active account here for stranger@example.org" in client.get("/login").text
    assert client.get("/dashboard").status_code == 302  # not logged in


def test_a_tampered_nonce_is_refused(client: FlaskClient, sso, make_user) -> None:
    """The ID token must carry the nonce this browser's login was started with."""
    make_user("assessor", email="nat@example.org")
    sso.person("nat", email="nat@example.org", email_verified=True)
    start = client.get("/login/sso")
    with client.session_transaction() as session:
        for key, value in session.items():
            if key.startswith("_state_sso_"):
                value["data"]["nonce"] = "not-the-nonce-sent"
                session[key] = value
    back = urlsplit(sso.authorize(start.location, "nat"))
    answer = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Logging in with Test Identity did not work" in answer.text
    assert "nonce" in last_login().after["reason"]
    assert client.get("/dashboard").status_code == 302


def test_a_token_not_signed_by_the_provider_s_key_is_refused(
    app, client: FlaskClient, sso, make_user
) -> None:
    """The keys the app checks against are swapped for another with the same key ID: the
    provider's signature no longer verifies, as a forged token's would not."""
    make_user("assessor", email="sig@example.org")
    sso.person("sig", email="sig@example.org", email_verified=True)
    start = client.get("/login/sso")
    provider_client = sso_module.client()
    published = provider_client.fetch_jwk_set()
    impostor = RSAKey.generate_key(2048).as_dict(private=False)
    impostor["kid"] = published["keys"][0]["kid"]
    provider_client.server_metadata["jwks"] = {"keys": [impostor]}
    back = urlsplit(sso.authorize(start.location, "sig"))
    answer = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "did not work" in answer.text
    assert "Signature" in last_login().after["reason"]


def test_an_answer_for_another_login_is_refused(client: FlaskClient, sso, make_user) -> None:
    """A callback whose state this browser never started (a forged or replayed link)."""
    make_user("assessor", email="eve@example.org")
    sso.person("eve", email="eve@example.org", email_verified=True)
    other = client.application.test_client()
    start = other.get("/login/sso")
    back = urlsplit(sso.authorize(start.location, "eve"))
    answer = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "did not work (MismatchingStateError)" in answer.text
    assert client.get("/dashboard").status_code == 302


def test_a_code_for_another_client_is_refused(app, client: FlaskClient, sso, make_user) -> None:
    """The app's client ID changes between the start and the answer: the code was issued to
    another client, and the provider refuses to exchange it for a token for this one."""
    make_user("assessor", email="aud@example.org")
    sso.person("aud", email="aud@example.org", email_verified=True)
    start = client.get("/login/sso")
    assert parse_qs(urlsplit(start.location).query)["client_id"] == ["portfolio-tests"]
    back = urlsplit(sso.authorize(start.location, "aud"))
    app.config["OIDC_CLIENT_ID"] = "another-app"
    sso_module.init_app(app)
    answer = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "did not work" in answer.text
    assert "invalid_grant" in last_login().after["reason"]
    assert client.get("/dashboard").status_code == 302


def test_password_login_can_be_kept_for_learners(app, client: FlaskClient, sso, make_user) -> None:
    """PASSWORD_LOGIN=learners: staff must use single sign-on; learners still log in with a
    password."""
    app.config["PASSWORD_LOGIN"] = "learners"
    admin = make_user("admin", email="boss@example.org")
    learner = make_user("learner", email="pupil@example.org")
    page = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD}, follow_redirects=True
    )
    assert "Staff log in with Test Identity: use the button below." in page.text
    assert client.get("/dashboard").status_code == 302
    answer = client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert answer.status_code == 302
