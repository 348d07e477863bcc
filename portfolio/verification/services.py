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

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session, selectinload

from portfolio.audit.log import record
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import rto_zone
from portfolio.errors import ServiceError
from portfolio.files.signatures import signature_png
from portfolio.mail.outbox import Outsider, mail_on, public_url, write
from portfolio.models import (
    Enrolment,
    EvidenceItem,
    EvidenceVersion,
    RequestKind,
    Role,
    Target,
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
    checked_targets,
    checked_verifier,
    content_hashes,
    observations,
    outcome,
    requested_payload,
    shown_token,
)

#: What anyone is told of an address that is no link sent (a guessed one), or of a link used
#: meanwhile in another tab: nothing about any request.
DEAD_LINK = (
    "This link does not work: it has been used already, has expired, or was withdrawn. If you "
    "still need to answer, ask the learner or their assessor to send a new one."
)
MAIL_OFF = (
    "Email is not set up here, so a verification link cannot be sent. Ask your RTO's "
    "administrator to set up email."
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_path(kind: RequestKind, token: str) -> str:
    """The address of a link: a verification's page or a report's."""
    return f"/{'verify' if kind is RequestKind.VERIFY else 'report'}/{token}"


def _role(actor: User, enrolment: Enrolment) -> Role:
    return Role.LEARNER if actor.id == enrolment.learner_id else Role.ASSESSOR


def _subject(request: VerificationRequest) -> str:
    return f"verification:{request.id}"


def _when(moment: datetime) -> str:
    return day_and_time(moment, rto_zone())


def request_verification(
    session: Session, *, actor: User, item: EvidenceItem, verifier: Verifier
) -> VerificationRequest:
    """Email ``verifier`` a link to verify the item's current version."""
    version = item.current_version
    assert version is not None
    waiting = (
        select(func.count(VerificationRequest.id))
        .join(EvidenceVersion, EvidenceVersion.id == VerificationRequest.version_id)
        .where(EvidenceVersion.item_id == item.id)
    )
    return _ask(
        session,
        actor=actor,
        enrolment=item.enrolment,
        verifier=verifier,
        waiting=waiting,
        full=f"{item.reference} already has {MAX_OPEN_PER_ITEM} links waiting for an answer",
        request=VerificationRequest(kind=RequestKind.VERIFY, version_id=version.id),
        logged={"item": item.reference, "version": version.version},
        mail=("verification.request", f"Please verify {item.enrolment.learner.name}'s work"),
        context={"title": version.title},
    )


def request_report(
    session: Session, *, actor: User, enrolment: Enrolment, verifier: Verifier, targets: list[int]
) -> VerificationRequest:
    """Email ``verifier`` a link to report what they saw of the learner's work against
    ``targets`` (criterion ids of the enrolment's unit)."""
    offered = dict(
        session.execute(
            select(Target.id, Target.ref)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.judged_alone)
            .order_by(Target.position)
        ).all()
    )
    chosen = checked_targets(targets, offered)
    waiting = select(func.count(VerificationRequest.id)).where(
        VerificationRequest.enrolment_id == enrolment.id,
        VerificationRequest.kind == RequestKind.REPORT,
    )
    return _ask(
        session,
        actor=actor,
        enrolment=enrolment,
        verifier=verifier,
        waiting=waiting,
        full=f"{MAX_OPEN_PER_ITEM} report requests are already waiting for an answer",
        request=VerificationRequest(kind=RequestKind.REPORT, report_targets=chosen),
        logged={"criteria": [offered[t] for t in chosen]},
        mail=(
            "verification.report",
            f"Please report on {enrolment.learner.name}'s work",
        ),
        context={"criteria": [offered[t] for t in chosen]},
    )


