"""Admin pages for cohorts: create one, add and remove learners, enrol them all into units."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from portfolio.auth.forms import ConfirmForm
from portfolio.auth.permissions import Action, require
from portfolio.auth.services import person_matches
from portfolio.cohorts.forms import AddMembersForm, CohortForm, EnrolCohortForm
from portfolio.cohorts.services import (
    add_members,
    create_cohort,
    enrol_cohort,
    keys_from,
    remove_member,
)
from portfolio.enrolments.forms import assessor_choices, unit_choices
from portfolio.extensions import db
from portfolio.models import Cohort, CohortMember, User
from portfolio.paging import paginate
from portfolio.saving import save

bp = Blueprint("admin_cohorts", __name__, url_prefix="/admin/cohorts")

PER_PAGE = 100


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_ENROLMENTS)


@bp.route("", methods=["GET", "POST"])
def index() -> str | Response:
    """Every cohort with its size, and the form to make one."""
    form = CohortForm()
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: create_cohort(
                db.session,
                actor=current_user,
                name=form.name.data or "",
                description=form.description.data or "",
            ),
        )
        if saved.ok and saved.value is not None:
            flash(f"Created the cohort {saved.value.name}. Add its learners.", "success")
            return redirect(url_for(".show", cohort_id=saved.value.id))
    sizes = (
        select(CohortMember.cohort_id, func.count().label("size"))
        .group_by(CohortMember.cohort_id)
        .subquery()
    )
    cohorts = db.session.execute(
        select(Cohort, func.coalesce(sizes.c.size, 0))
        .outerjoin(sizes, sizes.c.cohort_id == Cohort.id)
        .order_by(Cohort.name)
    ).all()
    return render_template("admin/cohorts.html", form=form, cohorts=cohorts)


def _enrol_form() -> EnrolCohortForm:
    form = EnrolCohortForm(prefix="e")
    form.units.choices = unit_choices()
    form.assessor.choices = assessor_choices()
    return form


def _page(cohort: Cohort, add: AddMembersForm, enrol: EnrolCohortForm, result=None) -> str:
    q = request.args.get("q", "").strip()
    query = (
        select(User)
        .join(CohortMember, CohortMember.user_id == User.id)
        .where(CohortMember.cohort_id == cohort.id)
        .order_by(User.name, User.id)
    )
    if q:
        query = query.where(person_matches(q))
    page = paginate(query, per_page=PER_PAGE)
    return render_template(
        "admin/cohort.html",
        cohort=cohort,
        page=page,
        q=q,
        add=add,
        enrol=enrol,
        result=result,
        confirm=ConfirmForm(),
    )


@bp.get("/<int:cohort_id>")
def show(cohort_id: int) -> str:
    cohort = db.get_or_404(Cohort, cohort_id)
    return _page(cohort, AddMembersForm(prefix="a"), _enrol_form())


@bp.post("/<int:cohort_id>/members")
def members(cohort_id: int) -> str | Response:
    """Add learners by email or student ID: all of them, or none if any is unknown."""
    cohort = db.get_or_404(Cohort, cohort_id)
    form = AddMembersForm(prefix="a")
    if form.validate_on_submit():
        keys = keys_from(form.members.data or "")
        saved = save(
            form,
            lambda: add_members(db.session, actor=current_user, cohort=cohort, keys=keys),
        )
        if saved.ok and saved.value is not None:
            added = len(saved.value)
            flash(
                f"Added {added} learner{'s' if added != 1 else ''} to {cohort.name}"
                + ("." if added == len(set(keys)) else "; the others were in it already."),
                "success",
            )
            return redirect(url_for(".show", cohort_id=cohort.id))
    return _page(cohort, form, _enrol_form())


@bp.post("/<int:cohort_id>/members/<int:user_id>/remove")
def remove(cohort_id: int, user_id: int) -> Response:
    cohort = db.get_or_404(Cohort, cohort_id)
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
    elif save(
        None, lambda: remove_member(db.session, actor=current_user, cohort=cohort, user=user)
    ).ok:
        flash(f"{user.name} is no longer in {cohort.name}; their enrolments stay.", "success")
    return redirect(url_for(".show", cohort_id=cohort.id))


@bp.post("/<int:cohort_id>/enrol")
def enrol(cohort_id: int) -> str | Response:
    """Enrol every learner of the cohort in the chosen units, with an assessor."""
    cohort = db.get_or_404(Cohort, cohort_id)
    form = _enrol_form()
    if form.validate_on_submit():
        assessor = db.session.get(User, form.assessor.data) if form.assessor.data else None
        saved = save(
            form,
            lambda: enrol_cohort(
                db.session,
                actor=current_user,
                cohort=cohort,
                unit_codes=form.units.data or [],
                assessor=assessor,
                is_rpl=form.is_rpl.data,
                starts_on=form.starts_on.data,
            ),
        )
        if saved.ok and saved.value is not None:
            return _page(cohort, AddMembersForm(prefix="a"), _enrol_form(), saved.value)
    return _page(cohort, AddMembersForm(prefix="a"), form)
