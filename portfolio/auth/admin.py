"""Admin pages for accounts: find, create, edit, deactivate, set-up links, CSV import."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from portfolio.auth import links
from portfolio.auth.forms import (
    ConfirmForm,
    ConfirmImportForm,
    EditUserForm,
    ImportLearnersForm,
    UserForm,
)
from portfolio.auth.importing import MAX_BYTES, import_learners, read_learners
from portfolio.auth.permissions import Action, require
from portfolio.auth.services import create_user, person_matches, set_active, update_user
from portfolio.extensions import db
from portfolio.mail.outbox import mail_on
from portfolio.models import LinkPurpose, Role, User, UserRole
from portfolio.paging import paginate
from portfolio.saving import save
from portfolio.spreadsheets import csv_cell

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

PER_PAGE = 50
STATUSES = {"active": "Active", "deactivated": "Deactivated", "not-set-up": "Not set up yet"}


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_USERS)


@bp.get("")
def index() -> str:
    """Every account, newest first, a page at a time; found by name, email or student ID,
    filtered by role and status."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    if q:
        query = query.where(person_matches(q))
    if role in {r.value for r in Role}:
        query = query.where(
            User.id.in_(select(UserRole.user_id).where(UserRole.role == Role(role)))
        )
    if status == "active":
        query = query.where(User.active.is_(True))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    elif status == "not-set-up":
        query = query.where(User.password_hash.is_(None), User.active.is_(True))
    page = paginate(query, per_page=PER_PAGE)
    filters = {k: v for k, v in (("q", q), ("role", role), ("status", status)) if v}
    return render_template(
        "admin/users.html",
        page=page,
        q=q,
        role=role,
        status=status,
        filters=filters,
        roles=list(Role),
        statuses=STATUSES,
        confirm=ConfirmForm(),
    )


def _link_page(user: User, issued: links.Issued, *, created: bool) -> str:
    """A set-up link shown once, to hand over when mail is off."""
    return render_template(
        "admin/setup_link.html",
        user=user,
        url=issued.url,
        expires=links.expires_text(issued.link.expires_at),
        created=created,
    )


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | BaseResponse:
    """Create an account with one or more roles; its holder chooses a password by a link."""
    form = UserForm()
    if form.validate_on_submit():

        def create() -> tuple[User, links.Issued | None]:
            user = create_user(
                db.session,
                actor=current_user,
                name=form.name.data or "",
                email=form.email.data or "",
                roles={Role(r) for r in form.roles.data or []},
                password=form.password.data or None,
                temporary=True,
                student_id=form.student_id.data,
                usi=form.usi.data,
            )
            if form.password.data:
                return user, None
            if links.send_setup_link(db.session, actor=current_user, user=user):
                return user, None
            return user, links.issue(
                db.session, actor=current_user, user=user, purpose=LinkPurpose.SETUP
            )

        saved = save(form, create)
        if saved.ok and saved.value is not None:
            user, issued = saved.value
            if issued is not None:
                return _link_page(user, issued, created=True)
            if form.password.data:
                flash(
                    f"Created {user.name} ({user.email}). They log in with the password you "
                    "set and choose their own at once.",
                    "success",
                )
            else:
                flash(
                    f"Created {user.name} ({user.email}) and emailed them a link to choose "
                    "their password.",
                    "success",
                )
            return redirect(url_for(".index"))
    return render_template("admin/user_form.html", form=form, mail_on=mail_on())


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int) -> str | BaseResponse:
    """Correct an account's name, email, student ID, USI and roles."""
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: update_user(
                db.session,
                actor=current_user,
                user=user,
                name=form.name.data or "",
                email=form.email.data or "",
                roles={Role(r) for r in form.roles.data or []},
                student_id=form.student_id.data,
                usi=form.usi.data,
            ),
        )
        if saved.ok:
            flash(
                f"Saved {user.name}'s account." if saved.value else "Nothing was changed.",
                "success" if saved.value else "info",
            )
            return redirect(url_for(".edit", user_id=user.id))
    return render_template(
        "admin/user_edit.html", form=form, user=user, confirm=ConfirmForm(), mail_on=mail_on()
    )