def _ask(
    session: Session,
    *,
    actor: User,
    enrolment: Enrolment,
    verifier: Verifier,
    waiting: Select[tuple[int]],
    full: str,
    request: VerificationRequest,
    logged: dict[str, object],
    mail: tuple[str, str],
    context: dict[str, object],
) -> VerificationRequest:
    """Keep ``request`` to ``verifier`` and email them its link: the steps a verification and
    a report share. ``waiting`` counts the requests of the same kind that take room."""
    check_state(Action.REQUEST_VERIFICATION, enrolment)
    if not mail_on():
        raise ServiceError(MAIL_OFF)
    checked = checked_verifier(
        verifier, learner_email=enrolment.learner.email, requester_email=actor.email
    )
    still_open = session.scalar(
        waiting.where(
            VerificationRequest.state == VerificationState.OPEN,
            VerificationRequest.expires_at > utcnow(),
        )
    )
    if (still_open or 0) >= MAX_OPEN_PER_ITEM:
        raise ServiceError(f"{full}: withdraw one before sending another.")
    token = secrets.token_urlsafe(32)
    request.enrolment_id = enrolment.id
    request.requested_by_id = actor.id
    request.verifier_name = checked.name
    request.verifier_email = checked.email
    request.verifier_position = checked.position
    request.verifier_organisation = checked.organisation
    request.relationship_to_learner = checked.relationship
    request.token_hash = _hash(token)
    request.expires_at = utcnow() + timedelta(
        days=int(current_app.config["VERIFICATION_LINK_DAYS"])
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
            "kind": request.kind,
            **logged,
            **requested_payload(checked, expires_at=request.expires_at),
        },
    )
    kind, subject = mail
    write(
        session,
        to=Outsider(checked.name, checked.email),
        kind=kind,
        subject=subject,
        link=public_url(link_path(request.kind, token)),
        context={
            "learner": enrolment.learner.name,
            "unit": f"{enrolment.unit_release.unit.code} {enrolment.unit_release.title}",
            "asked_by": actor.name,
            "expires": _when(request.expires_at),
            **context,
        },
    )
    return request


