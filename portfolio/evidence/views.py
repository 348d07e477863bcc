"""The learner's portfolio: dashboard, unit portfolio, evidence items, files, mapping, submit.

Each view loads its object, checks permission in ``portfolio.auth.permissions``, calls a
service, commits once and redirects.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portfolio.auth.permissions import Action, may, require
from portfolio.enrolments.progress import learner_feedback, standing
from portfolio.errors import ServiceError
from portfolio.evidence.forms import ItemForm, PlainForm, SubmitForm
from portfolio.evidence.reports import file_report
from portfolio.evidence.rules import DECLARATION, ItemFields
from portfolio.evidence.services import (
    attach_to_target,
    create_item,
    load_items,
    portfolio_view,
    set_item_mappings,
    submit,
    update_item,
)
from portfolio.extensions import db, limiter
from portfolio.files.serving import DOCX, INLINE_TYPES, send_stored
from portfolio.files.signatures import declaration_signature
from portfolio.files.uploads import (
    allowance,
    files_from_tokens,
    hold_upload,
    store_upload,
)
from portfolio.models import (
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceType,
    RequestKind,
    Target,
)
from portfolio.previews import stored_preview
from portfolio.rendering import render_markdown
from portfolio.saving import posted_ids, save
from portfolio.text import count
from portfolio.verification import pages
from portfolio.verification import services as verification
from portfolio.verification.forms import ReportForm
from portfolio.verification.rules import Report

bp = Blueprint("evidence", __name__)
#: The page a third party reaches by their emailed report link.
report_outside = pages.outside("report", __name__)


def _enrolment(enrolment_id: int, permission: Action) -> Enrolment:
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    require(current_user, permission, enrolment)
    return enrolment


def _item(item_id: int, permission: Action) -> EvidenceItem:
    item = db.get_or_404(EvidenceItem, item_id)
    require(current_user, permission, item.enrolment)
    return item


def _file(file_id: int) -> EvidenceFile:
    evidence_file = db.get_or_404(EvidenceFile, file_id)
    require(current_user, Action.VIEW_ENROLMENT, evidence_file.version.item.enrolment)
    return evidence_file


@bp.get("/enrolments/<int:enrolment_id>")
@login_required
def portfolio(enrolment_id: int) -> str:
    """The unit's tree with the evidence mapped to each target, and every gap marked."""
    enrolment = _enrolment(enrolment_id, Action.VIEW_ENROLMENT)
    view = portfolio_view(db.session, enrolment)
    feedback = learner_feedback(
        db.session, enrolment, with_judgements=may(current_user, Action.SEE_JUDGEMENTS, enrolment)
    )
    return render_template(
        "evidence/portfolio.html",
        view=view,
        # Each item is linked from every criterion it is mapped to: its address made once.
        item_urls={item.id: url_for(".show_item", item_id=item.id) for item in view.items},
        feedback=feedback,
        standing=standing(
            enrolment,
            result=feedback.outcome.result if feedback.outcome else None,
            due_on=feedback.reassessment.due_on if feedback.reassessment else None,
            attempts_allowed=current_app.config["ATTEMPTS_ALLOWED"],
        ),
        gaps_only=request.args.get("gaps") == "1",
        reports=verification.reports_of(db.session, enrolment),
        verified=verification.verified_now(db.session, [item.id for item in view.items]),
    )


def _item_fields(form: ItemForm) -> ItemFields:
    return ItemFields(
        title=form.title.data or "",
        evidence_type=EvidenceType(form.evidence_type.data),
        work_date=form.work_date.data,
        description=form.description.data or "",
    )


def _posted_files(enrolment: Enrolment) -> list:
    """Files sent with the form itself (no JavaScript) plus those uploaded ahead of it."""
    files = files_from_tokens(
        db.session,
        request.form.getlist("uploaded"),
        enrolment_id=enrolment.id,
        user_id=current_user.id,
    )
    sent = [upload for upload in request.files.getlist("files") if upload and upload.filename]
    if sent:
        room = allowance(db.session, current_user)
        files.extend(store_upload(upload.stream, upload.filename, within=room) for upload in sent)
    return files


@bp.route("/enrolments/<int:enrolment_id>/evidence/new", methods=["GET", "POST"])
@login_required
def new_item(enrolment_id: int) -> str | Response:
    """Add an evidence item: files and/or a description, a type, a date."""
    enrolment = _enrolment(enrolment_id, Action.ADD_EVIDENCE)
    form = ItemForm()
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: create_item(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                fields=_item_fields(form),
                files=_posted_files(enrolment),
            ),
        )
        if saved.ok:
            item = saved.value
            flash(f"Saved {item.reference}. Now say which criteria it shows.", "success")
            return redirect(url_for(".map_item", item_id=item.id))
    return render_template("evidence/item_form.html", form=form, enrolment=enrolment, item=None)


def _upload_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


