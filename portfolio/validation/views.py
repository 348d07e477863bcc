"""Validation pages: admins keep the risk reasons and each unit's plan, draw samples, open
actions and complete validations; validators review each sampled enrolment read-only and
record their findings and their review of the assessment tool."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from portfolio.assessment.loading import review_of
from portfolio.assessment.review import handed_in
from portfolio.audit.exports import record_export
from portfolio.auth.permissions import Action, require
from portfolio.auth.services import active_with_role
from portfolio.clock import today
from portfolio.errors import ServiceError
from portfolio.exports.bundle import Selection
from portfolio.exports.jobs import start_bundle
from portfolio.exports.letterhead import Letterhead
from portfolio.extensions import db
from portfolio.files.filetypes import DOCX
from portfolio.files.serving import send_download, send_stored
from portfolio.models import (
    EvidenceFile,
    RiskReason,
    Role,
    Unit,
    User,
    Validation,
    ValidationAction,
    ValidationSample,
)
from portfolio.rendering import render_markdown
from portfolio.saving import commit_before_sending, save
from portfolio.text import count
from portfolio.validation import rules, services
from portfolio.validation.forms import (
    ActionForm,
    CloseForm,
    ConfirmForm,
    DrawForm,
    FindingsForm,
    PlanForm,
    ReasonForm,
    RetireForm,
    ToolForm,
)
from portfolio.validation.report import BUILD, build_report, report_data

bp = Blueprint("validation", __name__)

EXPIRED = "The form had expired; nothing was changed. Please try again."


def _admin() -> None:
    require(current_user, Action.MANAGE_VALIDATION)


def _seen(validation_id: int) -> Validation:
    """A validation its validators and admins see; to anyone else it does not exist."""
    require(current_user, Action.VALIDATE)
    validation = db.get_or_404(Validation, validation_id)
    if not (current_user.has_role(Role.ADMIN) or services.is_validator(validation, current_user)):
        abort(404)
    return validation


def _validator(validation: Validation) -> None:
    """Findings and the tool review are the named validators' own: an admin reads them."""
    if not services.is_validator(validation, current_user):
        abort(403)


def _sample(validation_id: int, sample_id: int) -> ValidationSample:
    validation = _seen(validation_id)
    sample = db.get_or_404(ValidationSample, sample_id)
    if sample.validation_id != validation.id:
        abort(404)
    return sample


# -- Admins: reasons, plans, draws ----------------------------------------------------------------


@bp.get("/admin/validation")
@login_required
def index() -> str:
    """Every unit's plan, when it was last validated and when it is next due; the reasons."""
    _admin()
    return render_template(
        "validation/index.html",
        rows=services.plans(db.session),
        reasons=services.risk_reasons(db.session),
        reason_form=ReasonForm(),
        retire=RetireForm(),
        rules=rules,
        usual=rules.DEFAULT_REASONS,
    )


@bp.post("/admin/validation/reasons")
@login_required
def add_reason() -> Response:
    """Add a reason to the RTO's list of risk reasons."""
    _admin()
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
    elif request.form.get("usual"):
        added = save(None, lambda: services.add_usual_reasons(db.session, actor=current_user))
        if added.ok:
            flash(f"Added {count(len(added.value), 'usual reason')} to the list.", "success")
    else:
        label = form.label.data or ""
        saved = save(form, lambda: services.add_reason(db.session, actor=current_user, label=label))
        if saved.ok:
            flash(f"Added to the risk reasons: {saved.value.label}.", "success")
        else:
            flash(form.label.errors[-1], "error")
    return redirect(url_for(".index"))


@bp.post("/admin/validation/reasons/<int:reason_id>/retire")
@login_required
def retire_reason(reason_id: int) -> Response:
    """Take a reason off the list; plans that chose it keep its words."""
    _admin()
    reason = db.get_or_404(RiskReason, reason_id)
    if not RetireForm().validate_on_submit():
        flash(EXPIRED, "error")
    elif save(
        None, lambda: services.retire_reason(db.session, actor=current_user, reason=reason)
    ).ok:
        flash(f"Taken off the list: {reason.label}.", "success")
    return redirect(url_for(".index"))


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.upper()))
    if unit is None:
        abort(404)
    return unit


