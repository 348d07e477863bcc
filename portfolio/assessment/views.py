"""The assessor's pages: the queue, the review of a submission, gaps, outcome, corrections.

Each view loads the enrolment, checks permission in ``portfolio.auth.permissions``, calls one
service in ``portfolio.assessment.review``, commits and redirects back to the review.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from portfolio.assessment import attempts, decisions, gaps
from portfolio.assessment import outcome as outcomes
from portfolio.assessment.loading import enrolment_or_404, review_of
from portfolio.assessment.matrix import Grid, matrix_sections
from portfolio.assessment.queue import (
    QueueFilter,
    queue_counts,
    queue_rows,
    queue_units,
    review_queue_query,
)
from portfolio.assessment.review import ReviewView
from portfolio.assessment.review_forms import (
    ActionForm,
    CheckForm,
    CorrectJudgementForm,
    CorrectOutcomeForm,
    CorrectSignoffForm,
    ItemDecisionForm,
    JudgementForm,
    MappingDecisionForm,
    OutcomeForm,
    OverrideForm,
    ReassessmentForm,
    RejectItemForm,
    ReturnForm,
    SignoffForm,
)
from portfolio.assessment.rules import OUTCOME_DECLARATION, Conversation
from portfolio.assessment.templates import templates_of
from portfolio.auth.permissions import Action, may, require
from portfolio.clock import local_date, today
from portfolio.extensions import db
from portfolio.files.serving import DOCX, INLINE_TYPES, send_stored
from portfolio.files.signatures import declaration_signature
from portfolio.files.uploads import store_sent_files
from portfolio.models import (
    Enrolment,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    GapMethod,
    OutcomeResult,
    SignoffFile,
    Target,
    VerificationRequest,
)
from portfolio.paging import paginate
from portfolio.previews import app_previews
from portfolio.rendering import PreviewUnavailable, render_markdown
from portfolio.saving import save
from portfolio.text import count, day
from portfolio.verification import services as verification
from portfolio.verification.forms import CheckForm as VerifierCheckForm
from portfolio.verification.rules import signoff_notes

bp = Blueprint("review", __name__)

PER_PAGE = 25


def _back(enrolment: Enrolment, anchor: str = "") -> Response:
    return redirect(
        url_for(".review", enrolment_id=enrolment.id) + (f"#{anchor}" if anchor else "")
    )


def _target(enrolment: Enrolment, target_id: int | None) -> Target:
    target = db.session.get(Target, target_id) if target_id else None
    if target is None or target.unit_release_id != enrolment.unit_release_id:
        abort(404)
    return target


def _version(enrolment: Enrolment, version_id: int | None) -> EvidenceVersion:
    version = db.session.get(EvidenceVersion, version_id) if version_id else None
    if version is None or version.item.enrolment_id != enrolment.id or not version.frozen:
        abort(404)
    return version


def _expired() -> None:
    flash("The form had expired or was incomplete; nothing was saved. Please try again.", "error")


@bp.get("/review")
@login_required
def queue() -> str:
    """Submissions waiting for this assessor, oldest first."""
    require(current_user, Action.REVIEW_QUEUE)
    config = current_app.config
    due_days, now = int(config["REVIEW_DUE_WORKING_DAYS"]), today()
    chosen = QueueFilter(
        unit_code=request.args.get("unit") or None, learner=request.args.get("learner") or None
    )
    # One assessor's queue stays short: its total is counted with the page.
    page = paginate(
        review_queue_query(current_user, chosen), per_page=PER_PAGE, counted_with_page=True
    )
    return render_template(
        "review/queue.html",
        page=page,
        rows=queue_rows(db.session, page.items, today=now, due_days=due_days),
        counts=queue_counts(
            db.session,
            current_user,
            today=now,
            due_days=due_days,
            zone=ZoneInfo(config["RTO_TIMEZONE"]),
        ),
        units=queue_units(db.session, current_user),
        chosen=chosen,
        due_days=due_days,
    )


@bp.get("/enrolments/<int:enrolment_id>/review")
@login_required
def review(enrolment_id: int) -> str:
    """The coverage matrix of a submission with everything the assessor has recorded."""
    enrolment = enrolment_or_404(enrolment_id, Action.VIEW_REVIEW)
    view = review_of(enrolment)
    signing_off = view.gaps and may(current_user, Action.SIGN_OFF, enrolment)
    return render_template(
        "review/review.html",
        view=view,
        e=enrolment,
        templates=templates_of(db.session, enrolment.unit_release_id) if signing_off else [],
        action=ActionForm(),
        findings=list(Finding),
        sections=matrix_sections(view),
        grid=Grid(view),
        rules=list(EvidenceRule),
    )


@bp.post("/enrolments/<int:enrolment_id>/review/start")
@login_required
def start(enrolment_id: int) -> Response:
    """Take the submission off the queue and begin: on the first item still to decide, or on
    the review itself when there is none."""
    enrolment = enrolment_or_404(enrolment_id, Action.START_REVIEW)
    form = ActionForm()
    if form.validate_on_submit():
        if save(
            None,
            lambda: decisions.start_review(db.session, actor=current_user, enrolment=enrolment),
        ).ok:
            flash(
                "Review started. The learner sees that their portfolio is being assessed.",
                "success",
            )
            first = review_of(enrolment).next_undecided()
            if first is not None:
                return redirect(
                    url_for(".item", enrolment_id=enrolment.id, version_id=first.version.id)
                )
    else:
        _expired()
    return _back(enrolment)


@bp.post("/enrolments/<int:enrolment_id>/review/mappings")
@login_required
def decide_mapping(enrolment_id: int) -> Response:
    """Accept or reject a learner's mapping, or map evidence to a criterion yourself."""
    enrolment = enrolment_or_404(enrolment_id, Action.DECIDE_MAPPING)
    form = MappingDecisionForm()
    if not form.validate_on_submit():
        _expired()
        return _back(enrolment)
    target = _target(enrolment, form.target.data)
    version = _version(enrolment, form.version.data)
    decision = form.decision.data
    if decision not in ("accept", "reject", "add"):
        abort(400)

    def act() -> object:
        if decision == "add":
            return decisions.add_mapping(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                version=version,
                target=target,
                note=form.note.data or "",
            )
        return decisions.decide_mapping(
            db.session,
            actor=current_user,
            enrolment=enrolment,
            version=version,
            target=target,
            accepted=decision == "accept",
            note=form.note.data or "",
        )

    if save(None, act).ok:
        word = {"accept": "accepted", "reject": "rejected", "add": "mapped"}[decision]
        flash(f"E{version.item.number} {word} for {target.ref}.", "success")
    return _back(enrolment, target.anchor)


