"""Unit pages: the list of units and one unit with every section, and its framework exports."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from portfolio.audit.exports import record_export
from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.files.filetypes import path_safe_name
from portfolio.files.serving import send_download
from portfolio.models import Role, UnitRelease
from portfolio.saving import commit_before_sending
from portfolio.units.frameworks import mahara_json, moodle_csv
from portfolio.units.services import get_release, list_units, unit_view

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.get("")
def index() -> str:
    """List every unit's newest release with its counts."""
    return render_template("units/index.html", summaries=list_units(db.session))


def _found(code: str, release: int | None) -> UnitRelease:
    found = get_release(db.session, code, release)
    if found is None:
        abort(
            404,
            description=f"There is no unit {code}" + (f" release {release}." if release else "."),
        )
    return found


@bp.get("/<code>")
@bp.get("/<code>/releases/<int:release>")
def show(code: str, release: int | None = None) -> str:
    """Show a whole unit (the newest release unless one is named), every section."""
    return render_template(
        "units/show.html",
        view=unit_view(_found(code, release)),
    )


def _framework_download(
    found: UnitRelease, *, kind: str, system: str, data: str, mimetype: str, extension: str
) -> Response:
    """Record who took the framework, then send it as an attachment."""
    code = found.unit.code
    commit_before_sending(
        lambda: record_export(
            db.session,
            actor=current_user,
            role=Role.ADMIN,
            kind=kind,
            description=f"{system} framework {code} release {found.release}",
            count=len(found.targets),
            details={"unit": code, "release": found.release},
        )
    )
    return send_download(
        data.encode("utf-8"),
        name=path_safe_name(f"{code}-r{found.release}-{extension}"),
        mimetype=mimetype,
    )


@bp.post("/<code>/releases/<int:release>/moodle.csv")
@login_required
def moodle_framework(code: str, release: int) -> Response:
    """The release as a Moodle competency framework CSV (Import competency framework)."""
    require(current_user, Action.EXPORT)
    found = _found(code, release)
    return _framework_download(
        found,
        kind="moodle-framework",
        system="Moodle competency",
        data=moodle_csv(found),
        mimetype="text/csv",
        extension="moodle.csv",
    )


@bp.post("/<code>/releases/<int:release>/mahara.matrix")
@login_required
def mahara_framework(code: str, release: int) -> Response:
    """The release as a Mahara SmartEvidence framework (.matrix, JSON)."""
    require(current_user, Action.EXPORT)
    found = _found(code, release)
    return _framework_download(
        found,
        kind="mahara-framework",
        system="Mahara SmartEvidence",
        data=mahara_json(found),
        mimetype="application/json",
        extension="mahara.matrix",
    )
