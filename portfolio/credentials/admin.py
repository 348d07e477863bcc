"""Admin pages of the credential register: a person's entries with the units they may assess
today, adding and ending entries, and everyone's upcoming expiries."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portfolio.auth.permissions import Action, require
from portfolio.clock import today
from portfolio.credentials import services
from portfolio.credentials.forms import CredentialForm, EndForm
from portfolio.credentials.rules import EXPIRY_NOTICE_DAYS, Entry
from portfolio.extensions import db
from portfolio.files.serving import send_stored
from portfolio.files.uploads import store_sent_files
from portfolio.models import (
    Credential,
    CredentialBasis,
    CredentialFile,
    CredentialKind,
    Role,
    User,
)
from portfolio.models.base import utcnow
from portfolio.saving import save

bp = Blueprint("admin_credentials", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_USERS)


@bp.route("/users/<int:user_id>/credentials", methods=["GET", "POST"])
def register(user_id: int) -> str | Response:
    """A person's credential register, the units it lets them assess today, and a new entry."""
    user = db.get_or_404(User, user_id)
    form = CredentialForm()
    if form.validate_on_submit():
        entry = Entry(
            kind=CredentialKind(form.kind.data),
            code=form.code.data or "",
            title=form.title.data or "",
            basis=CredentialBasis(form.basis.data),
            reason=form.reason.data or "",
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
        )
        saved = save(
            form,
            lambda: services.add_entry(
                db.session,
                actor=current_user,
                user=user,
                entry=entry,
                files=store_sent_files(form.files.name),
            ),
        )
        if saved.ok:
            flash(f"Added to {user.name}'s register: {saved.value.title}.", "success")
            return redirect(url_for(".register", user_id=user.id))
    elif request.method == "POST" and "csrf_token" in form.errors:
        flash("The form had expired; nothing was added. Please try again.", "error")
    return _page(user, form)


def _page(user: User, form: CredentialForm) -> str:
    entries = services.register_of(db.session, user)
    return render_template(
        "admin/credentials.html",
        user=user,
        entries=entries,
        authorised=services.authorised_units(
            entries, services.unit_codes(db.session), today(), utcnow()
        ),
        today=today(),
        now=utcnow(),
        form=form,
        end=EndForm(),
        is_assessor=user.has_role(Role.ASSESSOR),
    )


@bp.post("/credentials/<int:credential_id>/end")
def end(credential_id: int) -> Response:
    """End an entry that no longer stands; it stays on record with the reason."""
    credential = db.get_or_404(Credential, credential_id)
    form = EndForm()
    if not form.validate_on_submit():
        flash("The form had expired; the entry was not ended. Please try again.", "error")
    elif save(
        None,
        lambda: services.end_entry(
            db.session, actor=current_user, credential=credential, reason=form.reason.data or ""
        ),
    ).ok:
        flash(f"Ended: {credential.title}. It stays on record.", "success")
    return redirect(url_for(".register", user_id=credential.user_id))


@bp.get("/credentials")
def expiring() -> str:
    """Every assessor's entries that lapse within the notice period, soonest first, and the
    units each assessor may assess today."""
    return render_template(
        "admin/credentials_expiring.html",
        entries=services.expiring_soon(db.session),
        days=EXPIRY_NOTICE_DAYS,
        assessors=services.assessors_authorised(db.session),
        codes=services.unit_codes(db.session),
        enforced=bool(current_app.config.get("CREDENTIALS_ENFORCED")),
    )


@bp.get("/credential-files/<int:file_id>")
def document(file_id: int) -> Response:
    """A document behind a credential entry."""
    return send_stored(db.get_or_404(CredentialFile, file_id), inline=True)
