"""Logging in and out."""

from __future__ import annotations

import time
from functools import cache
from zoneinfo import ZoneInfo

from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from portfolio.auth import links, sso
from portfolio.auth.forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    NotifyForm,
)
from portfolio.auth.logins import log_in, policy_from
from portfolio.auth.services import change_password as change_password_service
from portfolio.auth.services import set_notify
from portfolio.extensions import db, limiter, login_manager
from portfolio.headers import same_site
from portfolio.mail.outbox import mail_on
from portfolio.models import LinkPurpose, NotifyMode, User
from portfolio.saving import save
from portfolio.text import day_and_time

bp = Blueprint("auth", __name__)


@cache
def _user_with_roles() -> Select[tuple[User]]:
    """The user ``user_id`` with their roles in the same row (every page asks them), built
    once: this runs at every request."""
    return select(User).where(User.id == bindparam("user_id")).options(joinedload(User.role_rows))


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The person a session cookie names, while that session is current (``id:version``)."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None  # a cookie from before sessions were versioned, or a forged one
    user = db.session.scalars(_user_with_roles(), {"user_id": int(user_id)}).unique().first()
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.before_app_request
def end_old_sessions() -> None:
    """A session ends after ``SESSION_ABSOLUTE_HOURS`` from its login, however busy it has
    been (the idle limit is ``PERMANENT_SESSION_LIFETIME``)."""
    if "_user_id" not in session:
        return
    started = session.get("signed_in_at")
    limit = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if not isinstance(started, int | float) or time.time() - started > limit:
        logout_user()
        session.clear()


#: Errors of a sign-on answer Authlib refuses: a wrong state, nonce, audience, issuer or
#: signature, an expired token, a provider that cannot be reached.
_SSO_ERRORS = (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError)

#: What a person who must choose a new password may still reach.
_WHILE_CHANGING = {"auth.change_password", "auth.logout", "static", "bootstrap.static"}


@bp.before_app_request
def choose_own_password_first() -> Response | None:
    """Someone whose password was set by an admin chooses their own before anything else."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and session.get("via") != "sso"
        and request.endpoint not in _WHILE_CHANGING
    ):
        flash("Your password was set for you: choose your own to go on.", "info")
        return redirect(url_for("auth.change_password"))
    return None


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    return same_site(target) or url_for("home")


def _address_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
# Failed attempts from one address, whatever the accounts; a login that succeeds is not
# counted. Each account also locks after repeated failures (auth/logins.py).
@limiter.limit(
    _address_limit,
    methods=["POST"],
    deduct_when=lambda r: r.status_code != 302,
    error_message=(
        "Too many failed attempts from your network in a short time. Wait a few minutes, "
        "then try again."
    ),
)
def login() -> str | Response:
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        config = current_app.config
        result = log_in(
            db.session,
            email=form.email.data or "",
            password=form.password.data or "",
            address=request.remote_addr,
            policy=policy_from(config),
            password_allowed=sso.password_allowed,
        )
        db.session.commit()
        user = result.user
        if result.locked_until is not None:
            flash(
                "Too many failed attempts to log in to this account: try again after "
                f"{day_and_time(result.locked_until, ZoneInfo(config['RTO_TIMEZONE']))}.",
                "error",
            )
        elif result.sso_only:
            flash(f"Staff log in with {sso.provider_name()}: use the button below.", "error")
        elif user is None:
            flash("That email and password do not match an active account.", "error")
        else:
            # A fresh session (and CSRF secret) for each login: nothing carries over from
            # before, and forms opened by a previous user of this browser stop working.
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template(
        "auth/login.html", form=form, sso=sso.enabled(), sso_name=sso.provider_name()
    )


@bp.get("/login/sso")
def sso_start() -> Response:
    """Off to the organisation's identity provider; it sends the person back to the callback."""
    if not sso.enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    return sso.client().authorize_redirect(url_for(".sso_callback", _external=True))


