"""What the pages reached by a third party's emailed link share: a blueprint kept in no cache,
sending no referrer and limited per address, and the answer to a link that does not work.

A verification's pages (``portfolio.verification.views``) and a report's
(``portfolio.evidence.reports``) are each made with ``outside``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from portfolio.extensions import db, limiter
from portfolio.models import RequestKind, VerificationRequest
from portfolio.verification import services


def _address_limit() -> str:
    return current_app.config["VERIFY_ADDRESS_LIMIT"]


def _private(response: Response) -> Response:
    """The token is in the address: no copy kept, no referrer sent, no search engine."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def outside(name: str, import_name: str) -> Blueprint:
    """A blueprint for pages a person with no account reaches by an emailed link."""
    blueprint = Blueprint(name, import_name)
    limiter.limit(
        _address_limit,
        error_message="Too many requests from your network in a short time. Wait a few "
        "minutes, then open the link again.",
    )(blueprint)
    blueprint.after_request(_private)
    return blueprint


def dead(token: str, kind: RequestKind) -> tuple[str, int]:
    """The page for a link that does not work (the reason is logged, not shown)."""
    services.refused(db.session, token, request.remote_addr, kind)
    db.session.commit()
    message = services.why_dead(db.session, token, kind)
    return render_template("verification/dead.html", message=message), 410


def working(token: str, kind: RequestKind) -> VerificationRequest | None:
    """The open request of ``kind`` whose link this is, or None (an expiry found is kept)."""
    found = services.find_open(db.session, token)
    if found is None or found.kind is not kind:
        db.session.commit()
        return None
    return found
