"""Countersigning pages: what waits for a credentialed assessor's countersignature, and an
enrolment read-only with its waiting records and the countersign step."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portfolio.assessment import countersign as service
from portfolio.assessment.loading import review_of
from portfolio.assessment.review import handed_in
from portfolio.assessment.review_forms import ActionForm
from portfolio.auth.permissions import Action, can_see, may, require
from portfolio.extensions import db
from portfolio.files.serving import send_stored
from portfolio.models import Enrolment, EvidenceFile
from portfolio.rendering import render_markdown
from portfolio.saving import save

bp = Blueprint("countersign", __name__)


def _enrolment(enrolment_id: int) -> Enrolment:
    """The enrolment, to a credentialed assessor of its unit who is not its own assessor;
    others who see it are refused, to anyone else it does not exist."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    allowed = may(current_user, Action.COUNTERSIGN) and service.may_countersign(
        db.session, current_user, enrolment
    )
    if not allowed:
        abort(403 if can_see(current_user, enrolment) else 404)
    return enrolment


@bp.get("/countersign")
@login_required
def queue() -> str:
    """Enrolments whose records made under direction wait for your countersignature."""
    require(current_user, Action.COUNTERSIGN)
    return render_template(
        "review/countersign_queue.html",
        waiting=service.queue(db.session, current_user),
        units=service.units_to_countersign(db.session, current_user),
    )


@bp.route("/enrolments/<int:enrolment_id>/countersign", methods=["GET", "POST"])
@login_required
def enrolment(enrolment_id: int) -> str | Response:
    """The enrolment read-only with what waits, and the countersign step."""
    chosen = _enrolment(enrolment_id)
    view = review_of(chosen)
    form = ActionForm()
    if form.validate_on_submit():
        seen = request.form.get("seen", "")
        saved = save(
            form,
            lambda: service.countersign(db.session, actor=current_user, view=view, seen=seen),
        )
        if saved.ok:
            flash(
                f"Countersigned {len(saved.value)} record{'s' if len(saved.value) != 1 else ''} "
                f"of {chosen.learner.name}'s {view.unit.release.unit.code}.",
                "success",
            )
            return redirect(url_for(".queue"))
        view = review_of(chosen)  # as it stands after the refusal
    elif request.method == "POST":
        flash("The form had expired; nothing was countersigned. Please try again.", "error")
    waiting = service.waiting(view)
    return render_template(
        "review/countersign.html",
        enrolment=chosen,
        view=view,
        waiting=waiting,
        shown=service.shown(waiting),
        form=form,
        descriptions={s.version.id: render_markdown(s.version.description) for s in view.items},
    )


@bp.get("/enrolments/<int:enrolment_id>/countersign/files/<int:file_id>")
@login_required
def file(enrolment_id: int, file_id: int) -> Response:
    """An evidence file of the enrolment, for the countersigning assessor."""
    chosen = _enrolment(enrolment_id)
    stored = db.get_or_404(EvidenceFile, file_id)
    if stored.version_id not in handed_in(review_of(chosen)):
        abort(404)
    return send_stored(stored, inline=True)