@bp.route("/admin/validation/<code>/plan", methods=["GET", "POST"])
@login_required
def plan(code: str) -> str | Response:
    """A unit's validation plan: the risk rating, the reasons for it, and what they set."""
    _admin()
    unit = _unit(code)
    kept = services.plan_of(db.session, unit)
    form = PlanForm(obj=kept if request.method == "GET" else None)
    offered = [r.label for r in services.risk_reasons(db.session)]
    form.reasons.choices = [(label, label) for label in offered]
    if request.method == "GET" and kept is not None:
        form.risk.data = kept.risk.value
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: services.save_plan(
                db.session,
                actor=current_user,
                unit=unit,
                risk=form.risk.data,
                reasons=form.reasons.data or [],
                notes=form.notes.data or "",
            ),
        )
        if saved.ok:
            flash(f"Saved the validation plan of {unit.code}.", "success")
            return redirect(url_for(".index"))
    elif request.method == "POST":
        flash(EXPIRED, "error")
    return render_template("validation/plan.html", unit=unit, plan=kept, form=form, rules=rules)


@bp.route("/admin/validation/<code>/draw", methods=["GET", "POST"])
@login_required
def draw(code: str) -> str | Response:
    """Draw a sample of the unit's decided enrolments for a validation, naming the validators."""
    _admin()
    unit = _unit(code)
    kept = services.plan_of(db.session, unit)
    if kept is None:
        flash(f"Rate {unit.code}'s validation risk first: the plan sets the sample size.", "error")
        return redirect(url_for(".plan", code=unit.code))
    form = DrawForm()
    validators = services.possible_validators(db.session)
    form.validators.choices = [(u.id, u.name) for u in validators]
    if request.method == "GET":
        form.decided_to.data = form.decided_to.data or today()
        form.decided_from.data = form.decided_from.data or today() - timedelta(days=365)
    counted = None
    if form.decided_from.data and form.decided_to.data:
        try:
            counted = services.population(
                db.session, unit, form.decided_from.data, form.decided_to.data
            )
        except ServiceError:
            counted = None
    size_rule = rules.SIZE_RULES[kept.risk]
    drawing = request.method == "POST" and not request.form.get("count")
    if counted is not None and not drawing:
        # The rule's size for the period; "Count them" only counts, nothing is drawn.
        form.size.data = size_rule.size(len(counted))
    if drawing and form.validate_on_submit():
        saved = save(
            form,
            lambda: services.draw_sample(
                db.session,
                actor=current_user,
                plan=kept,
                decided_from=form.decided_from.data,
                decided_to=form.decided_to.data,
                size=form.size.data,
                validator_ids=form.validators.data or [],
            ),
        )
        if saved.ok:
            flash(f"Drew {len(saved.value.samples)} enrolments for validation.", "success")
            return redirect(url_for(".validation", validation_id=saved.value.id))
    elif drawing and "csrf_token" in form.errors:
        flash(EXPIRED, "error")
    tae = services.holds_tae(db.session, [u.id for u in validators])
    return render_template(
        "validation/draw.html",
        unit=unit,
        plan=kept,
        form=form,
        counted=counted,
        size_rule=size_rule,
        validators=validators,
        tae=tae,
    )


# -- A validation ---------------------------------------------------------------------------------


@bp.get("/validations")
@login_required
def mine() -> str:
    """The validations a person validates, and the actions they own."""
    require(current_user, Action.VALIDATE)
    owned = db.session.scalars(
        select(ValidationAction)
        .where(ValidationAction.owner_id == current_user.id)
        .order_by(ValidationAction.closed_at.is_not(None), ValidationAction.due_on)
    ).all()
    return render_template(
        "validation/mine.html",
        validations=services.validations_of(db.session, current_user),
        owned=owned,
        close=CloseForm(),
    )


