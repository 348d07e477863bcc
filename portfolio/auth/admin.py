"""Admin pages for accounts: list, create, deactivate, import learners from CSV."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.auth.forms import ConfirmForm, ImportLearnersForm, UserForm
from portfolio.auth.permissions import Action, require
from portfolio.auth.services import create_user, import_learners, set_active
from portfolio.extensions import db
from portfolio.models import Role, User
from portfolio.saving import save

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

PER_PAGE = 50


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_USERS)


@bp.get("")
def index() -> str:
    """Every account, newest first, a page at a time."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            db.func.lower(User.name).like(like)
            | db.func.lower(User.email).like(like)
            | (User.student_id == q)
        )
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, q=q, confirm=ConfirmForm())


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | Response:
    """Create an account with one or more roles."""
    form = UserForm()
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: create_user(
                db.session,
                actor=current_user,
                name=form.name.data or "",
                email=form.email.data or "",
                roles={Role(r) for r in form.roles.data or []},
                password=form.password.data or None,
                student_id=form.student_id.data,
                usi=form.usi.data,
            ),
        )
        if saved.ok:
            user, password = saved.value
            if form.password.data:
                flash(f"Created {user.name} ({user.email}).", "success")
            else:
                flash(
                    f"Created {user.name} ({user.email}). Temporary password: {password} "
                    "(shown once: give it to them now).",
                    "success",
                )
            return redirect(url_for(".index"))
    return render_template("admin/user_form.html", form=form)


@bp.post("/<int:user_id>/active")
def toggle_active(user_id: int) -> Response:
    """Deactivate or reactivate an account; nothing about it is deleted."""
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for(".index"))
    if save(
        None, lambda: set_active(db.session, actor=current_user, user=user, active=not user.active)
    ).ok:
        state = "reactivated" if user.active else "deactivated"
        flash(f"{user.name}'s account is {state}.", "success")
    return redirect(url_for(".index"))


@bp.route("/import", methods=["GET", "POST"])
def import_csv() -> str | Response:
    """Bulk-import learners from CSV; a file with any bad row imports nothing."""
    form = ImportLearnersForm()
    result = None
    if form.validate_on_submit():
        # Nothing is written unless every row is clean, so a file with problems commits nothing.
        result = save(
            form,
            lambda: import_learners(db.session, actor=current_user, data=form.file.data.read()),
        ).value
        if result is not None and not result.problems:
            flash(f"Imported {len(result.created)} learners.", "success")
    return render_template("admin/import.html", form=form, result=result)