@bp.post("/enrolments/<int:enrolment_id>/uploads")
@login_required
@limiter.limit(
    _upload_limit,
    key_func=lambda: f"uploads:{current_user.get_id()}",
    error_message="Too many files in a short time. Wait a minute, then add the rest.",
)
def upload(enrolment_id: int) -> tuple[Response, int]:
    """Store one file ahead of the item form (drag and drop with progress); answers JSON."""
    enrolment = _enrolment(enrolment_id, Action.ADD_EVIDENCE)
    if not may(current_user, Action.ADD_EVIDENCE, enrolment):
        return jsonify(
            error="This portfolio is with your assessor, so no files can be added until it is "
            "returned to you."
        ), 409
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return jsonify(error="No file was sent."), 400
    try:
        new_file = store_upload(
            sent.stream, sent.filename, within=allowance(db.session, current_user)
        )
    except ServiceError as error:
        return jsonify(error=error.message), 400
    token = hold_upload(db.session, new_file, enrolment=enrolment, user=current_user)
    db.session.commit()
    return jsonify(token=token, name=new_file.display_name, size=new_file.size), 201


@bp.get("/evidence/<int:item_id>")
@login_required
def show_item(item_id: int) -> str:
    """An evidence item as it is now, or an earlier version, readable in the browser."""
    item = _item(item_id, Action.VIEW_ENROLMENT)
    number = request.args.get("version", type=int)
    version = item.current_version
    if number is not None:
        version = next((v for v in item.versions if v.version == number), None)
        if version is None:
            abort(404, description=f"{item.reference} has no version {number}.")
    targets = {m.target_id: m.target for m in version.mappings}
    report = verification.report_of(db.session, item.id)
    return render_template(
        "evidence/item.html",
        item=item,
        version=version,
        description=render_markdown(version.description),
        targets=sorted(targets.values(), key=lambda t: t.position),
        notes={m.target_id: m.note for m in version.mappings},
        inline_types=INLINE_TYPES,
        docx=DOCX,
        verifications=verification.of_items(db.session, [item.id]).get(item.id, []),
        report=report,
        observed=verification.observed(db.session, report) if report else [],
    )


@bp.route("/evidence/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(item_id: int) -> str | Response:
    """Change an item; once submitted, the change is saved as a new version."""
    item = _item(item_id, Action.CHANGE_EVIDENCE)
    version = item.current_version
    form = ItemForm(obj=version)
    if request.method == "GET":
        form.evidence_type.data = version.evidence_type.value
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: update_item(
                db.session,
                actor=current_user,
                item=item,
                fields=_item_fields(form),
                add_files=_posted_files(item.enrolment),
                remove_file_ids=request.form.getlist("remove_file", type=int),
            ),
        )
        if saved.ok:
            flash(f"Saved {item.reference}.", "success")
            return redirect(url_for(".show_item", item_id=item.id))
    return render_template(
        "evidence/item_form.html", form=form, enrolment=item.enrolment, item=item
    )


@bp.route("/evidence/<int:item_id>/mappings", methods=["GET", "POST"])
@login_required
def map_item(item_id: int) -> str | Response:
    """Say which of the unit's targets this item shows, with a line on how."""
    item = _item(item_id, Action.CHANGE_EVIDENCE)
    form = PlainForm()
    view = portfolio_view(db.session, item.enrolment)
    if form.validate_on_submit():

        def save_mappings() -> int:
            chosen = {t: request.form.get(f"note-{t}", "") for t in posted_ids("target")}
            set_item_mappings(db.session, actor=current_user, item=item, notes=chosen)
            return len(chosen)

        saved = save(form, save_mappings)
        if saved.ok:
            flash(f"{item.reference} is mapped to {count(saved.value, 'criterion')}.", "success")
            return redirect(url_for(".portfolio", enrolment_id=item.enrolment_id))
    elif request.method == "POST":
        flash("The form had expired; your choices were not saved. Please try again.", "error")
    current = {m.target_id: m.note for m in item.current_version.mappings}
    return render_template(
        "evidence/map_item.html", item=item, view=view, form=form, current=current
    )


@bp.route("/enrolments/<int:enrolment_id>/targets/<int:target_id>", methods=["GET", "POST"])
@login_required
def attach(enrolment_id: int, target_id: int) -> str | Response:
    """From a criterion: attach evidence already in the portfolio."""
    enrolment = _enrolment(enrolment_id, Action.CHANGE_EVIDENCE)
    target = db.get_or_404(Target, target_id)
    if target.unit_release_id != enrolment.unit_release_id:
        abort(404)
    form = PlainForm()
    items = load_items(db.session, enrolment)
    if form.validate_on_submit():

        def save_attachments() -> int:
            by_id = {item.id: item for item in items}
            chosen = {
                by_id[i]: request.form.get(f"note-{i}", "")
                for i in posted_ids("item")
                if i in by_id
            }
            attach_to_target(
                db.session, actor=current_user, target=target, items=chosen, among=items
            )
            return len(chosen)

        saved = save(form, save_attachments)
        if saved.ok:
            flash(f"{target.ref} is shown by {count(saved.value, 'item')}.", "success")
            return redirect(url_for(".portfolio", enrolment_id=enrolment.id) + f"#{target.anchor}")
    return render_template(
        "evidence/attach.html", enrolment=enrolment, target=target, items=items, form=form
    )


