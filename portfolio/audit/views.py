"""The audit trail on screen: an enrolment's history for its people, the whole log for admins."""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from portfolio.audit.history import (
    describe,
    enrolment_events_query,
    log_query,
    logged_actions,
)
from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.models import Enrolment, User
from portfolio.paging import paginate

bp = Blueprint("audit", __name__)

PER_PAGE = 50
# The whole log is an admin's view. Action names no "audit:view" yet, and every admin
# permission is granted to the same role, so this stands in for it.
VIEW_LOG = Action.VIEW_AUDIT_LOG


@bp.get("/enrolments/<int:enrolment_id>/history")
@login_required
def enrolment_history(enrolment_id: int) -> str:
    """Everything that happened to one enrolment, oldest first, with who did it and what changed."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    require(current_user, Action.VIEW_ENROLMENT, enrolment)
    events = db.session.scalars(enrolment_events_query(enrolment)).all()
    return render_template(
        "audit/history.html", enrolment=enrolment, rows=describe(db.session, events)
    )


@bp.get("/admin/audit")
@login_required
def admin_log() -> str:
    """Every audit event, newest first, a page at a time; filtered by action or enrolment."""
    require(current_user, VIEW_LOG)
    action = request.args.get("action", "").strip()
    typed = request.args.get("enrolment", "").strip()
    enrolment_id = int(typed) if typed.isdigit() else None
    error = None if not typed or enrolment_id is not None else "Type an enrolment number."
    subject = request.args.get("subject", "").strip()
    account = None
    if re.fullmatch(r"user:\d{1,12}", subject):
        account = db.session.get(User, int(subject[5:]))
    subject = subject if account is not None else ""
    page = paginate(
        log_query(action=action or None, enrolment_id=enrolment_id, subject=subject or None),
        per_page=PER_PAGE,
    )
    filters = {"action": action, "enrolment": typed, "subject": subject}
    return render_template(
        "audit/log.html",
        page=page,
        rows=describe(db.session, page.items, with_enrolments=True),
        actions=logged_actions(db.session),
        filters=filters,
        page_args={k: v for k, v in filters.items() if v},
        enrolment_error=error,
        account=account,
    )