@bp.post("/enrolments/<int:enrolment_id>/review/judgements")
@login_required
def judge(enrolment_id: int) -> Response:
    """Satisfactory or not yet satisfactory for one criterion."""
    enrolment = enrolment_or_404(enrolment_id, Action.JUDGE)
    form = JudgementForm()
    if not form.validate_on_submit():
        _expired()
        return _back(enrolment)
    target = _target(enrolment, form.target.data)
    view = review_of(enrolment)
    finding = Finding(form.finding.data)
    if save(
        None,
        lambda: decisions.judge(
            db.session,
            actor=current_user,
            view=view,
            target=target,
            finding=finding,
            comment=form.comment.data or "",
            seen_version=form.seen.data or 0,
        ),
    ).ok:
        flash(f"{target.ref}: {finding.label.lower()}.", "success")
    return _back(enrolment, target.anchor)


@bp.post("/enrolments/<int:enrolment_id>/review/sections/<anchor>/satisfactory")
@login_required
def section_satisfactory(enrolment_id: int, anchor: str) -> Response:
    """Every target of an element or evidence list that has evidence: accepted and satisfactory."""
    enrolment = enrolment_or_404(enrolment_id, Action.JUDGE)
    form = ActionForm()
    if not form.validate_on_submit():
        _expired()
        return _back(enrolment)
    view = review_of(enrolment)
    section = next((s for s in matrix_sections(view) if s.anchor == anchor), None)
    if section is None:
        abort(404)
    saved = save(
        None,
        lambda: decisions.judge_section_satisfactory(
            db.session, actor=current_user, view=view, section=section
        ),
    )
    if saved.ok:
        result = saved.value
        flash(
            f"{section.title}: {result.judged} judged satisfactory; anything without evidence "
            "was left for you to close.",
            "success",
        )
        if result.flagged_items or result.leaning_targets:
            flash(_left_for_flags(result), "warning")
    return _back(enrolment, section.anchor)