def _leave_open(
    session: Session,
    request: VerificationRequest,
    state: VerificationState,
    *,
    expired: bool | None,
    **values: object,
) -> bool:
    """Move an open request to ``state`` (with ``values``) in one conditional UPDATE, so two
    tabs, a second send or the expiry command never move it twice; ``expired`` asks that the
    link be past (True) or within (False) its days as well. True when this call moved it; the
    request is read again either way."""
    conditions = [
        VerificationRequest.id == request.id,
        VerificationRequest.state == VerificationState.OPEN,
    ]
    if expired is not None:
        past = VerificationRequest.expires_at <= utcnow()
        conditions.append(past if expired else ~past)
    changed = session.execute(
        update(VerificationRequest)
        .where(*conditions)
        .values(state=state, closed_at=utcnow(), **values),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.refresh(request)
    return bool(changed)


def revoke(session: Session, *, actor: User, request: VerificationRequest) -> None:
    """Withdraw a link that has not been answered; it stops working at once."""
    check_state(Action.REVOKE_VERIFICATION, request.enrolment)
    if not _leave_open(
        session, request, VerificationState.REVOKED, expired=None, revoked_by_id=actor.id
    ):
        raise ServiceError(
            f"The link to {request.verifier_name} cannot be withdrawn: it is "
            f"{request.state.label.lower()}."
        )
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
    changed = _leave_open(session, request, VerificationState.EXPIRED, expired=True)
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
    return changed


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


def why_dead(session: Session, token: str, kind: RequestKind) -> str:
    """What the holder of a link that does not work is told: for a link that was sent, why
    (used, withdrawn, expired) and when; for any other address, only that it does not work.
    The holder of a real link learns nothing they were not sent."""
    request = _stored(session, token)
    if request is None or request.kind is not kind:
        return DEAD_LINK
    when = _when(request.closed_at or request.expires_at)
    again = " If you still need to, ask the learner or their assessor to send a new one."
    if request.answered:
        return f"This link has been used: your answer was received on {when}. Thank you."
    if request.state is VerificationState.REVOKED:
        return f"This link was withdrawn on {when} by whoever sent it.{again}"
    return f"This link expired on {_when(request.expires_at)}.{again}"


def refused(session: Session, token: str, address: str | None, kind: RequestKind) -> None:
    """Log a link that did not work on the page of ``kind``, and why."""
    request = _stored(session, token)
    reason = "unknown link"
    if request is not None:
        wrong = request.kind is not kind and request.state is VerificationState.OPEN
        reason = "a link of another kind" if wrong else request.state.label.lower()
    record(
        session,
        actor=None,
        role=None,
        action="verification.link-refused",
        subject=_subject(request) if request else "verification",
        enrolment=request.enrolment if request else None,
        after={"address": address, "reason": reason},
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
    close(
        session,
        request,
        state,
        statements=statements,
        comment=comment,
        signer_name=signer,
        signature_png=png,
        confirmed_hashes=hashes,
    )
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
    tell_requester(session, request)
    return state


def close(
    session: Session, request: VerificationRequest, state: VerificationState, **answer: object
) -> None:
    """Keep a verifier's ``answer`` and close the link, if it is still open; a link that was
    used, withdrawn or expired meanwhile (a second send, another tab) is refused in words."""
    if not _leave_open(session, request, state, expired=False, **answer):
        raise ServiceError(DEAD_LINK)


def tell_requester(session: Session, request: VerificationRequest) -> None:
    """Email whoever asked, and the learner, that the third party answered."""
    enrolment = request.enrolment
    item = request.report_item if request.report_item else request.version.item
    for person in {request.requested_by, enrolment.learner}:
        write(
            session,
            to=person,
            kind="verification.answered",
            subject=f"{request.verifier_name} answered about {item.reference}"
            if request.kind is RequestKind.VERIFY
            else f"{request.verifier_name} sent a report: {item.reference}",
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
    """Every request to verify a version of the items, newest first, by item id: one query,
    and one for each relation loaded."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = session.scalars(
        _loaded(
            select(VerificationRequest)
            .join(EvidenceVersion, EvidenceVersion.id == VerificationRequest.version_id)
            .where(EvidenceVersion.item_id.in_(ids))
        )
    ).all()
    found: dict[int, list[VerificationRequest]] = defaultdict(list)
    for row in rows:
        assert row.version is not None
        found[row.version.item_id].append(row)
    return dict(found)


def verified_now(session: Session, item_ids: Iterable[int]) -> dict[int, str]:
    """For each item whose current version a verifier was asked about: "verified" when one
    confirmed it, else "asked" (one query)."""
    ids = list(item_ids)
    if not ids:
        return {}
    found: dict[int, str] = {}
    for item_id, state in session.execute(
        select(EvidenceItem.id, VerificationRequest.state)
        .join(
            VerificationRequest, VerificationRequest.version_id == EvidenceItem.current_version_id
        )
        .where(EvidenceItem.id.in_(ids))
    ):
        if state is VerificationState.CONFIRMED:
            found[item_id] = "verified"
        else:
            found.setdefault(item_id, "asked")
    return found


def reports_of(session: Session, enrolment: Enrolment) -> list[VerificationRequest]:
    """The enrolment's report requests, newest first."""
    return list(
        session.scalars(
            _loaded(
                select(VerificationRequest).where(
                    VerificationRequest.enrolment_id == enrolment.id,
                    VerificationRequest.kind == RequestKind.REPORT,
                )
            )
        )
    )


def reports_seeing(
    session: Session, enrolment: Enrolment, target_id: int
) -> list[VerificationRequest]:
    """The enrolment's reports received whose writer saw the criterion: a gap can be signed
    off with one of them, as the third-party method."""
    return [
        r
        for r in reports_of(session, enrolment)
        if r.state is VerificationState.REPORTED
        and (r.observations or {}).get(str(target_id), {}).get("seen")
    ]


def _loaded(query: Select[tuple[VerificationRequest]]) -> Select[tuple[VerificationRequest]]:
    return query.options(
        selectinload(VerificationRequest.version),
        selectinload(VerificationRequest.report_item),
        selectinload(VerificationRequest.requested_by),
        selectinload(VerificationRequest.checked_by),
    ).order_by(VerificationRequest.id.desc())


def asked_targets(session: Session, request: VerificationRequest) -> list[Target]:
    """The criteria a report is asked about, in the unit's order."""
    return list(
        session.scalars(
            select(Target)
            .where(Target.id.in_(request.report_targets or []))
            .order_by(Target.position)
        )
    )


def observed(session: Session, request: VerificationRequest) -> list[tuple[Target, bool, str]]:
    """Each criterion a report was about: seen or not, and the note."""
    return observations(request, asked_targets(session, request))


def report_of(session: Session, item_id: int) -> VerificationRequest | None:
    """The third-party report the item is, if it is one."""
    return session.scalar(
        select(VerificationRequest).where(VerificationRequest.report_item_id == item_id)
    )


def statements_for(request: VerificationRequest) -> list[tuple[str, bool | None]]:
    """Each statement in words, with the verifier's answer (None before they answer)."""
    version = request.version
    if version is None:  # a report: its criteria instead
        return []
    learner = request.enrolment.learner.name
    given = request.statements or {}
    return [(s.said(learner, version.work_date), given.get(s.key)) for s in STATEMENTS]
