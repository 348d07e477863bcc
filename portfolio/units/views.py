"""Unit pages: the list of units and one unit with every section."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from portfolio.extensions import db
from portfolio.units.services import get_release, list_units, unit_view

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.get("")
def index() -> str:
    """List every unit's newest release with its counts."""
    return render_template("units/index.html", summaries=list_units(db.session))


@bp.get("/<code>")
@bp.get("/<code>/releases/<int:release>")
def show(code: str, release: int | None = None) -> str:
    """Show a whole unit (the newest release unless one is named), every section."""
    found = get_release(db.session, code, release)
    if found is None:
        abort(
            404,
            description=f"There is no unit {code}" + (f" release {release}." if release else "."),
        )
    return render_template("units/show.html", view=unit_view(found))