def _left_for_flags(result: decisions.SectionResult) -> str:
    """What a bulk action left because of flagged evidence, and where to resolve it."""
    parts = []
    if result.flagged_items:
        parts.append(f"not accepted, flagged: {', '.join(result.flagged_items)}")
    if result.leaning_targets:
        refs = ", ".join(result.leaning_targets)
        parts.append(f"not judged, their accepted evidence is flagged: {refs}")
    return (
        "Left for you: "
        + "; ".join(parts)
        + ". Open the item to re-confirm the rule, reject its mappings or record an override."
    )


@bp.post("/enrolments/<int:enrolment_id>/review/items/<int:version_id>/override")
@login_required
def override_flag(enrolment_id: int, version_id: int) -> Response:
    """Go past a flagged rule of evidence, with the reason, so decisions may lean on the item."""
    enrolment = enrolment_or_404(enrolment_id, Action.OVERRIDE_FLAG)
    version = _version(enrolment, version_id)
    form = OverrideForm()
    back = url_for(".item", enrolment_id=enrolment.id, version_id=version.id)
    if not form.validate_on_submit() or form.rule.data not in set(EvidenceRule):
        _expired()
        return redirect(back)
    rule = EvidenceRule(form.rule.data)
    if save(
        None,
        lambda: decisions.override_flag(
            db.session,
            actor=current_user,
            enrolment=enrolment,
            version=version,
            rule=rule,
            reason=form.reason.data or "",
            seen_version=form.seen.data or 0,
        ),
    ).ok:
        flash(f"{rule.label}: the flag on E{version.item.number} is overridden.", "success")
    return redirect(back)


@bp.post("/enrolments/<int:enrolment_id>/review/items/<int:version_id>/reject")
@login_required
def reject_mappings(enrolment_id: int, version_id: int) -> Response:
    """Reject every mapping of an item, so that no decision leans on it."""
    enrolment = enrolment_or_404(enrolment_id, Action.DECIDE_MAPPING)
    version = _version(enrolment, version_id)
    form = RejectItemForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for(".item", enrolment_id=enrolment.id, version_id=version.id))
    view = review_of(enrolment)
    saved = save(
        None,
        lambda: decisions.reject_item_mappings(
            db.session, actor=current_user, view=view, version=version, note=form.note.data or ""
        ),
    )
    if saved.ok:
        flash(
            f"E{version.item.number}: {count(saved.value, 'mapping')} rejected; nothing leans on "
            "it now.",
            "success",
        )
    return redirect(url_for(".item", enrolment_id=enrolment.id, version_id=version.id))


