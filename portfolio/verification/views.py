"""Verification pages: asking a workplace supervisor to verify an item (learner, assessor),
the supervisor's page reached by the emailed link (no account), and the assessor's check.

The supervisor's pages show one evidence version, its files and the criteria it is mapped to,
nothing else of the learner; they are kept in no cache, send no referrer (the token is in the
address) and are rate limited by address.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.files.serving import DOCX, INLINE_TYPES, send_stored
from portfolio.headers import same_site
from portfolio.models import (
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    RequestKind,
    VerificationRequest,
)
from portfolio.previews import stored_preview
from portfolio.rendering import render_markdown
from portfolio.saving import posted_ids, save
from portfolio.units.services import released
from portfolio.verification import pages, services
from portfolio.verification.forms import AnswerForm, CheckForm, RequestForm, RevokeForm
from portfolio.verification.rules import STATEMENTS, Answer, Verifier, content_hashes, shown_token

bp = Blueprint("verification", __name__)
#: The pages a verifier reaches by their link.
outside = pages.outside("verify", __name__)


def _request(request_id: int, action: Action) -> VerificationRequest:
    verification = db.get_or_404(VerificationRequest, request_id)
    require(current_user, action, verification.enrolment)
    return verification


@bp.route("/evidence/<int:item_id>/verifications/new", methods=["GET", "POST"])
@login_required
def ask(item_id: int) -> str | Response:
    """Ask a workplace supervisor, by email, to verify the item as it is now."""
    item = db.get_or_404(EvidenceItem, item_id)
    require(current_user, Action.REQUEST_VERIFICATION, item.enrolment)
    form = RequestForm()
    if form.validate_on_submit():
        verifier = _verifier(form)
        saved = save(
            form,
            lambda: services.request_verification(
                db.session, actor=current_user, item=item, verifier=verifier
            ),
        )
        if saved.ok:
            flash(
                f"A link to verify {item.reference} is on its way to {verifier.name.strip()}. "
                "You will get an email when they answer.",
                "success",
            )
            return redirect(url_for("evidence.show_item", item_id=item.id))
    elif request.method == "POST":
        flash("The form had expired; nothing was sent. Please try again.", "error")
    return render_template(
        "verification/ask.html",
        form=form,
        item=item,
        version=item.current_version,
        statements=[
            s.said(item.enrolment.learner.name, item.current_version.work_date) for s in STATEMENTS
        ],
        days=current_app.config["VERIFICATION_LINK_DAYS"],
    )


@bp.route("/enrolments/<int:enrolment_id>/reports/new", methods=["GET", "POST"])
@login_required
def ask_report(enrolment_id: int) -> str | Response:
    """Ask a workplace supervisor, by email, for a report of what they saw of the learner's
    work, against the criteria chosen."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    require(current_user, Action.REQUEST_VERIFICATION, enrolment)
    form = RequestForm()
    chosen = posted_ids("target")
    if form.validate_on_submit():
        verifier = _verifier(form)
        saved = save(
            form,
            lambda: services.request_report(
                db.session,
                actor=current_user,
                enrolment=enrolment,
                verifier=verifier,
                targets=chosen,
            ),
        )
        if saved.ok:
            flash(
                f"A link to write a report is on its way to {verifier.name.strip()}. You will "
                "get an email when they send it; it arrives as evidence in the portfolio.",
                "success",
            )
            return redirect(url_for("evidence.portfolio", enrolment_id=enrolment.id) + "#reports")
    elif request.method == "POST":
        flash("The form had expired; nothing was sent. Please try again.", "error")
    return render_template(
        "verification/ask_report.html",
        form=form,
        enrolment=enrolment,
        unit=released(db.session, enrolment.unit_release_id),
        chosen=set(chosen),
        days=current_app.config["VERIFICATION_LINK_DAYS"],
    )


def _verifier(form: RequestForm) -> Verifier:
    return Verifier(
        form.name.data or "",
        form.email.data or "",
        form.position.data or "",
        form.organisation.data or "",
        form.relationship.data or "",
    )


@bp.post("/verifications/<int:request_id>/revoke")
@login_required
def revoke(request_id: int) -> Response:
    """Withdraw a link not yet answered."""
    verification = _request(request_id, Action.REVOKE_VERIFICATION)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash("The form had expired; the link was not withdrawn. Please try again.", "error")
    elif save(
        None, lambda: services.revoke(db.session, actor=current_user, request=verification)
    ).ok:
        flash(f"The link to {verification.verifier_name} no longer works.", "success")
    return redirect(same_site(request.form.get("next")) or _back_to(verification))


