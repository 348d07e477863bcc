"""What every decision of the assessor's checks and does alike: the target and the evidence are
this enrolment's, the entry was not changed since the page showed it, the audit event."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portfolio.assessment.rules import NOT_IN_SUBMISSION, NOT_SUBMITTED
from portfolio.audit.log import record
from portfolio.errors import ServiceError
from portfolio.models import Enrolment, EvidenceVersion, Role, Submission, Target, User
from portfolio.models.review import AssessorEntry


class StaleEntry(ServiceError):
    """Another save reached the entry first; nothing from this request was kept."""


def audit(
    session: Session,
    actor: User,
    enrolment: Enrolment,
    action: str,
    subject: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> None:
    """The decision's audit event, by the assessor, in the caller's transaction."""
    record(
        session,
        actor=actor,
        role=Role.ASSESSOR,
        action=action,
        subject=subject,
        enrolment=enrolment,
        before=before,
        after=after,
    )


def target_of(enrolment: Enrolment, target: Target) -> Target:
    """``target``, if it is one of the enrolment's release that is judged on its own."""
    if target.unit_release_id != enrolment.unit_release_id:
        raise ServiceError("That criterion is not in this learner's unit release.")
    if target.is_group:
        raise ServiceError("Judge the lines under a heading, not the heading itself.")
    return target


def version_of(enrolment: Enrolment, version: EvidenceVersion) -> EvidenceVersion:
    """``version``, if it was handed in with this enrolment's portfolio."""
    if version.item.enrolment_id != enrolment.id or not version.frozen:
        raise ServiceError(NOT_IN_SUBMISSION)
    return version


def check_fresh(entry: AssessorEntry | None, seen_version: int, what: str) -> None:
    """Refuse a save made from a page that did not show the entry as it now is."""
    now = entry.lock_version if entry is not None else 0
    if now != seen_version:
        who = entry.assessor.name if entry is not None else "Someone"
        raise StaleEntry(
            f"{who} saved {what} after you opened this page, so your change was not saved. "
            "Reload the page to see it, then make your change again."
        )


def claim(session: Session, enrolment: Enrolment) -> None:
    """Write the enrolment row (bumping its lock version) so that of two requests adding the
    same entry at once (a double click, two tabs) the second is refused, not recorded twice."""
    flag_modified(enrolment, "state")
    session.flush()


def latest_submission(enrolment: Enrolment) -> Submission:
    if not enrolment.submissions:
        raise ServiceError(NOT_SUBMITTED)
    return enrolment.submissions[-1]