@bp.get("/validations/<int:validation_id>")
@login_required
def validation(validation_id: int) -> str:
    """A validation: its draw, the sample with each enrolment's progress, the tool review,
    actions, and the report and bundle."""
    v = _seen(validation_id)
    data = report_data(db.session, v.id)
    counts = {e: len(t) for e, t in data.targets.items()}
    tool = ToolForm(
        data={
            "consistent": _yes_no(v.tool_consistent),
            "sufficient": _yes_no(v.tool_sufficient),
            "valid": _yes_no(v.tool_valid),
            "note": v.tool_note,
        }
    )
    action = ActionForm()
    action.owner.choices = _owners()
    return render_template(
        "validation/validation.html",
        v=v,
        data=data,
        counts=counts,
        same=services.redraw(v) == [s.enrolment_id for s in v.samples],
        missing=services.missing_for_completion(v, counts),
        is_validator=services.is_validator(v, current_user),
        is_admin=current_user.has_role(Role.ADMIN),
        tool=tool,
        questions=rules.TOOL_QUESTIONS,
        action=action,
        close=CloseForm(),
        confirm=ConfirmForm(),
    )


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _owners() -> list[tuple[int, str]]:
    """The staff an action can be given to: active admins and assessors (not every account:
    learners are most of them)."""
    staff = {
        u.id: u for role in (Role.ADMIN, Role.ASSESSOR) for u in active_with_role(db.session, role)
    }
    return [(u.id, u.name) for u in sorted(staff.values(), key=lambda u: (u.name, u.id))]


