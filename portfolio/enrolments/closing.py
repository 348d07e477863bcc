"""Closing an enrolment other than by a judgement: withdrawn, or a credit transfer.

An admin records either (or the operator, with no acting user, from a command); the
enrolment then takes no more evidence, reviews or decisions, and the outcomes register
reports it with its AVETMISS code and activity end date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from portfolio.audit.log import admin_role, record
from portfolio.auth.permissions import Action, check_state
from portfolio.clock import today
from portfolio.enrolments import rules
from portfolio.enrolments.progress import attempt_outcomes
from portfolio.enrolments.rules import CreditDocument
from portfolio.enrolments.workflow import transition
from portfolio.files.uploads import NewFile
from portfolio.models import Closure, ClosureFile, ClosureKind, Enrolment, User


def _close(
    session: Session,
    *,
    actor: User | None,
    enrolment: Enrolment,
    closure: Closure,
    payload: dict[str, object],
) -> Closure:
    enrolment.activity_end = closure.closed_on
    session.add(closure)
    transition(
        session,
        enrolment,
        closure.kind.state,
        actor=actor,
        role=admin_role(actor),
        reason=closure.reason or None,
    )
    record(
        session,
        actor=actor,
        role=admin_role(actor),
        action=f"enrolment.{closure.kind.value}",
        subject=f"enrolment:{enrolment.id}",
        enrolment=enrolment,
        after=payload,
    )
    session.flush()
    return closure


def withdraw(
    session: Session,
    *,
    actor: User | None,
    enrolment: Enrolment,
    closed_on: date | None,
    reason: str,
) -> Closure:
    """The learner withdrew (AVETMISS 40): the enrolment ends on ``closed_on``."""
    check_state(Action.WITHDRAW, enrolment)
    outcome = attempt_outcomes(session, [enrolment]).get(enrolment.id)
    reason = rules.withdrawal_reason(reason, outcome=outcome.result if outcome else None)
    ended = rules.closed_on(closed_on, activity_start=enrolment.activity_start, today=today())
    kind = ClosureKind.WITHDRAWN
    closure = Closure(
        enrolment_id=enrolment.id,
        kind=kind,
        closed_on=ended,
        reason=reason,
        closed_by_id=actor.id if actor else None,
    )
    return _close(
        session,
        actor=actor,
        enrolment=enrolment,
        closure=closure,
        payload=rules.closure_payload(kind, ended, reason),
    )


def credit_transfer(
    session: Session,
    *,
    actor: User | None,
    enrolment: Enrolment,
    closed_on: date | None,
    document: CreditDocument,
    files: Sequence[NewFile],
    reason: str = "",
) -> Closure:
    """Credit for the unit from another RTO (AVETMISS 60), on a verified transcript or AQF
    certificate; the admin recording it is the one who verified it."""
    check_state(Action.CREDIT_TRANSFER, enrolment)
    document = rules.credit_document(document, files=len(files), today=today())
    ended = rules.closed_on(closed_on, activity_start=enrolment.activity_start, today=today())
    kind = ClosureKind.CREDIT_TRANSFER
    closure = Closure(
        enrolment_id=enrolment.id,
        kind=kind,
        closed_on=ended,
        reason=reason.strip(),
        closed_by_id=actor.id if actor else None,
        issuing_rto=document.issuing_rto,
        document_number=document.document_number,
        document_date=document.document_date,
    )
    closure.files = [
        ClosureFile(uploaded_by_id=actor.id if actor else None, **vars(f)) for f in files
    ]
    return _close(
        session,
        actor=actor,
        enrolment=enrolment,
        closure=closure,
        payload=rules.closure_payload(
            kind,
            ended,
            closure.reason,
            document,
            [(f.display_name, f.sha256) for f in files],
        ),
    )
