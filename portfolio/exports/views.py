"""Export pages: the evidence pack of one enrolment, and the admin's matrix, register and bundle.

Every download is recorded in the audit log before it is sent: who took a copy, of what, when.
Downloads are asked for by POST with the form's token, so a link from elsewhere adds nothing.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields import SelectChoice

from portfolio.audit.exports import record_export
from portfolio.auth.permissions import Action, require
from portfolio.clock import today
from portfolio.errors import ServiceError
from portfolio.exports.bundle import Selection
from portfolio.exports.forms import BundleForm, MatrixForm, RegisterForm
from portfolio.exports.jobs import find_bundle, open_bundle, recent_bundles, start_bundle
from portfolio.exports.letterhead import Letterhead
from portfolio.exports.matrix import build_matrix, cohort_ids, matrix_data
from portfolio.exports.pack import build_pack, pack_data
from portfolio.exports.pdf import PDF_MIME_TYPE, ConversionFailed, Converter
from portfolio.exports.register import describe_register, register_rows, write_csv, write_xlsx
from portfolio.extensions import db
from portfolio.files.filetypes import CSV, DOCX, XLSX, path_safe_name
from portfolio.files.serving import presigned, send_download
from portfolio.files.uploads import storage
from portfolio.models import Enrolment, Job, JobState, Role, Unit
from portfolio.saving import commit_before_sending, show_error
from portfolio.text import count

bp = Blueprint("exports", __name__)


def _acting_role() -> Role:
    if current_user.has_role(Role.ADMIN):
        return Role.ADMIN
    return Role.ASSESSOR


def _document(document, name: str, kind: str = "docx") -> Response:
    """The Word document as the file ``name`` (without its extension), as Word or as PDF."""
    converter = Converter.from_config(current_app.config)
    if kind == "pdf":
        try:
            pdf = converter.convert(document)
        except ConversionFailed as failed:
            abort(503, description=failed.message)
        return send_download(pdf, name=f"{name}.pdf", mimetype=PDF_MIME_TYPE)
    converter.try_number_contents(document)
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return send_download(buffer, name=f"{name}.docx", mimetype=DOCX.mime_type)


@bp.post("/enrolments/<int:enrolment_id>/evidence-pack.docx", defaults={"kind": "docx"})
@bp.post("/enrolments/<int:enrolment_id>/evidence-pack.pdf", defaults={"kind": "pdf"})
@login_required
def evidence_pack(enrolment_id: int, kind: str) -> Response:
    """One learner's evidence pack for one unit, as Word or PDF."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    require(current_user, Action.EXPORT_PACK, enrolment)
    config = current_app.config
    data = pack_data(db.session, enrolment, currency_years=config["EVIDENCE_CURRENCY_YEARS"])
    document = build_pack(data, letterhead=Letterhead.from_config(config), open_file=storage().open)
    response = _document(document, f"evidence-pack-{data.reference}", kind)  # made, then logged
    _recorded(
        role=_acting_role(),
        kind="pack",
        description=f"Evidence pack {data.reference}" + (" (PDF)" if kind == "pdf" else ""),
        count=1,
        enrolment=enrolment,
    )
    return response


def _recorded(**export: Any) -> None:
    """Record who took a copy, and commit, before it is sent."""
    commit_before_sending(lambda: record_export(db.session, actor=current_user, **export))


def _unit_choices(blank: str | None) -> list[SelectChoice]:
    codes = db.session.scalars(select(Unit.code).order_by(Unit.code))
    choices = [SelectChoice("", blank)] if blank else []
    return choices + [SelectChoice(code) for code in codes]


def _forms() -> tuple[MatrixForm, RegisterForm, BundleForm]:
    matrix = MatrixForm(prefix="m")
    register = RegisterForm(prefix="r")
    bundle = BundleForm(prefix="b")
    matrix.unit.choices = _unit_choices(None)
    register.unit.choices = _unit_choices("Every unit")
    bundle.unit.choices = _unit_choices("Every unit")
    return matrix, register, bundle


def _page(**forms: object) -> str:
    """The exports page with its forms as given, and the latest bundles with their state."""
    return render_template("exports/index.html", recent=recent_bundles(db.session), **forms)


@bp.get("/admin/exports")
@login_required
def index() -> str:
    """The documents an auditor asks for, with the bundle of everything."""
    require(current_user, Action.EXPORT)
    matrix, register, bundle = _forms()
    return _page(matrix=matrix, register=register, bundle=bundle)


@bp.post("/admin/exports/matrix.docx")
@login_required
def matrix() -> str | Response:
    """The unit mapping matrix for a cohort."""
    require(current_user, Action.EXPORT)
    form, register, bundle = _forms()
    if not form.validate():
        return _page(matrix=form, register=register, bundle=bundle), 400
    unit = form.unit.data
    start, end = form.enrolled_from.data, form.enrolled_to.data
    try:
        ids = cohort_ids(db.session, unit, enrolled_from=start, enrolled_to=end)
    except ServiceError as error:
        show_error(form, error)
        return _page(matrix=form, register=register, bundle=bundle), 400
    when = f", enrolled {start or 'any time'} to {end or 'today'}" if start or end else ""
    data = matrix_data(db.session, unit, ids, description=f"{len(ids)} learners{when}")
    document = build_matrix(data, letterhead=Letterhead.from_config(current_app.config))
    name = path_safe_name(f"mapping-matrix-{unit}-{today().isoformat()}")
    response = _document(document, name, form.format.data)  # made, then logged
    _recorded(
        role=Role.ADMIN,
        kind="matrix",
        description=f"Unit mapping matrix {unit}{when}"
        + (" (PDF)" if form.format.data == "pdf" else ""),
        count=len(ids),
    )
    return response