def _answer(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.post("/validations/<int:validation_id>/tool")
@login_required
def tool(validation_id: int) -> str | Response:
    """A validator's review of the assessment tool."""
    v = _seen(validation_id)
    _validator(v)
    form = ToolForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
    else:
        answers = {name: _answer(getattr(form, name).data) for name in rules.TOOL_QUESTIONS}
        saved = save(
            form,
            lambda: services.review_tool(
                db.session,
                actor=current_user,
                validation=v,
                answers=answers,
                note=form.note.data or "",
            ),
        )
        if saved.ok:
            flash("Recorded the review of the assessment tool.", "success")
        else:
            flash(_first_error(form), "error")
    return redirect(url_for(".validation", validation_id=v.id, _anchor="tool"))


def _first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return errors[-1] if isinstance(errors[-1], str) else str(errors[-1])
    return "Nothing was recorded."


@bp.post("/validations/<int:validation_id>/actions")
@login_required
def open_action(validation_id: int) -> Response:
    """Turn a finding into an action: what, who, by when."""
    v = _seen(validation_id)
    _admin()
    form = ActionForm()
    form.owner.choices = _owners()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
    else:
        owner = db.session.get(User, form.owner.data) if form.owner.data else None
        saved = save(
            form,
            lambda: services.open_action(
                db.session,
                actor=current_user,
                validation=v,
                what=form.what.data or "",
                owner=owner,
                due_on=form.due_on.data,
            ),
        )
        if saved.ok:
            flash(f"Opened an action for {saved.value.owner.name}.", "success")
        else:
            flash(_first_error(form), "error")
    return redirect(url_for(".validation", validation_id=v.id, _anchor="actions"))


@bp.post("/validation-actions/<int:action_id>/close")
@login_required
def close_action(action_id: int) -> Response:
    """Close an action with what was changed (its owner or an admin)."""
    require(current_user, Action.VALIDATE)
    action = db.get_or_404(ValidationAction, action_id)
    if not (current_user.has_role(Role.ADMIN) or action.owner_id == current_user.id):
        abort(404)
    form = CloseForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
    else:
        saved = save(
            form,
            lambda: services.close_action(
                db.session, actor=current_user, action=action, changed=form.changed.data or ""
            ),
        )
        if saved.ok:
            flash("Closed the action.", "success")
        else:
            flash(_first_error(form), "error")
    if current_user.has_role(Role.ADMIN):
        return redirect(
            url_for(".validation", validation_id=action.validation_id, _anchor="actions")
        )
    return redirect(url_for(".mine"))


@bp.post("/validations/<int:validation_id>/complete")
@login_required
def complete(validation_id: int) -> Response:
    """Complete the validation once every sampled enrolment and the tool are reviewed."""
    v = _seen(validation_id)
    _admin()
    if not ConfirmForm().validate_on_submit():
        flash(EXPIRED, "error")
    else:
        counts = services.criteria_counts(db.session, v)
        saved = save(
            None,
            lambda: services.complete(db.session, actor=current_user, validation=v, targets=counts),
        )
        if saved.ok:
            flash("The validation is complete.", "success")
    return redirect(url_for(".validation", validation_id=v.id))


# -- A sampled enrolment --------------------------------------------------------------------------


@bp.route("/validations/<int:validation_id>/samples/<int:sample_id>", methods=["GET", "POST"])
@login_required
def sample(validation_id: int, sample_id: int) -> str | Response:
    """A sampled enrolment read-only: each criterion with its evidence and the assessor's
    judgement, and the validator's agree / disagree with a note."""
    chosen = _sample(validation_id, sample_id)
    v = chosen.validation
    view = review_of(chosen.enrolment)
    targets = [(t.id, t.ref) for t in view.targets]
    form = FindingsForm()
    sent: dict[int, tuple[bool | None, str]] = {}
    if request.method == "POST":
        _validator(v)
        sent = {
            t: (_answer(request.form.get(f"agree-{t}")), request.form.get(f"note-{t}", ""))
            for t, _ in targets
        }
        if not form.validate_on_submit():
            flash(EXPIRED, "error")
        else:
            saved = save(
                form,
                lambda: services.record_findings(
                    db.session, actor=current_user, sample=chosen, targets=targets, answers=sent
                ),
            )
            if saved.ok:
                flash(f"Recorded your findings on enrolment {chosen.enrolment_id}.", "success")
                return redirect(url_for(".validation", validation_id=v.id))
            flash(_first_error(form), "error")
    conflict = None
    if services.is_validator(v, current_user):
        try:
            services.check_independent(db.session, current_user, chosen)
        except ServiceError as error:
            conflict = error.message
    kept = {f.target_id: f for f in chosen.findings}
    return render_template(
        "validation/sample.html",
        v=v,
        sample=chosen,
        view=view,
        kept=kept,
        sent=sent,
        form=form,
        may_record=services.is_validator(v, current_user) and not conflict and not v.completed_at,
        conflict=conflict,
        descriptions={s.version.id: render_markdown(s.version.description) for s in view.items},
    )


@bp.get("/validations/<int:validation_id>/samples/<int:sample_id>/files/<int:file_id>")
@login_required
def sample_file(validation_id: int, sample_id: int, file_id: int) -> Response:
    """An evidence file of a sampled enrolment, for its validators."""
    chosen = _sample(validation_id, sample_id)
    stored = db.get_or_404(EvidenceFile, file_id)
    if stored.version_id not in handed_in(review_of(chosen.enrolment)):
        abort(404)
    return send_stored(stored, inline=True)


# -- The report and the bundle --------------------------------------------------------------------


@bp.post("/validations/<int:validation_id>/report.docx")
@login_required
def report(validation_id: int) -> Response:
    """The validation report as a Word document."""
    v = _seen(validation_id)
    data = report_data(db.session, v.id)
    buffer = io.BytesIO()
    build_report(data, letterhead=Letterhead.from_config(current_app.config)).save(buffer)
    commit_before_sending(
        lambda: record_export(
            db.session,
            actor=current_user,
            role=Role.ADMIN if current_user.has_role(Role.ADMIN) else Role.ASSESSOR,
            kind="validation-report",
            description=f"Validation report {v.id}: {data.unit.code}",
            count=1,
        )
    )
    return send_download(
        buffer.getvalue(),
        name=f"validation-report-{data.unit.code}-{v.id}.docx",
        mimetype=DOCX.mime_type,
    )


@bp.post("/validations/<int:validation_id>/bundle")
@login_required
def bundle(validation_id: int) -> Response:
    """Build the validation bundle for the auditor (in the background, like an audit bundle)."""
    v = _seen(validation_id)
    _admin()
    if not ConfirmForm().validate_on_submit():
        flash(EXPIRED, "error")
        return redirect(url_for(".validation", validation_id=v.id))
    selection = Selection(enrolment_ids=[s.enrolment_id for s in v.samples], validation_id=v.id)
    try:
        job_id = start_bundle(
            current_app._get_current_object(), selection, current_user, task=BUILD
        )
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for(".validation", validation_id=v.id))
    return redirect(url_for("exports.progress", job_id=job_id))
