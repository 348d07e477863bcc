"""Verification requests: asked by the learner or the assessor, answered through an emailed
link by a workplace supervisor with no account, checked by the assessor.

A link is a random token; only its SHA-256 is kept, and the one found by it is compared again
in constant time. It works once, until it expires (VERIFICATION_LINK_DAYS) or is withdrawn.
The version it asks about is fixed when it is sent: a change to the item after that makes a
new version (``portfolio.evidence.services``), so what the verifier sees is what they vouch
for. Every request, view, answer, withdrawal, expiry and check is in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from portfolio.audit.log import record
from portfolio.auth.permissions import Action, check_state
from portfolio.errors import ServiceError
from portfolio.files.signatures import signature_png
from portfolio.mail.outbox import Outsider, mail_on, public_url, write
from portfolio.models import (
    Enrolment,
    EvidenceItem,
    EvidenceVersion,
    Role,
    User,
    VerificationRequest,
    VerificationState,
)
from portfolio.models.base import utcnow
from portfolio.text import day_and_time
from portfolio.verification.rules import (
    MAX_OPEN_PER_ITEM,
    STATEMENTS,
    Answer,
    Verifier,
    answered_payload,
    checked_answer,
    checked_check,
    checked_verifier,
    content_hashes,
    outcome,
    requested_payload,
    shown_token,
)

#: What the holder of a link that does not work is told, whatever the reason: the reason is in
#: the audit log, not on a page anyone holding a guessed link can read.
DEAD_LINK = (
    "This link does not work any more: it has been used already, has expired, or was "
    "withdrawn. If you still need to verify the work, ask the learner or their assessor to "
    "send a new one."
)
MAIL_OFF = (
    "Email is not set up here, so a verification link cannot be sent. Ask your RTO's "
    "administrator to set up email."
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_path(token: str) -> str:
    return f"/verify/{token}"


def _role(actor: User, enrolment: Enrolment) -> Role:
    return Role.LEARNER if actor.id == enrolment.learner_id else Role.ASSESSOR


def _subject(request: VerificationRequest) -> str:
    return f"verification:{request.id}"


def _when(moment: datetime) -> str:
    return day_and_time(moment, ZoneInfo(current_app.config["RTO_TIMEZONE"]))


def request_verification(
    session: Session, *, actor: User, item: EvidenceItem, verifier: Verifier
) -> VerificationRequest:
    """Email ``verifier`` a link to verify the item's current version."""
    enrolment = item.enrolment
    check_state(Action.REQUEST_VERIFICATION, enrolment)
    if not mail_on():
        raise ServiceError(MAIL_OFF)
    version = item.current_version
    assert version is not None
    checked = checked_verifier(
        verifier, learner_email=enrolment.learner.email, requester_email=actor.email
    )
    waiting = session.scalar(
        select(func.count(VerificationRequest.id))
        .join(EvidenceVersion, EvidenceVersion.id == VerificationRequest.version_id)
        .where(
            EvidenceVersion.item_id == item.id,
            VerificationRequest.state == VerificationState.OPEN,
            VerificationRequest.expires_at > utcnow(),
        )
    )
    if (waiting or 0) >= MAX_OPEN_PER_ITEM:
        raise ServiceError(
            f"{item.reference} already has {MAX_OPEN_PER_ITEM} links waiting for an answer: "
            "withdraw one before sending another."
        )
    token = secrets.token_urlsafe(32)
    request = VerificationRequest(
        enrolment_id=enrolment.id,
        version_id=version.id,
        requested_by_id=actor.id,
        verifier_name=checked.name,
        verifier_email=checked.email,
        verifier_position=checked.position,
        verifier_organisation=checked.organisation,
        relationship_to_learner=checked.relationship,
        token_hash=_hash(token),
        expires_at=utcnow() + timedelta(days=int(current_app.config["VERIFICATION_LINK_DAYS"])),
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor=actor,
        role=_role(actor, enrolment),
        action="verification.requested",
        subject=_subject(request),
        enrolment=enrolment,
        after={
            "item": item.reference,
            **requested_payload(checked, version=version.version, expires_at=request.expires_at),
        },
    )
    write(
        session,
        to=Outsider(checked.name, checked.email),
        kind="verification.request",
        subject=f"Please verify {enrolment.learner.name}'s work",
        link=public_url(link_path(token)),
        context={
            "learner": enrolment.learner.name,
            "unit": f"{enrolment.unit_release.unit.code} {enrolment.unit_release.title}",
            "title": version.title,
            "asked_by": actor.name,
            "expires": _when(request.expires_at),
        },
    )
    return request