@bp.route("/enrolments/<int:enrolment_id>/review/items/<int:version_id>", methods=["GET", "POST"])
@login_required
def item(enrolment_id: int, version_id: int) -> str | Response:
    """A submitted item in place, with the four rules of evidence to confirm or flag."""
    enrolment = enrolment_or_404(enrolment_id, Action.VIEW_REVIEW)
    version = _version(enrolment, version_id)
    form = CheckForm()
    if request.method == "POST":
        require(current_user, Action.CHECK_EVIDENCE, enrolment)
        if form.validate_on_submit() and form.rule.data in set(EvidenceRule):
            rule = EvidenceRule(form.rule.data)
            if save(
                None,
                lambda: decisions.check_evidence(
                    db.session,
                    actor=current_user,
                    enrolment=enrolment,
                    version=version,
                    rule=rule,
                    confirmed=form.confirmed.data == "yes",
                    note=form.note.data or "",
                    seen_version=form.seen.data or 0,
                ),
            ).ok:
                flash(f"{rule.label}: recorded for E{version.item.number}.", "success")
                return redirect(url_for(".item", enrolment_id=enrolment.id, version_id=version.id))
        else:
            _expired()
    return _item_page(enrolment, version, form=form)


def _item_page(
    enrolment: Enrolment,
    version: EvidenceVersion,
    *,
    form: CheckForm | None = None,
    decision: ItemDecisionForm | None = None,
    typed: Mapping[str, str] | None = None,
) -> str:
    """The item page; ``typed`` is what a refused decision sent, shown back as it was."""
    view = review_of(enrolment)
    submitted = next((s for s in view.items if s.version.id == version.id), None)
    if submitted is None:
        abort(404, description="That version was replaced by a later submission.")
    report = verification.report_of(db.session, version.item_id)
    return render_template(
        "review/item.html",
        previews=_word_previews(version),
        view=view,
        e=enrolment,
        submitted=submitted,
        version=version,
        description=render_markdown(version.description),
        inline_types=INLINE_TYPES,
        docx=DOCX,
        rules=list(EvidenceRule),
        form=form or CheckForm(),
        decision=decision or ItemDecisionForm(),
        typed=typed,
        next_item=view.next_undecided(after=version),
        override=OverrideForm(),
        reject=RejectItemForm(),
        verifications=verification.of_items(db.session, [version.item_id]).get(version.item_id, []),
        check_verifier=VerifierCheckForm(),
        report=report,
        observed=verification.observed(db.session, report) if report else [],
    )


@bp.post("/enrolments/<int:enrolment_id>/review/items/<int:version_id>/decide")
@login_required
def decide_item(enrolment_id: int, version_id: int) -> str | Response | tuple[str, int]:
    """The rules of evidence and the learner's mappings of one item, in one save; then the
    next item still to decide."""
    enrolment = enrolment_or_404(enrolment_id, Action.CHECK_EVIDENCE)
    version = _version(enrolment, version_id)
    form = ItemDecisionForm()
    if not form.validate_on_submit():
        return _item_page(enrolment, version, decision=form, typed=request.form), 400
    view = review_of(enrolment)
    sent = request.form
    accepted = {
        int(key.removeprefix("map-")): value == "accept"
        for key, value in sent.items()
        if key.startswith("map-") and key[4:].isdigit() and value in ("accept", "reject")
    }
    saved = save(
        form,
        lambda: decisions.decide_item(
            db.session,
            actor=current_user,
            view=view,
            version=version,
            flagged={rule for rule in EvidenceRule if sent.get(f"flag-{rule.value}")},
            notes={rule: sent.get(f"note-{rule.value}", "") for rule in EvidenceRule},
            seen={rule: sent.get(f"seen-{rule.value}", 0, type=int) for rule in EvidenceRule},
            accepted=accepted,
            judge_accepted=bool(form.judge.data),
        ),
    )
    if not saved.ok:
        return _item_page(enrolment, version, decision=form, typed=sent), 400
    flash(f"E{version.item.number}: decided.", "success")
    following = review_of(enrolment).next_undecided(after=version)
    if following is None:
        flash("Every item of this submission is decided: judge the criteria.", "success")
        return _back(enrolment)
    return redirect(url_for(".item", enrolment_id=enrolment.id, version_id=following.version.id))


