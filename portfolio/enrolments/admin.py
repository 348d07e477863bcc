"""Admin pages for enrolments: enrol a learner, assign an assessor, close, hold."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.auth.permissions import Action, require
from portfolio.auth.services import get_user
from portfolio.enrolments import closing, holds
from portfolio.enrolments.forms import (
    AssignAssessorForm,
    CreditTransferForm,
    EnrolForm,
    LiftHoldForm,
    PlaceHoldForm,
    WithdrawForm,
    assessor_choices,
    unit_choices,
)
from portfolio.enrolments.rules import CreditDocument
from portfolio.enrolments.services import (
    EnrolmentFilter,
    assign_assessor,
    enrol,
    enrolments_query,
    filtered,
)
from portfolio.extensions import db
from portfolio.files.uploads import store_sent_files
from portfolio.models import AssessmentState, Cohort, Enrolment, User
from portfolio.paging import paginate
from portfolio.saving import save

bp = Blueprint("admin_enrolments", __name__, url_prefix="/admin/enrolments")

PER_PAGE = 50


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_ENROLMENTS)


def _enrol_form() -> EnrolForm:
    form = EnrolForm()
    form.unit.choices = unit_choices()
    form.assessor.choices = assessor_choices()
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
                starts_on=form.starts_on.data,
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
    chosen = EnrolmentFilter(
        q=request.args.get("q", "").strip(),
        unit=request.args.get("unit", "").strip(),
        assessor=request.args.get("assessor", type=int),
        state=request.args.get("state", ""),
        cohort=request.args.get("cohort", type=int),
    )
    page = paginate(filtered(enrolments_query(), chosen), per_page=PER_PAGE)
    assign = AssignAssessorForm()
    assign.assessor.choices = form.assessor.choices
    held = holds.held_ids(db.session, [e.id for e in page.items])
    return render_template(
        "admin/enrolments.html",
        form=form,
        page=page,
        assign=assign,
        held=held,
        chosen=chosen,
        states=list(AssessmentState),
        cohorts=db.session.execute(select(Cohort.id, Cohort.name).order_by(Cohort.name)).all(),
    )


@bp.post("/<int:enrolment_id>/assessor")
def set_assessor(enrolment_id: int) -> Response:
    """Assign (or unassign) the enrolment's assessor."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    form = AssignAssessorForm()
    form.assessor.choices = assessor_choices()
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


def _closable(enrolment_id: int, action: Action) -> Enrolment:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    require(current_user, action, enrolment)
    return enrolment


def _close_page(enrolment: Enrolment, withdraw_form=None, credit_form=None) -> str:
    return render_template(
        "admin/close.html",
        e=enrolment,
        withdraw=withdraw_form or WithdrawForm(prefix="w"),
        credit=credit_form or CreditTransferForm(prefix="c"),
    )


@bp.get("/<int:enrolment_id>/close")
def close(enrolment_id: int) -> str:
    """Close an enrolment other than by a judgement: withdrawn, or a credit transfer."""
    return _close_page(_closable(enrolment_id, Action.WITHDRAW))


@bp.post("/<int:enrolment_id>/withdraw")
def withdraw(enrolment_id: int) -> str | Response:
    """The learner withdrew (AVETMISS 40)."""
    enrolment = _closable(enrolment_id, Action.WITHDRAW)
    form = WithdrawForm(prefix="w")
    if (
        form.validate_on_submit()
        and save(
            form,
            lambda: closing.withdraw(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                closed_on=form.closed_on.data,
                reason=form.reason.data or "",
            ),
        ).ok
    ):
        flash(f"{enrolment.learner.name} is withdrawn from {_unit(enrolment)}.", "success")
        return redirect(url_for(".index"))
    return _close_page(enrolment, withdraw_form=form)


@bp.post("/<int:enrolment_id>/credit-transfer")
def credit_transfer(enrolment_id: int) -> str | Response:
    """Credit for the unit on a verified transcript or AQF certificate (AVETMISS 60)."""
    enrolment = _closable(enrolment_id, Action.CREDIT_TRANSFER)
    form = CreditTransferForm(prefix="c")

    def record() -> object:
        files = store_sent_files(form.files.name)
        return closing.credit_transfer(
            db.session,
            actor=current_user,
            enrolment=enrolment,
            closed_on=form.closed_on.data,
            document=CreditDocument(
                form.issuing_rto.data or "",
                form.document_number.data or "",
                form.document_date.data,
            ),
            files=files,
            reason=form.reason.data or "",
        )

    if form.validate_on_submit() and save(form, record).ok:
        flash(
            f"Credit transfer recorded for {enrolment.learner.name}, {_unit(enrolment)}.", "success"
        )
        return redirect(url_for(".index"))
    return _close_page(enrolment, credit_form=form)


def _hold_page(enrolment: Enrolment, place=None, lift=None) -> str:
    return render_template(
        "admin/hold.html",
        e=enrolment,
        active=holds.active_hold(db.session, enrolment),
        history=holds.holds_of(db.session, enrolment),
        place=place or PlaceHoldForm(prefix="p"),
        lift=lift or LiftHoldForm(prefix="l"),
    )


@bp.get("/<int:enrolment_id>/hold")
def hold(enrolment_id: int) -> str:
    """Place or lift a legal hold: the enrolment is kept past its retention dates."""
    return _hold_page(_closable(enrolment_id, Action.LEGAL_HOLD))


@bp.post("/<int:enrolment_id>/hold")
def place_hold(enrolment_id: int) -> str | Response:
    enrolment = _closable(enrolment_id, Action.LEGAL_HOLD)
    form = PlaceHoldForm(prefix="p")
    if (
        form.validate_on_submit()
        and save(
            form,
            lambda: holds.place_hold(
                db.session, actor=current_user, enrolment=enrolment, reason=form.reason.data or ""
            ),
        ).ok
    ):
        flash(
            f"{enrolment.learner.name}'s {_unit(enrolment)} is on legal hold: the retention "
            "run keeps all of it until the hold is lifted.",
            "success",
        )
        return redirect(url_for(".hold", enrolment_id=enrolment.id))
    return _hold_page(enrolment, place=form)


@bp.post("/<int:enrolment_id>/hold/lift")
def lift_hold(enrolment_id: int) -> str | Response:
    enrolment = _closable(enrolment_id, Action.LEGAL_HOLD)
    form = LiftHoldForm(prefix="l")
    if (
        form.validate_on_submit()
        and save(
            form,
            lambda: holds.lift_hold(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                reason=form.lift_reason.data or "",
            ),
        ).ok
    ):
        flash(
            f"The legal hold on {enrolment.learner.name}'s {_unit(enrolment)} is lifted.",
            "success",
        )
        return redirect(url_for(".hold", enrolment_id=enrolment.id))
    return _hold_page(enrolment, lift=form)


def _unit(enrolment: Enrolment) -> str:
    return enrolment.unit_release.unit.code
