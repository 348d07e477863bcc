"""The dashboards: each person's picture on their first page (My work), the admin's figures of
the whole RTO with filters, and every figure's table as CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portfolio.audit.exports import record_export
from portfolio.auth.permissions import Action, require
from portfolio.auth.services import active_with_role
from portfolio.clock import rto_zone, today
from portfolio.enrolments.progress import coverage, standings
from portfolio.enrolments.services import list_enrolments
from portfolio.extensions import db
from portfolio.files.filetypes import CSV
from portfolio.files.serving import send_download
from portfolio.models import Cohort, Enrolment, Role, Unit
from portfolio.reports.dashboard import (
    admin_figures,
    assessor_figures,
    figure_csv,
    learner_figure,
    pick,
)
from portfolio.reports.figures import Figure, Filters
from portfolio.saving import commit_before_sending

bp = Blueprint("reports", __name__)


def _settings() -> dict:
    return {
        "today": today(),
        "due_days": current_app.config["REVIEW_DUE_WORKING_DAYS"],
        "zone": rto_zone(),
    }


def _linked(made: list[Figure], filters: Filters) -> list[Figure]:
    """Each bar of a per-unit or per-assessor figure leads to the enrolments behind it."""
    base = {k: v for k, v in filters.query().items() if k in ("unit", "assessor", "cohort")}
    ids = {u.name: u.id for u in active_with_role(db.session, Role.ASSESSOR)}
    for fig in made:
        for i, row in enumerate(fig.rows):
            if fig.name in ("states", "outcomes-by-unit"):
                fig.links[i] = url_for("admin_enrolments.index", **{**base, "unit": row[0]})
            elif fig.name in ("outcomes-by-assessor", "queue", "times-by-assessor") and (
                row[0] in ids
            ):
                fig.links[i] = url_for(
                    "admin_enrolments.index", **{**base, "assessor": ids[row[0]]}
                )
    return made


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """Each person's picture: a learner's units and progress, an assessor's learners, queue
    and decisions, and for an admin the RTO at a glance."""
    mine = (
        list_enrolments(db.session, learner=current_user)
        if current_user.has_role(Role.LEARNER)
        else []
    )
    assigned = []
    if current_user.has_role(Role.ASSESSOR):
        assigned = db.session.scalars(
            select(Enrolment)
            .where(Enrolment.assessor_id == current_user.id)
            .options(selectinload(Enrolment.learner), selectinload(Enrolment.unit_release))
            .order_by(Enrolment.id)
        ).all()
    settings = _settings()
    return render_template(
        "reports/dashboard.html",
        mine=mine,
        assigned=assigned,
        coverage=coverage(db.session, [*mine, *assigned]),
        standing=standings(
            db.session, mine, attempts_allowed=current_app.config["ATTEMPTS_ALLOWED"]
        ),
        progress=learner_figure(db.session, current_user) if mine else None,
        own=assessor_figures(db.session, current_user, **settings)
        if current_user.has_role(Role.ASSESSOR)
        else [],
        rto=_linked(admin_figures(db.session, Filters(), **settings), Filters())
        if current_user.has_role(Role.ADMIN)
        else [],
    )


def _filters() -> Filters:
    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    return Filters(
        unit_code=(request.args.get("unit") or "").strip().upper() or None,
        assessor_id=request.args.get("assessor", type=int),
        decided_from=day("from"),
        decided_to=day("to"),
        cohort_id=request.args.get("cohort", type=int),
    )


@bp.get("/admin/reports")
@login_required
def rto() -> str:
    """The RTO's figures, filtered by unit, assessor and period of decisions."""
    require(current_user, Action.EXPORT)
    filters = _filters()
    problem = None
    if filters.decided_from and filters.decided_to and filters.decided_from > filters.decided_to:
        problem = "The start of the period is after its end: showing every date."
        filters = Filters(filters.unit_code, filters.assessor_id, cohort_id=filters.cohort_id)
    return render_template(
        "reports/rto.html",
        figures=_linked(admin_figures(db.session, filters, **_settings()), filters),
        filters=filters,
        problem=problem,
        units=list(db.session.scalars(select(Unit.code).order_by(Unit.code))),
        assessors=sorted(active_with_role(db.session, Role.ASSESSOR), key=lambda u: u.name),
        cohorts=list(db.session.scalars(select(Cohort).order_by(Cohort.name))),
    )


def _send(fig: Figure | None, role: Role) -> Response:
    if fig is None:
        abort(404)
    commit_before_sending(
        lambda: record_export(
            db.session,
            actor=current_user,
            role=role,
            kind="report",
            description=f"Dashboard figure: {fig.title}",
            count=len(fig.rows),
        )
    )
    return send_download(
        figure_csv(fig).encode("utf-8"),
        name=f"{fig.name}-{today().isoformat()}.csv",
        mimetype=CSV.mime_type,
    )


@bp.post("/admin/reports/<name>.csv")
@login_required
def rto_csv(name: str) -> Response:
    """One of the RTO's figures, with the page's filters, as CSV."""
    require(current_user, Action.EXPORT)
    filters = _filters()
    return _send(pick(admin_figures(db.session, filters, **_settings()), name), Role.ADMIN)


@bp.post("/dashboard/<name>.csv")
@login_required
def own_csv(name: str) -> Response:
    """One of your own figures (your progress, your queue, your decisions) as CSV."""
    made: list[Figure] = []
    if current_user.has_role(Role.ASSESSOR):
        made += assessor_figures(db.session, current_user, **_settings())
    if current_user.has_role(Role.LEARNER):
        made.append(learner_figure(db.session, current_user))
    role = Role.ASSESSOR if current_user.has_role(Role.ASSESSOR) else Role.LEARNER
    return _send(pick(made, name), role)