def _word_previews(version: EvidenceVersion) -> dict[int, str]:
    """Word files already converted, read in place; the others are converted on demand, when
    the assessor follows their "read in the browser" link, so opening an item never waits
    on (or is stalled by) a conversion."""
    cache, _ = app_previews()
    previews: dict[int, str] = {}
    for evidence_file in version.files:
        if evidence_file.content_type != DOCX:
            continue
        try:
            cached = cache.get(evidence_file.sha256)
        except PreviewUnavailable as error:
            cached = str(error)
        if cached is not None:
            previews[evidence_file.id] = cached
    return previews


def _questions(form: SignoffForm) -> list[Conversation]:
    return [
        Conversation(entry.form.question.data or "", entry.form.answer.data or "")
        for entry in form.questions
    ]


@bp.route("/enrolments/<int:enrolment_id>/review/gaps/<int:target_id>", methods=["GET", "POST"])
@login_required
def sign_off(enrolment_id: int, target_id: int) -> str | Response:
    """Close a gap by conversation, observation, a third-party report or further evidence."""
    enrolment = enrolment_or_404(enrolment_id, Action.SIGN_OFF)
    target = _target(enrolment, target_id)
    view = review_of(enrolment)
    form = SignoffForm()
    form.also.choices = [
        SelectChoice(t.id, f"{t.ref} {t.text}")
        for t in view.targets
        if t.id != target.id and view.is_gap(t)
    ]
    reports = verification.reports_seeing(db.session, enrolment, target.id)
    chosen = next((r for r in reports if r.id == request.args.get("report", type=int)), None)
    if request.method == "GET" and chosen is not None:
        _from_report(form, chosen, target)
    if form.validate_on_submit():
        covered = [target, *(_target(enrolment, other) for other in form.also.data or [])]

        def act() -> object:
            return gaps.sign_off_gaps(
                db.session,
                actor=current_user,
                view=view,
                targets=covered,
                method=GapMethod(form.method.data),
                held_on=form.held_on.data,
                notes=form.notes.data or "",
                questions=_questions(form),
                files=store_sent_files(form.files.name),
                judge_satisfactory=bool(form.judge.data),
            )

        saved = save(form, act)
        if saved.ok:
            refs = [signoff.target.ref for signoff in saved.value]
            judged = " and judged satisfactory" if form.judge.data else ""
            if len(refs) == 1:
                flash(f"The gap at {target.ref} is signed off{judged}.", "success")
            else:
                listed = ", ".join(refs[:-1]) + f" and {refs[-1]}"
                flash(f"The gaps at {listed} are signed off by one record{judged}.", "success")
            return _back(enrolment, target.anchor)
    return render_template(
        "review/signoff.html", view=view, e=enrolment, target=target, form=form, reports=reports
    )


def _from_report(form: SignoffForm, report: VerificationRequest, target: Target) -> None:
    """The sign-off form filled in from a third party's report that saw ``target``."""
    assert report.report_item is not None and report.closed_at is not None
    form.method.data = GapMethod.THIRD_PARTY_REPORT.value
    form.held_on.data = report.observed_on
    form.notes.data = signoff_notes(
        signer=report.signer_name,
        position=report.verifier_position,
        organisation=report.verifier_organisation,
        signed=day(local_date(report.closed_at)),
        item=report.report_item.reference,
        note=(report.observations or {})[str(target.id)]["note"],
    )


