"""Admin pages for units: add one from its published text."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.files.serving import send_download
from portfolio.saving import save
from portfolio.units.forms import UnitImportForm
from portfolio.units.importing import (
    Draft,
    SourceError,
    loaded_releases,
    prepare,
    save_release,
    text_from_upload,
)

bp = Blueprint("admin_units", __name__, url_prefix="/admin/units")


@bp.before_request
@login_required
def _admins_only() -> None:
    require(current_user, Action.MANAGE_UNITS)


@bp.route("/import", methods=["GET", "POST"])
def import_unit() -> str | Response:
    """Paste or upload a unit's text, see what was read beside the source, correct, save."""
    form = UnitImportForm()
    draft: Draft | None = None
    if form.validate_on_submit():
        draft = _draft(form)
    if draft is not None and draft.ok and form.download.data:
        return send_download(
            draft.yaml_text.encode("utf-8"), name=draft.file_name, mimetype="application/yaml"
        )
    if draft is not None and draft.ok and form.save.data:
        result = save(
            None,
            lambda: save_release(db.session, draft, actor=current_user),
            conflict="Another admin saved this unit at the same moment; read the text again to "
            "see what is loaded now.",
        )
        saved = result.value
        if saved is not None and saved.problem:
            flash(saved.problem, "error")
        elif saved is not None:
            document = draft.unit.document
            verb = "Added" if saved.added else "Already loaded, with the same content:"
            flash(f"{verb} {saved.label}. Learners can now be enrolled in it.", "success")
            return redirect(url_for("units.show", code=document.code, release=document.release))
    releases = loaded_releases(db.session, draft) if draft is not None else []
    return render_template("units/import.html", form=form, draft=draft, releases=releases)


def _draft(form: UnitImportForm) -> Draft | None:
    """Read the text (an upload replaces what was pasted) and fill the form from it."""
    upload = form.source.data
    if upload and getattr(upload, "filename", ""):
        try:
            form.text.data = text_from_upload(upload.filename, upload.stream)
        except SourceError as error:
            form.source.errors = [*form.source.errors, str(error)]
            return None
        finally:
            upload.close()
    if not (form.text.data or "").strip():
        form.text.errors = [*form.text.errors, "Paste the unit's text, or upload its page."]
        return None
    draft = prepare(
        form.text.data,
        code=form.code.data,
        title=form.title.data,
        release=form.release.data,
    )
    # The fields show what will be saved: the admin's values, else what the text gave.
    form.code.data = draft.data.get("code")
    form.title.data = draft.data.get("title")
    form.release.data = draft.data.get("release")
    for name in draft.missing:
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, f"The text gives no {name}: type it here."]
    return draft