def revoke(session: Session, *, actor: User, request: VerificationRequest) -> None:
    """Withdraw a link that has not been answered; it stops working at once."""
    check_state(Action.REVOKE_VERIFICATION, request.enrolment)
    changed = session.execute(
        update(VerificationRequest)
        .where(
            VerificationRequest.id == request.id,
            VerificationRequest.state == VerificationState.OPEN,
        )
        .values(state=VerificationState.REVOKED, closed_at=utcnow(), revoked_by_id=actor.id),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not changed:
        session.refresh(request)
        raise ServiceError(
            f"The link to {request.verifier_name} cannot be withdrawn: it is "
            f"{request.state.label.lower()}."
        )
    session.refresh(request)
    record(
        session,
        actor=actor,
        role=_role(actor, request.enrolment),
        action="verification.revoked",
        subject=_subject(request),
        enrolment=request.enrolment,
        after={"verifier": request.verifier_email},
    )


def _expire(session: Session, request: VerificationRequest) -> bool:
    """Mark an open request past its expiry as expired, once; True when this call did."""
    changed = session.execute(
        update(VerificationRequest)
        .where(
            VerificationRequest.id == request.id,
            VerificationRequest.state == VerificationState.OPEN,
            VerificationRequest.expires_at <= utcnow(),
        )
        .values(state=VerificationState.EXPIRED, closed_at=utcnow()),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.refresh(request)
    if changed:
        record(
            session,
            actor=None,
            role=None,
            action="verification.expired",
            subject=_subject(request),
            enrolment=request.enrolment,
            after={"expired_at": request.expires_at, "verifier": request.verifier_email},
        )
    return bool(changed)


def expire_due(session: Session) -> int:
    """Every open request past its expiry, marked expired and logged (a daily command)."""
    due = session.scalars(
        select(VerificationRequest).where(
            VerificationRequest.state == VerificationState.OPEN,
            VerificationRequest.expires_at <= utcnow(),
        )
    ).all()
    return sum(_expire(session, request) for request in due)


def _stored(session: Session, token: str) -> VerificationRequest | None:
    wanted = _hash(token)
    request = session.scalar(
        select(VerificationRequest).where(VerificationRequest.token_hash == wanted)
    )
    if request is None or not hmac.compare_digest(request.token_hash, wanted):
        return None
    return request


def find_open(session: Session, token: str) -> VerificationRequest | None:
    """The request whose link this is, while it works; else None. A link found expired is
    marked so, and logged, here."""
    request = _stored(session, token)
    if request is None or request.state is not VerificationState.OPEN:
        return None
    if request.expires_at <= utcnow():
        _expire(session, request)
        return None
    return request


def refused(session: Session, token: str, address: str | None) -> None:
    """Log a link that did not work, and why."""
    request = _stored(session, token)
    record(
        session,
        actor=None,
        role=None,
        action="verification.link-refused",
        subject=_subject(request) if request else "verification",
        enrolment=request.enrolment if request else None,
        after={
            "address": address,
            "reason": request.state.label.lower() if request else "unknown link",
        },
    )


def viewed(session: Session, request: VerificationRequest, address: str | None) -> None:
    """The verifier opened the page: logged each time, and the first time kept on the row."""
    first = request.first_viewed_at is None
    if first:
        request.first_viewed_at = utcnow()
    record(
        session,
        actor=None,
        role="verifier",
        action="verification.viewed",
        subject=_subject(request),
        enrolment=request.enrolment,
        after={"address": address, "first": first},
    )


def answer(
    session: Session,
    *,
    request: VerificationRequest,
    answer: Answer,
    signature: str,
    shown: str,
    address: str | None,
) -> VerificationState:
    """Take the verifier's answer to the content the page showed (``shown``), signed."""
    hashes = content_hashes(request.version)
    if not hmac.compare_digest(shown, shown_token(hashes)):
        raise ServiceError(
            "The evidence changed while the page was open. Read it again below before you answer."
        )
    statements, comment, signer = checked_answer(answer, verifier_name=request.verifier_name)
    png = signature_png(signature)
    state = outcome(statements)
    changed = session.execute(
        update(VerificationRequest)
        .where(
            VerificationRequest.id == request.id,
            VerificationRequest.state == VerificationState.OPEN,
            VerificationRequest.expires_at > utcnow(),
        )
        .values(
            state=state,
            closed_at=utcnow(),
            statements=statements,
            comment=comment,
            signer_name=signer,
            signature_png=png,
            confirmed_hashes=hashes,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not changed:
        raise ServiceError(DEAD_LINK)
    session.refresh(request)
    record(
        session,
        actor=None,
        role="verifier",
        action="verification.confirmed"
        if state is VerificationState.CONFIRMED
        else "verification.declined",
        subject=_subject(request),
        enrolment=request.enrolment,
        after=answered_payload(statements, signer=signer, hashes=hashes, address=address),
    )
    _tell_requester(session, request)
    return state


def _tell_requester(session: Session, request: VerificationRequest) -> None:
    enrolment = request.enrolment
    item = request.version.item
    for person in {request.requested_by, enrolment.learner}:
        write(
            session,
            to=person,
            kind="verification.answered",
            subject=f"{request.verifier_name} answered about {item.reference}",
            link=public_url(f"/evidence/{item.id}"),
            context={
                "request": request,
                "item": item,
                "unit": enrolment.unit_release.unit.code,
            },
        )


def record_check(
    session: Session, *, actor: User, request: VerificationRequest, method: str, note: str
) -> None:
    """The assessor's check on who the verifier is (a phone call, a known contact)."""
    check_state(Action.CHECK_VERIFIER, request.enrolment)
    if not request.answered:
        raise ServiceError("Check the verifier once they have answered.")
    chosen, kept = checked_check(method, note)
    before = (
        {"check": request.check_method, "note": request.check_note}
        if request.check_method
        else None
    )
    request.check_method = chosen
    request.check_note = kept
    request.checked_by_id = actor.id
    request.checked_at = utcnow()
    record(
        session,
        actor=actor,
        role=Role.ASSESSOR,
        action="verification.verifier-checked",
        subject=_subject(request),
        enrolment=request.enrolment,
        before=before,
        after={"check": chosen, "note": kept, "verifier": request.verifier_email},
    )


def of_items(session: Session, item_ids: Iterable[int]) -> dict[int, list[VerificationRequest]]:
    """Every request about the items, newest first, by item id (one query)."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(VerificationRequest)
        .join(EvidenceVersion, EvidenceVersion.id == VerificationRequest.version_id)
        .where(EvidenceVersion.item_id.in_(ids))
        .options(
            selectinload(VerificationRequest.version),
            selectinload(VerificationRequest.requested_by),
            selectinload(VerificationRequest.checked_by),
        )
        .order_by(VerificationRequest.id.desc())
    ).all()
    found: dict[int, list[VerificationRequest]] = defaultdict(list)
    for row in rows:
        found[row.version.item_id].append(row)
    return dict(found)


def statements_for(request: VerificationRequest) -> list[tuple[str, bool | None]]:
    """Each statement in words, with the verifier's answer (None before they answer)."""
    version = request.version
    learner = request.enrolment.learner.name
    given = request.statements or {}
    return [(s.said(learner, version.work_date), given.get(s.key)) for s in STATEMENTS]