@bp.route(
    "/enrolments/<int:enrolment_id>/review/gaps/<int:target_id>/correct", methods=["GET", "POST"]
)
@login_required
def correct_signoff(enrolment_id: int, target_id: int) -> str | Response:
    """After the outcome: a new sign-off that replaces the old one, with the reason."""
    enrolment = enrolment_or_404(enrolment_id, Action.CORRECT_SIGNOFF)
    target = _target(enrolment, target_id)
    view = review_of(enrolment)
    old = view.signoffs.get(target.id)
    if old is None:
        abort(404)
    recorded = {
        "method": old.method.value,
        "held_on": old.held_on,
        "notes": old.notes,
        "questions": old.questions,
        "keep": [f.id for f in old.files],
    }
    form = CorrectSignoffForm(data=recorded)
    form.keep.choices = [SelectChoice(f.id, f.display_name) for f in old.files]
    form.also.choices = []  # a correction covers what the record covered, no more
    covers = [view.unit.by_id[s.target_id] for s in gaps.record_of(view, old)]
    if form.validate_on_submit():

        def act() -> object:
            return gaps.correct_signoff(
                db.session,
                actor=current_user,
                view=view,
                target=target,
                method=GapMethod(form.method.data),
                held_on=form.held_on.data,
                notes=form.notes.data or "",
                questions=_questions(form),
                keep_files=form.keep.data or [],
                files=store_sent_files(form.files.name),
                reason=form.reason.data or "",
            )

        if save(form, act).ok:
            refs = ", ".join(t.ref for t in covers) if len(covers) > 1 else target.ref
            flash(
                f"The sign-off of {refs} is corrected; the old one stays on record.",
                "success",
            )
            return _back(enrolment, target.anchor)
    return render_template(
        "review/signoff.html",
        view=view,
        e=enrolment,
        target=target,
        form=form,
        old=old,
        covers=covers if len(covers) > 1 else [],
    )


@bp.get("/enrolments/<int:enrolment_id>/review/signoff-files/<int:file_id>")
@login_required
def signoff_file(enrolment_id: int, file_id: int) -> Response:
    """A file gathered to close a gap; images and PDFs open in the browser."""
    enrolment = enrolment_or_404(enrolment_id, Action.VIEW_REVIEW)
    stored = db.get_or_404(SignoffFile, file_id)
    if stored.signoff.enrolment_id != enrolment.id:
        abort(404)
    return send_stored(stored, inline=True)


@bp.route("/enrolments/<int:enrolment_id>/review/return", methods=["GET", "POST"])
@login_required
def return_portfolio(enrolment_id: int) -> str | Response:
    """Send the portfolio back with feedback on each gap; a new round follows."""
    enrolment = enrolment_or_404(enrolment_id, Action.RETURN)
    view = review_of(enrolment)
    form = ReturnForm()
    if form.validate_on_submit():
        feedback = {t.id: request.form.get(f"feedback-{t.id}", "") for t in view.targets}
        if save(
            form,
            lambda: gaps.return_to_learner(
                db.session,
                actor=current_user,
                view=view,
                feedback=feedback,
                overall=form.overall.data or "",
            ),
        ).ok:
            flash(f"Returned to {enrolment.learner.name} with your feedback.", "success")
            return _back(enrolment)
    return render_template(
        "review/return.html", view=view, e=enrolment, form=form, typed=request.form
    )


def _outcome_choices(view: ReviewView) -> list[SelectChoice]:
    return [
        SelectChoice(r.value, f"{r.label} (AVETMISS {r.avetmiss_code})")
        for r in view.outcome_choices()
    ]


@bp.route("/enrolments/<int:enrolment_id>/review/outcome", methods=["GET", "POST"])
@login_required
def outcome(enrolment_id: int) -> str | Response:
    """Record the unit outcome with the assessor's declaration; the enrolment is then locked."""
    enrolment = enrolment_or_404(enrolment_id, Action.RECORD_OUTCOME)
    view = review_of(enrolment)
    form = OutcomeForm()
    form.result.choices = _outcome_choices(view)
    if form.validate_on_submit():
        result = OutcomeResult(form.result.data)
        if save(
            form,
            lambda: outcomes.record_outcome(
                db.session,
                actor=current_user,
                view=view,
                result=result,
                declared=bool(form.declared.data),
                signature=declaration_signature(
                    form.signature.data, required=current_app.config["SIGNED_DECLARATIONS"]
                ),
            ),
        ).ok:
            flash(f"Outcome recorded: {result.label}. The enrolment is now locked.", "success")
            return _back(enrolment)
    return render_template(
        "review/outcome.html",
        view=view,
        e=enrolment,
        form=form,
        declaration=OUTCOME_DECLARATION,
        signing=current_app.config["SIGNED_DECLARATIONS"],
    )


