"""Admin pages for enrolments: enrol a learner, assign an assessor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from portfolio.auth.permissions import Action, require
from portfolio.auth.services import get_user
from portfolio.enrolments.forms import AssignAssessorForm, EnrolForm
from portfolio.enrolments.services import assign_assessor, enrol, enrolments_query
from portfolio.extensions import db
from portfolio.models import Enrolment, Role, Unit, User, UserRole
from portfolio.saving import save

bp = Blueprint("admin_enrolments", __name__, url_prefix="/admin/enrolments")

PER_PAGE = 50


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_ENROLMENTS)


def _assessor_choices() -> list[SelectChoice]:
    assessors = db.session.scalars(
        select(User)
        .join(UserRole)
        .where(UserRole.role == Role.ASSESSOR, User.active.is_(True))
        .order_by(User.name)
    )
    return [SelectChoice("0", "Not assigned yet")] + [
        SelectChoice(str(a.id), f"{a.name} ({a.email})") for a in assessors
    ]


def _enrol_form() -> EnrolForm:
    form = EnrolForm()
    codes = db.session.scalars(select(Unit.code).order_by(Unit.code))
    form.unit.choices = [SelectChoice(code) for code in codes]
    form.assessor.choices = _assessor_choices()
    return form


@bp.route("", methods=["GET", "POST"])
def index() -> str | Response:
    """Enrolments a page at a time, with the form to enrol a learner."""
    form = _enrol_form()
    if form.validate_on_submit():

        def add() -> Enrolment:
            assessor = db.session.get(User, form.assessor.data) if form.assessor.data else None
            return enrol(
                db.session,
                actor=current_user,
                learner=get_user(db.session, form.learner.data or "", "learner"),
                unit_code=form.unit.data or "",
                is_rpl=form.is_rpl.data,
                assessor=assessor,
            )

        saved = save(form, add)
        if saved.ok:
            enrolment = saved.value
            release = enrolment.unit_release
            flash(
                f"Enrolled {enrolment.learner.name} in {release.unit.code} release "
                f"{release.release}.",
                "success",
            )
            return redirect(url_for(".index"))
    page = db.paginate(enrolments_query(), per_page=PER_PAGE, error_out=False)
    assign = AssignAssessorForm()
    assign.assessor.choices = form.assessor.choices
    return render_template("admin/enrolments.html", form=form, page=page, assign=assign)


@bp.post("/<int:enrolment_id>/assessor")
def set_assessor(enrolment_id: int) -> Response:
    """Assign (or unassign) the enrolment's assessor."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    form = AssignAssessorForm()
    form.assessor.choices = _assessor_choices()
    if not form.validate_on_submit():
        flash("That assessor cannot be chosen, or the form had expired; please try again.", "error")
        return redirect(url_for(".index"))
    assessor = db.session.get(User, form.assessor.data) if form.assessor.data else None
    if save(
        None,
        lambda: assign_assessor(
            db.session, actor=current_user, enrolment=enrolment, assessor=assessor
        ),
    ).ok:
        who = assessor.name if assessor else "nobody"
        flash(
            f"{enrolment.learner.name}'s {enrolment.unit_release.unit.code} is assigned to {who}.",
            "success",
        )
    return redirect(url_for(".index"))
