"""Observation checklists and question banks: a unit release's list, the editor, and the
page an assessor fills in during an observation or a conversation (a phone is enough)."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import Field

from portfolio.assessment import templates
from portfolio.assessment.loading import enrolment_or_404, review_of
from portfolio.assessment.review import ReviewView
from portfolio.assessment.review_forms import ActionForm, FillTemplateForm, TemplateForm
from portfolio.assessment.templates import (
    CHANGED_WHILE_EDITING,
    CHANGED_WHILE_FILLING,
    Filled,
)
from portfolio.auth.permissions import Action, check_state, require
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.files.uploads import store_sent_files
from portfolio.models import (
    AssessmentTemplate,
    TemplateItem,
    TemplateKind,
    UnitRelease,
)
from portfolio.saving import save
from portfolio.units.services import get_release

bp = Blueprint("assessment_templates", __name__)


def _release(code: str, release: int) -> UnitRelease:
    require(current_user, Action.MANAGE_TEMPLATES)
    found = get_release(db.session, code, release)
    if found is None:
        abort(404, description=f"There is no unit {code} release {release}.")
    return found


def _template(template_id: int) -> AssessmentTemplate:
    require(current_user, Action.MANAGE_TEMPLATES)
    return db.get_or_404(
        AssessmentTemplate,
        template_id,
        options=[selectinload(AssessmentTemplate.items).joinedload(TemplateItem.target)],
    )


def _lines(release: UnitRelease) -> dict[int, list[str]]:
    """The editor's boxes as sent: one per criterion, one item per line."""
    return {
        target.id: request.form.get(f"lines-{target.id}", "").splitlines()
        for target in templates.criteria(release)
    }


def _list(release: UnitRelease) -> Response:
    return redirect(url_for(".index", code=release.unit.code, release=release.release))


@bp.get("/units/<code>/releases/<int:release>/templates")
@login_required
def index(code: str, release: int) -> str:
    """A unit release's observation checklists and question banks."""
    found = _release(code, release)
    return render_template(
        "assessment_templates/index.html",
        release=found,
        summaries=templates.templates_of(db.session, found.id),
        kinds=list(TemplateKind),
        action=ActionForm(),
    )


@bp.route("/units/<code>/releases/<int:release>/templates/new", methods=["GET", "POST"])
@login_required
def new(code: str, release: int) -> str | Response:
    """A new checklist (starting from the unit's criteria) or question bank."""
    found = _release(code, release)
    try:
        kind = TemplateKind(request.values.get("kind", ""))
    except ValueError:
        abort(404, description="Choose an observation checklist or a question bank.")
    form = TemplateForm()
    targets = templates.criteria(found)
    lines = templates.starting_lines(kind, targets)
    if request.method == "POST":
        lines = _lines(found)
        if form.validate_on_submit():
            saved = save(
                form,
                lambda: templates.create_template(
                    db.session,
                    actor=current_user,
                    release=found,
                    kind=kind,
                    title=form.title.data or "",
                    lines=lines,
                ),
            )
            if saved.ok:
                flash(f"{kind.label} “{saved.value.title}” is saved.", "success")
                return _list(found)
    elif not form.title.data:
        form.title.data = f"{found.unit.code} {kind.label.lower()}"
    return _editor(found, kind, form, lines)


def _editor(
    release: UnitRelease,
    kind: TemplateKind,
    form: TemplateForm,
    lines: Mapping[int, list[str]],
    template: AssessmentTemplate | None = None,
) -> str:
    return render_template(
        "assessment_templates/edit.html",
        release=release,
        kind=kind,
        form=form,
        targets=templates.criteria(release),
        lines=lines,
        template=template,
    )


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@login_required
def edit(template_id: int) -> str | Response:
    """Change a template's title and items; records already made with it stay as they were."""
    template = _template(template_id)
    release = template.unit_release
    if template.archived_at is not None:
        abort(404, description="That template is archived.")
    form = TemplateForm(data={"title": template.title, "seen": template.lock_version})
    lines = templates.lines_of(template)
    if request.method == "POST":
        lines = _lines(release)
        if form.validate_on_submit() and _still_at(form.seen, template, CHANGED_WHILE_EDITING):
            saved = save(
                form,
                lambda: templates.change_template(
                    db.session,
                    actor=current_user,
                    template=template,
                    title=form.title.data or "",
                    lines=lines,
                    seen_version=form.seen.data or 0,
                ),
                conflict=templates.CHANGED_WHILE_EDITING,
            )
            if saved.ok:
                flash(f"“{template.title}” is saved.", "success")
                return _list(release)
    return _editor(release, template.kind, form, lines, template)