@bp.get("/login/sso/callback")
def sso_callback() -> Response:
    """The provider's answer: checked by Authlib, matched to an account by verified email."""
    if not sso.enabled():
        abort(404)
    try:
        token = sso.client().authorize_access_token()
        claims = token.get("userinfo") or {}
    except _SSO_ERRORS as error:
        db.session.rollback()
        message = sso.refused(db.session, error, request.remote_addr)
        db.session.commit()
        flash(message, "error")
        return redirect(url_for(".login"))
    outcome = sso.account_for(db.session, claims, request.remote_addr)
    db.session.commit()
    if outcome.user is None:
        flash(outcome.refusal, "error")
        return redirect(url_for(".login"))
    _start_session(outcome.user)
    session["via"] = "sso"
    return redirect(url_for("home"))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out (a POST, so another site cannot log people out with a link). Every session of
    the person ends, here and on any other device, so a copy of the cookie is worth nothing."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _start_session(user: User) -> None:
    """A fresh session for ``user`` (a login, or a new password that ended the old ones)."""
    session.clear()
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
    session["signed_in_at"] = int(time.time())
    login_user(user)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response:
    """The person's own account: their details, their password, how they hear of things."""
    form = NotifyForm(notify=current_user.notify.value)
    if form.validate_on_submit():
        mode = NotifyMode(form.notify.data)
        if save(form, lambda: set_notify(db.session, user=current_user, mode=mode)).ok:
            flash("Saved: " + mode.label.lower() + ".", "success")
            return redirect(url_for(".account"))
    return render_template("auth/account.html", form=form, mail_on=mail_on())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    """Choose a new password, giving the current one; other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        changed = save(
            form,
            lambda: change_password_service(
                db.session,
                user=user,
                current=form.current_password.data or "",
                new=form.new_password.data or "",
                address=request.remote_addr,
            ),
        )
        if changed.ok:
            _start_session(user)
            flash("Your password is changed. Any other session of yours has ended.", "success")
            return redirect(url_for("home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/forgot", methods=["GET", "POST"])
@limiter.limit(
    "10 per hour",
    methods=["POST"],
    error_message="Too many requests for reset links from your network. Try again in an hour.",
)
def forgot_password() -> str | Response:
    """Ask for a reset link by email; the answer is the same whether or not the account
    exists."""
    form = ForgotPasswordForm()
    if mail_on() and form.validate_on_submit():
        links.request_reset(db.session, email=form.email.data or "", address=request.remote_addr)
        db.session.commit()
        flash(
            "If an active account has that email, a link to choose a new password is on its "
            "way to it. The link works for one hour. Check your junk mail folder too.",
            "info",
        )
        return redirect(url_for(".login"))
    return render_template("auth/forgot.html", form=form, mail_on=mail_on())


def _choose(purpose: LinkPurpose, token: str) -> str | Response | tuple[str, int]:
    """A set-up or reset link: choose a password, once, before it expires."""
    if current_user.is_authenticated:
        logout_user()
        session.clear()
    if links.find(db.session, token, purpose) is None:
        links.refused(db.session, token, purpose, request.remote_addr)
        db.session.commit()
        return render_template("auth/dead_link.html", message=links.DEAD_LINK), 410
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: links.redeem(
                db.session,
                token=token,
                purpose=purpose,
                password=form.new_password.data or "",
                address=request.remote_addr,
            ),
        )
        if saved.ok:
            flash("Your password is saved. Log in with your email and it.", "success")
            return redirect(url_for(".login"))
    return render_template("auth/choose_password.html", form=form, purpose=purpose)


def _uncached(page: str | Response | tuple[str, int]) -> Response:
    """A page reached by a secret link is kept in no cache."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/setup/<token>", methods=["GET", "POST"])
def setup(token: str) -> Response:
    return _uncached(_choose(LinkPurpose.SETUP, token))


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response:
    return _uncached(_choose(LinkPurpose.RESET, token))
