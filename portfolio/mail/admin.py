"""Admin page for email: what failed or is still waiting, with the server's answer, and a
button to send it again."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from portfolio.auth.forms import ConfirmForm
from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.mail.outbox import mail_on, send_again
from portfolio.models import Mail, MailState
from portfolio.paging import paginate
from portfolio.saving import save

bp = Blueprint("admin_mail", __name__, url_prefix="/admin/mail")

PER_PAGE = 50


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_USERS)


@bp.get("")
def index() -> str:
    """Email newest first, failed ones on their own view; counts by state."""
    state = request.args.get("state", "")
    query = select(Mail).order_by(Mail.id.desc())
    if state in {s.value for s in MailState}:
        query = query.where(Mail.state == MailState(state))
    page = paginate(query, per_page=PER_PAGE)
    counts = dict(db.session.execute(select(Mail.state, func.count()).group_by(Mail.state)).all())
    return render_template(
        "admin/mail.html",
        page=page,
        state=state,
        states=list(MailState),
        counts=counts,
        mail_on=mail_on(),
        confirm=ConfirmForm(),
    )


@bp.post("/again")
def again() -> Response:
    """Send the chosen failed (or stuck) emails again."""
    if not ConfirmForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for(".index"))
    ids = [int(i) for i in request.form.getlist("mail") if i.isdigit()][:PER_PAGE]
    mails = db.session.scalars(select(Mail).where(Mail.id.in_(ids))).all()
    saved = save(None, lambda: send_again(db.session, mails))
    if saved.ok:
        flash(f"Sending {saved.value} email{'s' if saved.value != 1 else ''} again.", "success")
    return redirect(url_for(".index", state=request.form.get("state") or None))
