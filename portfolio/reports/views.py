"""The dashboards: each person's picture on their first page (My work), the admin's figures of
the whole RTO with filters, and every figure's table as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, load_only
from werkzeug.wrappers import Response

from portfolio.audit.exports import record_export
from portfolio.auth.permissions import Action, may, require
from portfolio.auth.services import active_with_role
from portfolio.clock import rto_zone, today
from portfolio.enrolments.progress import coverage, progress, standings, with_last_event
from portfolio.enrolments.services import enrolments_query
from portfolio.extensions import db
from portfolio.files.filetypes import CSV
from portfolio.files.serving import send_download
from portfolio.models import Cohort, Enrolment, Role, Unit, UnitRelease, User
from portfolio.paging import paginate
from portfolio.reports.dashboard import (
    admin_figures,
    admin_figures_kept,
    assessor_figures,
    figure_csv,
    learner_figures,
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
    for fig in made:
        for i, row in enumerate(fig.rows):
            if fig.name in ("states", "outcomes-by-unit"):
                fig.links[i] = url_for("admin_enrolments.index", **{**base, "unit": row[0]})
            elif fig.name in ("outcomes-by-assessor", "queue", "times-by-assessor") and (
                fig.keys[i] is not None
            ):
                fig.links[i] = url_for(
                    "admin_enrolments.index", **{**base, "assessor": fig.keys[i]}
                )
    return made


def _rto(filters: Filters, settings: dict, *, first_page: bool = False) -> dict:
    """The RTO's figures for an admin (kept for DASHBOARD_CACHE_SECONDS), with their links and
    when they were counted (on the first page, the assessors that stand out); nothing for
    anyone else."""
    if not current_user.has_role(Role.ADMIN):
        return {"rto": [], "counted_at": None}
    made, counted_at = admin_figures_kept(
        db.session,
        filters,
        seconds=int(current_app.config["DASHBOARD_CACHE_SECONDS"]),
        first_page=first_page,
        finish=lambda made: _linked(made, filters),
        **settings,
    )
    return {"rto": made, "counted_at": counted_at}


@cache
def _learners_own() -> Select[tuple[Enrolment]]:
    """A learner's (``learner_id``) enrolments, newest first, with learner, assessor and unit
    and each one's latest audit event (``with_last_event``) in the same row; built once."""
    return (
        enrolments_query()
        .where(Enrolment.learner_id == bindparam("learner_id"))
        .options(with_last_event())
    )


def _learners_picture(settings: dict) -> tuple[list[Enrolment], dict, dict, list[Figure]]:
    """The learner's own enrolments, their progress (kept while nothing about them changes),
    coverage counted from it, and figures; judgements only of the enrolments whose
    judgements the policy lets them see. Nothing for someone who is not a learner."""
    if not current_user.has_role(Role.LEARNER):
        return [], {}, {}, []
    mine = list(db.session.scalars(_learners_own(), {"learner_id": current_user.id}))
    found = progress(db.session, mine)
    covered = coverage(db.session, mine, found=found)
    judged = {e.id for e in mine if may(current_user, Action.SEE_JUDGEMENTS, e)}
    made = learner_figures(mine, covered, found, judged=judged, today=settings["today"])
    return mine, found, covered, made if mine else []


#: Learners assigned to an assessor, a page at a time on their dashboard.
ASSIGNED_PER_PAGE = 10


@cache
def _assigned() -> Select[tuple[Enrolment]]:
    """The enrolments assigned to an assessor (``assessor_id``), in order, with what the list
    shows (the learner's name, the unit's code) and each one's latest audit event (for its
    kept progress) in the same row; built once."""
    return (
        select(Enrolment)
        .where(Enrolment.assessor_id == bindparam("assessor_id"))
        .options(
            load_only(Enrolment.state, Enrolment.unit_release_id, Enrolment.attempt),
            with_last_event(),
            joinedload(Enrolment.learner).load_only(User.name).lazyload(User.role_rows),
            joinedload(Enrolment.unit_release)
            .load_only(UnitRelease.unit_id)
            .joinedload(UnitRelease.unit)
            .load_only(Unit.code),
        )
        .order_by(Enrolment.id)
    )


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """Each person's picture: a learner's units and progress, an assessor's learners, queue
    and decisions, and for an admin the RTO at a glance."""
    settings = _settings()
    mine, found, covered, progress_figures = _learners_picture(settings)
    assigned = None
    if current_user.has_role(Role.ASSESSOR):
        assigned = paginate(
            _assigned(),
            per_page=ASSIGNED_PER_PAGE,
            params={"assessor_id": current_user.id},
            counted_with_page=True,
        )
    if assigned is not None:
        theirs = progress(db.session, assigned.items)
        covered = {**covered, **coverage(db.session, assigned.items, found=theirs)}
    return render_template(
        "reports/dashboard.html",
        mine=mine,
        assigned=assigned,
        coverage=covered,
        standing=standings(mine, found, attempts_allowed=current_app.config["ATTEMPTS_ALLOWED"]),
        progress=progress_figures,
        own=assessor_figures(db.session, current_user, **settings)
        if current_user.has_role(Role.ASSESSOR)
        else [],
        **_rto(Filters(), settings, first_page=True),
    )