@bp.post("/templates/<int:template_id>/archive")
@login_required
def archive(template_id: int) -> Response:
    """Stop offering a template; the records made with it keep their own copy of it."""
    template = _template(template_id)
    form = ActionForm()
    if form.validate_on_submit():
        if save(
            None,
            lambda: templates.archive_template(
                db.session,
                actor=current_user,
                template=template,
                seen_version=request.form.get("seen", 0, type=int),
            ),
        ).ok:
            flash(f"“{template.title}” is archived.", "success")
    else:
        flash("The form had expired; nothing was changed. Please try again.", "error")
    return _list(template.unit_release)


@bp.route(
    "/enrolments/<int:enrolment_id>/review/templates/<int:template_id>",
    methods=["GET", "POST"],
)
@login_required
def fill(enrolment_id: int, template_id: int) -> str | Response | tuple[str, int]:
    """Fill in a checklist during an observation, or ask questions from a bank; saved as one
    sign-off record for the criteria it showed."""
    enrolment = enrolment_or_404(enrolment_id, Action.SIGN_OFF)
    template = db.get_or_404(
        AssessmentTemplate,
        template_id,
        options=[selectinload(AssessmentTemplate.items)],
    )
    back = url_for("review.review", enrolment_id=enrolment.id)
    try:
        check_state(Action.SIGN_OFF, enrolment)
        templates.check_usable(template, enrolment)
    except ServiceError as refused:
        flash(refused.message, "error")
        return redirect(back)
    view = review_of(enrolment)
    form = FillTemplateForm(data={"version": template.lock_version})
    sent = request.form
    filled = {
        item.id: Filled(
            seen=bool(sent.get(f"seen-{item.id}")), note=sent.get(f"note-{item.id}", "")
        )
        for item in template.items
    }
    if request.method == "POST":
        if not form.validate_on_submit() or not _still_at(
            form.version, template, CHANGED_WHILE_FILLING
        ):
            return _fill_page(view, template, form, filled), 400
        saved = save(
            form,
            lambda: templates.record_with_template(
                db.session,
                actor=current_user,
                view=view,
                template=template,
                seen_version=form.version.data or 0,
                filled=filled,
                held_on=form.held_on.data,
                notes=form.notes.data or "",
                files=store_sent_files(form.files.name),
                judge_satisfactory=bool(form.judge.data),
            ),
        )
        if not saved.ok:
            return _fill_page(review_of(enrolment), template, form, filled), 400
        refs = [signoff.target.ref for signoff in saved.value.signoffs]
        judged = " and judged satisfactory" if form.judge.data else ""
        flash(
            f"{template.kind.method.label} recorded: {', '.join(refs)} signed off{judged}.",
            "success",
        )
        if saved.value.partly_seen:
            flash(
                "Not signed off, as only some of their items were seen: "
                + ", ".join(target.ref for target in saved.value.partly_seen)
                + ".",
                "warning",
            )
        return redirect(back)
    return _fill_page(view, template, form, filled)


def _still_at(field: Field, template: AssessmentTemplate, changed: str) -> bool:
    """Whether the form was opened at the template's version now. If not, say so and point
    the form at the version now, so that saving again (after a look) keeps what was typed."""
    if field.data == template.lock_version:
        return True
    flash(changed, "error")
    field.data = template.lock_version
    field.raw_data = [str(template.lock_version)]  # the form renders what was sent
    return False


def _fill_page(
    view: ReviewView,
    template: AssessmentTemplate,
    form: FillTemplateForm,
    filled: Mapping[int, Filled],
) -> str:
    return render_template(
        "assessment_templates/fill.html",
        view=view,
        e=view.enrolment,
        template=template,
        offered=templates.offered_items(template, view),
        form=form,
        filled=filled,
        crumb=template.title,
    )
