"""What every assessment page loads first: the enrolment (with its people, checked against
the policy for the request's user) and the review's read model with the RTO's settings."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import joinedload, lazyload

from portfolio.assessment.review import ReviewView, review_view
from portfolio.auth.permissions import Action, require
from portfolio.extensions import db
from portfolio.models import Enrolment, User


def enrolment_or_404(enrolment_id: int, permission: Action) -> Enrolment:
    """The enrolment, if the user may do ``permission`` to it (404 or 403 otherwise)."""
    # The pages name the learner and the assessor, not their roles: in the same query.
    people = [
        joinedload(relationship).options(lazyload(User.role_rows))
        for relationship in (Enrolment.learner, Enrolment.assessor)
    ]
    enrolment = db.get_or_404(Enrolment, enrolment_id, options=people)
    require(current_user, permission, enrolment)
    return enrolment


def review_of(enrolment: Enrolment) -> ReviewView:
    return review_view(
        db.session, enrolment, currency_years=current_app.config["EVIDENCE_CURRENCY_YEARS"]
    )
