"""Single sign-on with OpenID Connect (Microsoft Entra ID, Google Workspace, any provider that
publishes its configuration), through Authlib.

The provider says who the person is; this app says what they may do. An ID token is accepted
only when Authlib has checked its signature against the provider's published keys, its issuer,
its audience (our client ID), its expiry and the nonce of this browser's login; the email in
it must be verified (``email_verified``), or the deployment must say the provider's emails are
its own to vouch for (``OIDC_EMAILS_VERIFIED``, for a single-tenant Entra ID, whose tokens carry
no such claim). The account is the active one with that email; none is ever created here.
Every success and refusal is in the audit log, as a password login's is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.auth.logins import FAILED, SUCCEEDED
from portfolio.auth.services import find_user_by_email, normalise_email
from portfolio.models import Role, User

PROVIDER = "sso"
_EXTENSION = "portfolio.sso"
#: Roles that may be barred from password logins (PASSWORD_LOGIN=learners): staff then use SSO.
STAFF = frozenset({Role.ASSESSOR, Role.ADMIN})


def init_app(app: Flask) -> None:
    """Register the provider named by OIDC_ISSUER, if any, on an OAuth registry of this app's
    own (so two apps in one process, as in the tests, never share a client)."""
    oauth = OAuth(app)
    app.extensions[_EXTENSION] = oauth
    issuer = str(app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    oauth.register(
        PROVIDER,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "timeout": 15},
    )


def enabled() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def provider_name() -> str:
    return str(current_app.config.get("OIDC_NAME") or "your organisation")


def client() -> Any:
    return current_app.extensions[_EXTENSION].create_client(PROVIDER)


def password_allowed(user: User) -> bool:
    """Whether ``user`` may log in with a password here (PASSWORD_LOGIN=learners keeps staff
    to single sign-on)."""
    if current_app.config.get("PASSWORD_LOGIN", "all") != "learners" or not enabled():
        return True
    return not (user.roles & STAFF)


@dataclass(frozen=True)
class Outcome:
    user: User | None
    #: Why not, in words for the person.
    refusal: str = ""


def _refuse(
    session: Session, subject: str, reason: str, address: str | None, message: str
) -> Outcome:
    record(
        session,
        actor=None,
        role=None,
        action=FAILED,
        subject=subject[:64],
        after={"address": address, "method": "sso", "reason": reason},
    )
    return Outcome(None, message)


def account_for(session: Session, claims: Mapping[str, Any], address: str | None) -> Outcome:
    """The active account the provider's verified claims name, or why not; logged either way.
    The caller commits."""
    email = normalise_email(str(claims.get("email") or ""))
    subject = f"email:{email}" if email else f"sso:{claims.get('sub', '')}"
    if not email:
        return _refuse(
            session,
            subject,
            "no email in the token",
            address,
            f"{provider_name()} did not tell us your email address, so we cannot tell which "
            "account is yours. Ask your RTO's administrator.",
        )
    verified = claims.get("email_verified")
    if verified is not True and not (
        verified is None and current_app.config.get("OIDC_EMAILS_VERIFIED")
    ):
        return _refuse(
            session,
            subject,
            "email not verified",
            address,
            f"{provider_name()} has not verified the email {email}, so it cannot be used to "
            "log in here.",
        )
    user = find_user_by_email(session, email)
    if user is None or not user.active:
        return _refuse(
            session,
            f"user:{user.id}" if user else subject,
            "no such account" if user is None else "account deactivated",
            address,
            f"There is no active account here for {email}. Ask your RTO's administrator to "
            "make one (or to reactivate yours).",
        )
    record(
        session,
        actor=user,
        role=None,
        action=SUCCEEDED,
        subject=f"user:{user.id}",
        after={"address": address, "method": "sso"},
    )
    return Outcome(user)


def refused(session: Session, error: Exception, address: str | None) -> str:
    """Log a sign-on the provider's answer failed (a forged or replayed token, a wrong nonce,
    audience or signature, an expired login) and say so."""
    reason = f"{type(error).__name__}: {error}"[:300]
    _refuse(session, "sso:callback", reason, address, "")
    return (
        f"Logging in with {provider_name()} did not work ({type(error).__name__}). "
        "Nothing was changed; start again from the login page."
    )