@bp.route("/enrolments/<int:enrolment_id>/submit", methods=["GET", "POST"])
@login_required
def submit_portfolio(enrolment_id: int) -> str | Response:
    """Declare the evidence is the learner's own and hand the portfolio in."""
    enrolment = _enrolment(enrolment_id, Action.SUBMIT)
    if not may(current_user, Action.SUBMIT, enrolment):
        flash("This portfolio is already submitted; it is with your assessor.", "info")
        return redirect(url_for(".portfolio", enrolment_id=enrolment.id))
    form = SubmitForm()
    if form.validate_on_submit():
        saved = save(
            form,
            lambda: submit(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                declared=form.declared.data,
                signature=declaration_signature(
                    form.signature.data, required=current_app.config["SIGNED_DECLARATIONS"]
                ),
            ),
        )
        if saved.ok:
            flash(
                f"Submitted (round {saved.value.round}). Your assessor has been given it.",
                "success",
            )
            return redirect(url_for(".portfolio", enrolment_id=enrolment.id))
        if not may(current_user, Action.SUBMIT, enrolment):  # another click or tab got there first
            get_flashed_messages()  # drop the general conflict message: this one says it all
            flash("This portfolio is already submitted; it is with your assessor.", "info")
            return redirect(url_for(".portfolio", enrolment_id=enrolment.id))
    view = portfolio_view(db.session, enrolment)
    return render_template(
        "evidence/submit.html",
        form=form,
        view=view,
        declaration=DECLARATION,
        signing=current_app.config["SIGNED_DECLARATIONS"],
    )


@bp.get("/files/<int:file_id>")
@login_required
def download(file_id: int) -> Response:
    """The original file, as a download."""
    return send_stored(_file(file_id), inline=False)


@bp.get("/files/<int:file_id>/inline")
@login_required
def inline(file_id: int) -> Response:
    """Images and PDFs shown in the browser; any other type is downloaded instead."""
    return send_stored(_file(file_id), inline=True)


@bp.get("/files/<int:file_id>/preview")
@login_required
def preview(file_id: int) -> str:
    """A Word file read in the browser as sanitised HTML."""
    evidence_file = _file(file_id)
    if evidence_file.content_type != DOCX:
        abort(404, description="Only Word (.docx) files have a preview.")
    html, problem = stored_preview(evidence_file)
    return render_template(
        "evidence/preview.html",
        evidence_file=evidence_file,
        html=html,
        problem=problem,
        item=evidence_file.version.item,
        version=evidence_file.version,
    )


@report_outside.route("/report/<token>", methods=["GET", "POST"])
def third_party_report(token: str) -> str | tuple[str, int] | Response:
    """A third party's report on the learner's work: each criterion asked about seen or not,
    with a note, the day they last saw it, and their signature."""
    asked = pages.working(token, RequestKind.REPORT)
    if asked is None:
        return pages.dead(token, RequestKind.REPORT)
    form = ReportForm()
    targets = verification.asked_targets(db.session, asked)
    problems: dict[str, str] = {}
    if request.method == "POST":
        if form.validate_on_submit():
            report = Report(
                seen={t.id: request.form.get(f"seen-{t.id}", "") for t in targets},
                notes={t.id: request.form.get(f"note-{t.id}", "") for t in targets},
                observed_on=form.observed_on.data,
                comment=form.comment.data or "",
                signer_name=form.signer_name.data or "",
            )

            def send() -> EvidenceItem:
                try:
                    return file_report(
                        db.session,
                        request=asked,
                        report=report,
                        signature=form.signature.data or "",
                        address=request.remote_addr,
                    )
                except ServiceError as error:
                    problems[error.field or ""] = error.message
                    raise

            if save(form, send).ok:
                return render_template("verification/thanks.html", verification=asked)
            asked = pages.working(token, RequestKind.REPORT)
            if asked is None:
                return pages.dead(token, RequestKind.REPORT)
        elif "csrf_token" in form.errors:
            flash("The form had expired; nothing was sent. Please send it again.", "error")
    else:
        verification.viewed(db.session, asked, request.remote_addr)
        db.session.commit()
        form.signer_name.data = asked.verifier_name
    return render_template(
        "verification/report.html",
        form=form,
        request_=asked,
        learner=asked.enrolment.learner.name,
        unit=asked.enrolment.unit_release,
        targets=targets,
        sent=request.form,
        errors=problems,
    ), (400 if request.method == "POST" else 200)