@dataclass
class Choices:
    """What the filters may name, and the filters as asked, each value checked against them;
    ``problems`` says in words which were set aside."""

    units: list[str]
    assessors: list[User]
    cohorts: list[Cohort]
    filters: Filters
    problems: list[str]


def _filters() -> Choices:
    """The page's filters from its address, each checked: an unknown unit, assessor or cohort,
    a date that is not one, or a period that ends before it starts is set aside, and said."""
    units = list(db.session.scalars(select(Unit.code).order_by(Unit.code)))
    assessors = sorted(active_with_role(db.session, Role.ASSESSOR), key=lambda u: u.name)
    cohorts = list(db.session.scalars(select(Cohort).order_by(Cohort.name)))
    problems = []
    args = request.args

    def day(name: str, words: str) -> date | None:
        value = args.get(name, "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(f"{value!r} is not a date (decided {words}): set aside.")
            return None

    unit = (args.get("unit") or "").strip().upper() or None
    if unit and unit not in units:
        problems.append(f"No unit has the code {unit}: showing every unit.")
        unit = None
    assessor = args.get("assessor", "").strip() or None
    assessor_id = None
    if assessor:
        assessor_id = next((a.id for a in assessors if str(a.id) == assessor), None)
        if assessor_id is None:
            problems.append("That assessor is not one of the RTO's active assessors: showing all.")
    cohort = args.get("cohort", "").strip() or None
    cohort_id = None
    if cohort:
        cohort_id = next((c.id for c in cohorts if str(c.id) == cohort), None)
        if cohort_id is None:
            problems.append("No such cohort: showing every learner.")
    frm, to = day("from", "from"), day("to", "until")
    if frm and to and frm > to:
        problems.append("The start of the period is after its end: showing every date.")
        frm = to = None
    return Choices(
        units, assessors, cohorts, Filters(unit, assessor_id, frm, to, cohort_id), problems
    )


@bp.get("/admin/reports")
@login_required
def rto() -> str:
    """The RTO's figures, filtered by unit, assessor, cohort and period of decisions."""
    require(current_user, Action.EXPORT)
    chosen = _filters()
    kept = _rto(chosen.filters, _settings())
    return render_template(
        "reports/rto.html",
        figures=kept["rto"],
        counted_at=kept["counted_at"],
        filters=chosen.filters,
        problems=chosen.problems,
        units=chosen.units,
        assessors=chosen.assessors,
        cohorts=chosen.cohorts,
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
        ("\ufeff" + figure_csv(fig)).encode("utf-8"),  # the BOM: Excel reads UTF-8
        name=f"{fig.name}-{today().isoformat()}.csv",
        mimetype=CSV.mime_type,
    )


@bp.post("/admin/reports/<name>.csv")
@login_required
def rto_csv(name: str) -> Response:
    """One of the RTO's figures, with the page's filters, as CSV."""
    require(current_user, Action.EXPORT)
    chosen = _filters()
    if chosen.problems:
        abort(400, description=" ".join(chosen.problems))
    return _send(pick(admin_figures(db.session, chosen.filters, **_settings()), name), Role.ADMIN)


@bp.post("/dashboard/<name>.csv")
@login_required
def own_csv(name: str) -> Response:
    """One of your own figures (your progress, your queue, your decisions) as CSV."""
    made: list[Figure] = []
    settings = _settings()
    if current_user.has_role(Role.ASSESSOR):
        made += assessor_figures(db.session, current_user, **settings)
    made += _learners_picture(settings)[3]
    role = Role.ASSESSOR if current_user.has_role(Role.ASSESSOR) else Role.LEARNER
    return _send(pick(made, name), role)
