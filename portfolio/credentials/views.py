"""An assessor's own credential register, read-only: what the RTO holds and what it lets them
assess today."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portfolio.auth.permissions import Action, require
from portfolio.clock import today
from portfolio.credentials import services
from portfolio.extensions import db
from portfolio.models.base import utcnow

bp = Blueprint("credentials", __name__)


@bp.get("/account/credentials")
@login_required
def mine() -> str:
    """The credential register the RTO keeps for you."""
    require(current_user, Action.VIEW_OWN_CREDENTIALS)
    entries = services.register_of(db.session, current_user)
    return render_template(
        "credentials/mine.html",
        entries=entries,
        authorised=services.authorised_units(
            entries, services.unit_codes(db.session), today(), utcnow()
        ),
        today=today(),
        now=utcnow(),
    )