@bp.post("/verifications/<int:request_id>/check")
@login_required
def check(request_id: int) -> Response:
    """The assessor records how they made sure the verifier is who they say."""
    verification = _request(request_id, Action.CHECK_VERIFIER)
    form = CheckForm()
    if not form.validate_on_submit():
        flash("The form had expired; the check was not recorded. Please try again.", "error")
    elif save(
        None,
        lambda: services.record_check(
            db.session,
            actor=current_user,
            request=verification,
            method=form.method.data or "",
            note=form.note.data or "",
        ),
    ).ok:
        flash(f"Your check on {verification.verifier_name} is recorded.", "success")
    return redirect(
        url_for(
            "review.item",
            enrolment_id=verification.enrolment_id,
            version_id=request.form.get("back_to", type=int) or verification.version_id,
        )
        + f"#verification-{verification.id}"
    )


def _back_to(verification: VerificationRequest) -> str:
    """The page a request is listed on: its item's, or (a report) the portfolio's."""
    if verification.version is None:
        return url_for("evidence.portfolio", enrolment_id=verification.enrolment_id) + "#reports"
    return url_for("evidence.show_item", item_id=verification.version.item_id)


# The verifier's pages.


@outside.route("/verify/<token>", methods=["GET", "POST"])
def page(token: str) -> str | tuple[str, int] | Response:
    """The evidence a verifier was asked about, the statements, and their signature."""
    verification = pages.working(token, RequestKind.VERIFY)
    if verification is None:
        return pages.dead(token, RequestKind.VERIFY)
    version = verification.version
    form = AnswerForm()
    if request.method == "POST":
        if form.validate_on_submit():
            saved = save(
                form,
                lambda: services.answer(
                    db.session,
                    request=verification,
                    answer=Answer(
                        {s.key: form[s.key].data or "" for s in STATEMENTS},
                        form.comment.data or "",
                        form.signer_name.data or "",
                    ),
                    signature=form.signature.data or "",
                    shown=form.shown.data or "",
                    address=request.remote_addr,
                ),
            )
            if saved.ok:
                return render_template("verification/thanks.html", verification=verification)
            verification = pages.working(token, RequestKind.VERIFY)
            if verification is None:
                return pages.dead(token, RequestKind.VERIFY)
        elif "csrf_token" in form.errors:
            flash("The form had expired; nothing was sent. Please answer again.", "error")
    else:
        services.viewed(db.session, verification, request.remote_addr)
        db.session.commit()
        form.signer_name.data = verification.verifier_name
    form.shown.data = shown_token(content_hashes(version))
    return render_template(
        "verification/verify.html",
        form=form,
        verification=verification,
        version=version,
        token=token,
        learner=verification.enrolment.learner.name,
        unit=verification.enrolment.unit_release,
        statements=[
            (s.key, s.said(verification.enrolment.learner.name, version.work_date))
            for s in STATEMENTS
        ],
        targets=sorted((m.target for m in version.mappings), key=lambda t: t.position),
        notes={m.target_id: m.note for m in version.mappings},
        description=render_markdown(version.description),
        inline_types=INLINE_TYPES,
        docx=DOCX,
        file_url=lambda kind, f: url_for(f".{kind}", token=token, file_id=f.id),
    ), (400 if request.method == "POST" else 200)


def _shown_file(token: str, file_id: int) -> EvidenceFile:
    """A file of the version the link is about, while the link works."""
    verification = pages.working(token, RequestKind.VERIFY)
    if verification is None:
        abort(410, description=services.DEAD_LINK)
    evidence_file = db.session.get(EvidenceFile, file_id)
    if evidence_file is None or evidence_file.version_id != verification.version_id:
        abort(404)
    return evidence_file


@outside.get("/verify/<token>/files/<int:file_id>")
def download(token: str, file_id: int) -> Response:
    """One of the version's files, as a download."""
    return send_stored(_shown_file(token, file_id), inline=False)


@outside.get("/verify/<token>/files/<int:file_id>/inline")
def inline(token: str, file_id: int) -> Response:
    """One of the version's images or PDFs, shown in the browser."""
    return send_stored(_shown_file(token, file_id), inline=True)


@outside.get("/verify/<token>/files/<int:file_id>/preview")
def preview(token: str, file_id: int) -> str:
    """One of the version's Word files, read in the browser."""
    evidence_file = _shown_file(token, file_id)
    if evidence_file.content_type != DOCX:
        abort(404, description="Only Word (.docx) files have a preview.")
    html, problem = stored_preview(evidence_file)
    return make_response(
        render_template(
            "verification/preview.html",
            evidence_file=evidence_file,
            html=html,
            problem=problem,
            token=token,
        )
    )
