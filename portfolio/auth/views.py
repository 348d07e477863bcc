"""Logging in and out."""

from __future__ import annotations

import time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from portfolio.auth.forms import LoginForm
from portfolio.auth.logins import log_in, policy_from
from portfolio.extensions import db, limiter, login_manager
from portfolio.models import User
from portfolio.text import day_and_time

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The person a session cookie names, while that session is current (``id:version``)."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None  # a cookie from before sessions were versioned, or a forged one
    # Every page asks the user's roles: loaded in the same query.
    user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows)])
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


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target and not urlsplit(target).netloc and target.startswith("/") and "//" not in target:
        return target
    return url_for("home")


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
        )
        db.session.commit()
        user = result.user
        if result.locked_until is not None:
            flash(
                "Too many failed attempts to log in to this account: try again after "
                f"{day_and_time(result.locked_until, ZoneInfo(config['RTO_TIMEZONE']))}.",
                "error",
            )
        elif user is None:
            flash("That email and password do not match an active account.", "error")
        else:
            # A fresh session (and CSRF secret) for each login: nothing carries over from
            # before, and forms opened by a previous user of this browser stop working.
            session.clear()
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            session["signed_in_at"] = int(time.time())
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


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
