"""A third party's report arriving in the portfolio as an evidence item of its own.

The supervisor answers the report link (``portfolio.verification``): each criterion asked about
seen or not seen with a note, the day they last saw the work, a comment and their signature.
The report becomes the next evidence item (type "Third-party report"), mapped to the criteria
they saw, its words written from their answers, and kept as they wrote it: the learner cannot
change it. A portfolio already handed in gets it as part of the submission under review, so the
assessor decides on it like any other item; otherwise it goes in with the next hand-in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portfolio.audit.log import record
from portfolio.auth.permissions import Action, states_of
from portfolio.clock import today
from portfolio.errors import ServiceError
from portfolio.evidence import rules
from portfolio.files.signatures import signature_png
from portfolio.models import (
    EvidenceItem,
    EvidenceMapping,
    EvidenceType,
    EvidenceVersion,
    VerificationRequest,
    VerificationState,
)
from portfolio.verification.rules import (
    Report,
    Verifier,
    checked_report,
    content_hashes,
    report_text,
    report_title,
    reported_payload,
)
from portfolio.verification.services import asked_targets, close, tell_requester


def file_report(
    session: Session,
    *,
    request: VerificationRequest,
    report: Report,
    signature: str,
    address: str | None,
) -> EvidenceItem:
    """Take the third party's signed report and add it to the portfolio as evidence."""
    enrolment = request.enrolment
    if enrolment.state not in states_of(Action.REQUEST_VERIFICATION):
        raise ServiceError(
            f"{enrolment.learner.name}'s assessment of this unit is finished, so a report can "
            "no longer be added to it. Thank you all the same."
        )
    targets = asked_targets(session, request)
    checked = checked_report(report, targets=[t.id for t in targets], today=today())
    png = signature_png(signature)
    verifier = Verifier(
        request.verifier_name,
        request.verifier_email,
        request.verifier_position,
        request.verifier_organisation,
        request.relationship_to_learner,
    )
    number = enrolment.next_evidence_number
    enrolment.next_evidence_number = number + 1
    item = EvidenceItem(enrolment=enrolment, number=number)
    notes = {int(t): o["note"] for t, o in checked.observations.items() if o["seen"]}
    version = EvidenceVersion(
        item=item,
        version=1,
        title=report_title(checked.signer, verifier.position),
        evidence_type=EvidenceType.THIRD_PARTY_REPORT,
        work_date=checked.observed_on,
        description=report_text(
            checked, refs={t.id: (t.ref, t.text) for t in targets}, verifier=verifier
        ),
        created_by_id=request.requested_by_id,
        mappings=[
            EvidenceMapping(target_id=t.id, note=notes[t.id] or f"Seen by {checked.signer}")
            for t in targets
            if t.id in notes
        ],
    )
    # Handed in and waiting for the assessor, or under review: the states of the review queue.
    if enrolment.state in states_of(Action.START_REVIEW, Action.JUDGE):
        version.submission_id = enrolment.submissions[-1].id
    session.add_all([item, version])
    session.flush()
    item.current_version = version
    session.flush()
    close(
        session,
        request,
        VerificationState.REPORTED,
        observations=checked.observations,
        observed_on=checked.observed_on,
        comment=checked.comment,
        signer_name=checked.signer,
        signature_png=png,
        confirmed_hashes=content_hashes(version),
        report_item_id=item.id,
    )
    record(
        session,
        actor=None,
        role="verifier",
        action="evidence.created",
        subject=f"evidence:{item.reference}",
        enrolment=enrolment,
        after=rules.created_payload(version),
    )
    record(
        session,
        actor=None,
        role="verifier",
        action="verification.reported",
        subject=f"verification:{request.id}",
        enrolment=enrolment,
        after=reported_payload(
            checked, item=item.reference, refs={t.id: t.ref for t in targets}, address=address
        ),
    )
    tell_requester(session, request)
    return item