@bp.route("/enrolments/<int:enrolment_id>/review/reassessment", methods=["GET", "POST"])
@login_required
def reassess(enrolment_id: int) -> str | Response:
    """After Not yet competent: open the next attempt with a plan and a date to submit by."""
    enrolment = enrolment_or_404(enrolment_id, Action.OPEN_REASSESSMENT)
    view = review_of(enrolment)
    allowed = current_app.config["ATTEMPTS_ALLOWED"]
    form = ReassessmentForm()
    if (
        form.validate_on_submit()
        and save(
            form,
            lambda: attempts.open_reassessment(
                db.session,
                actor=current_user,
                view=view,
                plan=form.plan.data or "",
                due_on=form.due_on.data,
                allowed=allowed,
            ),
        ).ok
    ):
        flash(
            f"Attempt {enrolment.attempt} is open: {enrolment.learner.name} sees what to work on.",
            "success",
        )
        return _back(enrolment)
    return render_template(
        "review/reassessment.html", view=view, e=enrolment, form=form, allowed=allowed
    )


@bp.route(
    "/enrolments/<int:enrolment_id>/review/judgements/<int:target_id>/correct",
    methods=["GET", "POST"],
)
@login_required
def correct_judgement(enrolment_id: int, target_id: int) -> str | Response:
    """After the outcome: a new judgement that replaces the old one, with the reason."""
    enrolment = enrolment_or_404(enrolment_id, Action.CORRECT_JUDGEMENT)
    target = _target(enrolment, target_id)
    view = review_of(enrolment)
    old = view.judgements.get(target.id)
    if old is None:
        abort(404)
    form = CorrectJudgementForm()
    if request.method == "GET":
        form.finding.data = old.finding.value
        form.comment.data = old.comment
    if (
        form.validate_on_submit()
        and save(
            form,
            lambda: outcomes.correct_judgement(
                db.session,
                actor=current_user,
                view=view,
                target=target,
                finding=Finding(form.finding.data),
                comment=form.comment.data or "",
                reason=form.reason.data or "",
            ),
        ).ok
    ):
        flash(
            f"The judgement of {target.ref} is corrected; the old one stays on record.",
            "success",
        )
        return _back(enrolment, target.anchor)
    return render_template(
        "review/correct.html", view=view, e=enrolment, form=form, target=target, old=old
    )


@bp.route("/enrolments/<int:enrolment_id>/review/outcome/correct", methods=["GET", "POST"])
@login_required
def correct_outcome(enrolment_id: int) -> str | Response:
    """After the outcome: a new outcome that replaces the old one, with the reason."""
    enrolment = enrolment_or_404(enrolment_id, Action.CORRECT_OUTCOME)
    view = review_of(enrolment)
    if view.outcome is None:
        abort(404)
    form = CorrectOutcomeForm()
    form.result.choices = _outcome_choices(view)
    if form.validate_on_submit():
        result = OutcomeResult(form.result.data)
        if save(
            form,
            lambda: outcomes.correct_outcome(
                db.session,
                actor=current_user,
                view=view,
                result=result,
                reason=form.reason.data or "",
            ),
        ).ok:
            flash(
                f"The outcome is corrected to {result.label}; the old one stays on record.",
                "success",
            )
            return _back(enrolment)
    return render_template(
        "review/correct.html", view=view, e=enrolment, form=form, target=None, old=view.outcome
    )