@bp.post("/<int:user_id>/link")
def new_link(user_id: int) -> str | BaseResponse:
    """A new set-up link (the old ones stop working): emailed, or shown when mail is off."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for(".edit", user_id=user.id))
    if mail_on():
        if save(None, lambda: links.send_setup_link(db.session, actor=current_user, user=user)).ok:
            flash(f"Emailed {user.name} a new link to choose a password.", "success")
        return redirect(url_for(".edit", user_id=user.id))
    saved = save(
        None,
        lambda: links.issue(db.session, actor=current_user, user=user, purpose=LinkPurpose.SETUP),
    )
    if not saved.ok or saved.value is None:
        return redirect(url_for(".edit", user_id=user.id))
    return _link_page(user, saved.value, created=False)


@bp.post("/<int:user_id>/active")
def toggle_active(user_id: int) -> BaseResponse:
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
    if request.form.get("back") == "account":
        return redirect(url_for(".edit", user_id=user.id))
    return redirect(url_for(".index"))


@bp.post("/setup-links.csv")
def setup_links() -> BaseResponse:
    """New set-up links for the chosen accounts that have no password yet, as CSV to merge
    into a letter or hand out. Earlier links of these accounts stop working."""
    if not ConfirmForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for(".index"))
    ids = [int(i) for i in request.form.getlist("user") if i.isdigit()][:5000]
    users = db.session.scalars(
        select(User)
        .where(User.id.in_(ids), User.password_hash.is_(None), User.active.is_(True))
        .order_by(User.name, User.id)
    ).all()
    if not users:
        abort(404, "None of these accounts is waiting to be set up.")
    rows = [
        (user, links.issue(db.session, actor=current_user, user=user, purpose=LinkPurpose.SETUP))
        for user in users
    ]
    db.session.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Email", "Student ID", "Set-up link", "Link works until"])
    for user, issued in rows:
        writer.writerow(
            [
                csv_cell(user.name),
                csv_cell(user.email),
                csv_cell(user.student_id),
                issued.url,
                links.expires_text(issued.link.expires_at),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="setup-links.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/import", methods=["GET", "POST"])
def import_csv() -> str | BaseResponse:
    """Import learners from CSV: the file is checked and shown first; nothing is created until
    the admin confirms, and a file with any bad row creates nothing."""
    form = ImportLearnersForm()
    confirm = ConfirmImportForm()
    if "data" in request.form:
        if not confirm.validate_on_submit():
            flash("The form had expired; choose the file again.", "error")
            return redirect(url_for(".import_csv"))
        data = (confirm.data.data or "").encode()
        saved = save(confirm, lambda: import_learners(db.session, actor=current_user, data=data))
        result = saved.value
        if result is None:
            return redirect(url_for(".import_csv"))
        if result.problems:
            # Something changed between the preview and now (another admin made an account).
            return render_template(
                "admin/import.html", form=form, plan=result, confirm=None, mail_on=mail_on()
            )
        emailed = False
        if mail_on():
            emailed = save(
                None,
                lambda: all(
                    links.send_setup_link(db.session, actor=current_user, user=user)
                    for user in result.created
                ),
            ).ok
        return render_template(
            "admin/imported.html",
            created=result.created,
            emailed=emailed,
            confirm=ConfirmForm(),
        )
    plan = None
    if form.validate_on_submit():
        data = form.file.data.read(MAX_BYTES + 1)
        plan = read_learners(db.session, data)
        db.session.rollback()
        if not plan.problems:
            confirm.data.data = data.decode("utf-8-sig")
    return render_template(
        "admin/import.html", form=form, plan=plan, confirm=confirm, mail_on=mail_on()
    )
