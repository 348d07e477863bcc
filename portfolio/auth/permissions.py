"""Who may do what to which object. Every view asks here; nothing else decides access.

Objects are scoped: a learner sees only their own enrolments, an assessor only the enrolments
assigned to them, an admin everything in the RTO.
"""

from __future__ import annotations

import enum

from flask import abort

from portfolio.models import Enrolment, Role, User


class Permission(enum.StrEnum):
    MANAGE_USERS = "users:manage"
    MANAGE_ENROLMENTS = "enrolments:manage"
    VIEW_AUDIT_LOG = "audit:view"
    EXPORT = "exports:create"
    MANAGE_UNITS = "units:manage"
    VIEW_ENROLMENT = "enrolment:view"
    EDIT_EVIDENCE = "enrolment:edit-evidence"
    SUBMIT = "enrolment:submit"
    REVIEW_QUEUE = "assessor:queue"
    ASSESS = "enrolment:assess"
    VIEW_REVIEW = "enrolment:view-review"


ADMIN_ONLY = {
    Permission.MANAGE_USERS,
    Permission.MANAGE_ENROLMENTS,
    Permission.VIEW_AUDIT_LOG,
    Permission.EXPORT,
    Permission.MANAGE_UNITS,
}
ASSESSOR_ONLY = {Permission.REVIEW_QUEUE}
LEARNER_OWN = {Permission.EDIT_EVIDENCE, Permission.SUBMIT}


def can_see(user: User, enrolment: Enrolment) -> bool:
    """Whether the enrolment exists as far as this user is concerned."""
    if not user.is_authenticated or not user.active:
        return False
    return (
        user.has_role(Role.ADMIN)
        or (user.has_role(Role.LEARNER) and enrolment.learner_id == user.id)
        or (user.has_role(Role.ASSESSOR) and enrolment.assessor_id == user.id)
    )


def can(user: User, permission: Permission, enrolment: Enrolment | None = None) -> bool:
    if not user.is_authenticated or not user.active:
        return False
    if permission in ADMIN_ONLY:
        return user.has_role(Role.ADMIN)
    if permission in ASSESSOR_ONLY:
        return user.has_role(Role.ASSESSOR)
    if enrolment is None:
        raise ValueError(f"{permission} is checked against an enrolment")
    if permission is Permission.VIEW_ENROLMENT:
        return can_see(user, enrolment)
    if permission in LEARNER_OWN:
        # Only the learner builds and hands in their own portfolio; staff never do it for them.
        return user.has_role(Role.LEARNER) and enrolment.learner_id == user.id
    if permission is Permission.VIEW_REVIEW:
        # The review as the assessor works it; the learner sees its results on their portfolio.
        return user.has_role(Role.ADMIN) or (
            user.has_role(Role.ASSESSOR) and enrolment.assessor_id == user.id
        )
    if permission is Permission.ASSESS:
        # Only the assigned assessor judges; an admin sees the review but does not make it.
        return user.has_role(Role.ASSESSOR) and enrolment.assessor_id == user.id
    raise ValueError(f"unknown permission {permission}")


def require(user: User, permission: Permission, enrolment: Enrolment | None = None) -> None:
    """Stop the request unless allowed: 404 for an object the user may not know of, else 403."""
    if enrolment is not None and not can_see(user, enrolment):
        abort(404)
    if not can(user, permission, enrolment):
        abort(403)