@bp.post("/admin/exports/register")
@login_required
def register() -> str | Response:
    """Every decided enrolment with its AVETMISS outcome code, as CSV or Excel."""
    require(current_user, Action.EXPORT)
    matrix_form, form, bundle = _forms()
    if form.validate():
        try:
            rows = register_rows(
                db.session,
                unit_code=form.unit.data or None,
                decided_from=form.decided_from.data,
                decided_to=form.decided_to.data,
            )
        except ServiceError as error:
            show_error(form, error)
        else:
            description = describe_register(
                unit_code=form.unit.data or None,
                decided_from=form.decided_from.data,
                decided_to=form.decided_to.data,
            )
            _recorded(
                role=Role.ADMIN,
                kind="register",
                description=description,
                count=len(rows),
                details={"format": form.format.data},
            )
            name = f"outcomes-register-{today().isoformat()}"
            if form.format.data == "xlsx":
                out = io.BytesIO()
                write_xlsx(rows, out)
                out.seek(0)
                return send_download(out, name=f"{name}.xlsx", mimetype=XLSX.mime_type)
            text = io.StringIO(newline="")
            write_csv(rows, text, bom=True)
            data = io.BytesIO(text.getvalue().encode("utf-8"))
            return send_download(data, name=f"{name}.csv", mimetype=CSV.mime_type)
    return _page(matrix=matrix_form, register=form, bundle=bundle), 400


def _chosen_ids(text: str) -> list[int]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        raise ServiceError(
            "List enrolment numbers separated by commas, e.g. 12, 15, 31.", "enrolments"
        )
    return [int(p) for p in parts]


@bp.post("/admin/exports/bundles")
@login_required
def start() -> str | Response:
    """Start building an audit bundle; the next page follows its progress."""
    require(current_user, Action.EXPORT)
    matrix_form, register_form, form = _forms()
    if form.validate_on_submit():
        try:
            selection = Selection(
                unit_code=form.unit.data or None,
                decided_from=form.decided_from.data,
                decided_to=form.decided_to.data,
                enrolment_ids=_chosen_ids(form.enrolments.data or ""),
                pdfs=bool(form.pdfs.data),
            )
            job_id = start_bundle(current_app._get_current_object(), selection, current_user)
        except ServiceError as error:
            show_error(form, error)
        else:
            return redirect(url_for(".progress", job_id=job_id))
    return _page(matrix=matrix_form, register=register_form, bundle=form), 400


def _job(job_id: str):
    require(current_user, Action.EXPORT)
    try:
        job = find_bundle(db.session, job_id)
    except ServiceError:
        job = None
    if job is None:
        days = current_app.config["BUNDLE_KEEP_DAYS"]
        abort(
            404,
            description=(
                f"There is no such bundle. Bundles are deleted {count(days, 'day')} after they "
                "are built; build it again from Exports."
            ),
        )
    return job


@bp.get("/admin/exports/bundles/<job_id>")
@login_required
def progress(job_id: str) -> str:
    """The bundle being built: a bar that fills as enrolments are added, then the download."""
    job = _job(job_id)
    return render_template("exports/bundle.html", job=job, state=_shown_state(job), job_id=job_id)


@bp.get("/admin/exports/bundles/<job_id>/status")
@login_required
def status(job_id: str) -> Response:
    """The progress as JSON, for the page to poll."""
    job = _job(job_id)
    return jsonify(
        state=_shown_state(job),
        done=job.done,
        total=job.total,
        size=job.result_size,
        message=job.message,
    )


def _shown_state(job: Job) -> str:
    """What the page shows: building (waiting or running), done or failed."""
    return {JobState.DONE: "done", JobState.FAILED: "failed"}.get(job.state, "running")


@bp.post("/admin/exports/bundles/<job_id>/download")
@login_required
def download(job_id: str) -> Response:
    """The finished bundle, streamed from the evidence store."""
    job = _job(job_id)
    if job.state is not JobState.DONE:
        abort(404)
    kind = "validation" if job.params.get("validation_id") else "audit"
    name = f"{kind}-bundle-{today().isoformat()}.zip"
    try:
        bundle_file = open_bundle(job)
    except (FileNotFoundError, OSError):
        abort(
            404,
            description="The bundle's file is no longer kept; build it again from Exports.",
        )
    _recorded(
        role=Role.ADMIN,
        kind="bundle-download",
        description=f"Audit bundle downloaded: {job.description}",
        count=job.total,
        details={"job": job_id, "bytes": job.result_size},
    )
    assert job.result_key is not None  # a finished bundle names its file
    if sent := presigned(job.result_key, name=name, mimetype="application/zip"):
        bundle_file.close()
        return sent
    return send_download(bundle_file, name=name, mimetype="application/zip")
