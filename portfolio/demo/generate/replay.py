"""A plan taken through the services, one call per action, as people using the pages would.

Far too slow for a cohort of thousands, and the reference the bulk writer is held to: the
tests replay a plan here and write the same plan with ``bulk``, then compare the two.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.orm import Session

from portfolio.assessment import attempts, decisions, gaps, outcome, review, rules
from portfolio.demo.generate.content import FileSpec
from portfolio.demo.generate.plan import (
    CheckItem,
    CreateItem,
    CreditTransfer,
    DecideMapping,
    EnrolmentPlan,
    Judge,
    MapItem,
    OpenReassessment,
    OverrideFlag,
    RecordOutcome,
    ReturnToLearner,
    SignOff,
    StartReview,
    Submit,
    Withdraw,
    targets_of,
)
from portfolio.enrolments import closing
from portfolio.enrolments.rules import CreditDocument
from portfolio.enrolments.services import enrol
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.files.uploads import NewFile, store_upload
from portfolio.models import Enrolment, EvidenceItem, EvidenceVersion, User


def _upload(spec: FileSpec) -> NewFile:
    return store_upload(io.BytesIO(spec.content()), spec.name)


def replay(session: Session, plan: EnrolmentPlan, *, learner: User, assessor: User) -> Enrolment:
    """Enrol ``learner`` as the plan says and take every action through its service."""
    enrolment = enrol(
        session,
        actor=None,
        learner=learner,
        unit_code=plan.unit.code,
        is_rpl=plan.is_rpl,
        assessor=assessor,
        starts_on=plan.at.astimezone(ZoneInfo(current_app.config["RTO_TIMEZONE"])).date(),
    )
    targets = targets_of(session, plan.unit)
    items: dict[int, EvidenceItem] = {}

    def view() -> review.ReviewView:
        return review.review_view(session, enrolment)

    def submitted(number: int) -> EvidenceVersion:
        return next(s.version for s in view().items if s.item.number == number)

    for action in plan.actions:
        match action:
            case CreateItem():
                items[action.number] = create_item(
                    session,
                    actor=learner,
                    enrolment=enrolment,
                    fields=ItemFields(
                        action.title, action.evidence_type, action.work_date, action.description
                    ),
                    files=[_upload(spec) for spec in action.files],
                )
            case MapItem():
                set_item_mappings(
                    session, actor=learner, item=items[action.number], notes=dict(action.notes)
                )
            case Submit():
                submit(session, actor=learner, enrolment=enrolment, declared=True)
            case StartReview():
                decisions.start_review(session, actor=assessor, enrolment=enrolment)
            case CheckItem():
                decisions.check_evidence(
                    session,
                    actor=assessor,
                    enrolment=enrolment,
                    version=submitted(action.number),
                    rule=action.rule,
                    confirmed=action.confirmed,
                    note=action.note,
                    seen_version=0,
                )
            case OverrideFlag():
                version = submitted(action.number)
                check = next(
                    c for (v, r), c in view().checks.items() if (v, r) == (version.id, action.rule)
                )
                decisions.override_flag(
                    session,
                    actor=assessor,
                    enrolment=enrolment,
                    version=version,
                    rule=action.rule,
                    reason=action.reason,
                    seen_version=check.lock_version,
                )
            case DecideMapping():
                decisions.decide_mapping(
                    session,
                    actor=assessor,
                    enrolment=enrolment,
                    version=submitted(action.number),
                    target=targets[action.target_id],
                    accepted=action.accepted,
                    note=action.note,
                )
            case Judge():
                current = view()
                existing = current.judgements.get(action.target_id)
                decisions.judge(
                    session,
                    actor=assessor,
                    view=current,
                    target=targets[action.target_id],
                    finding=action.finding,
                    comment=action.comment,
                    # As the page sends it: a judgement of an earlier attempt is not this one's.
                    seen_version=(
                        existing.lock_version
                        if existing is not None and existing.attempt == enrolment.attempt
                        else 0
                    ),
                )
            case SignOff():
                gaps.sign_off_gap(
                    session,
                    actor=assessor,
                    view=view(),
                    target=targets[action.target_id],
                    method=action.method,
                    held_on=action.held_on,
                    notes=action.notes,
                    questions=[rules.Conversation(q, a) for q, a in action.questions],
                    files=[_upload(spec) for spec in action.files],
                )
            case ReturnToLearner():
                gaps.return_to_learner(
                    session,
                    actor=assessor,
                    view=view(),
                    feedback=dict(action.feedback),
                    overall=action.overall,
                )
            case RecordOutcome():
                outcome.record_outcome(
                    session, actor=assessor, view=view(), result=action.result, declared=True
                )
            case OpenReassessment():
                attempts.open_reassessment(
                    session,
                    actor=assessor,
                    view=view(),
                    plan=action.plan,
                    due_on=action.due_on,
                    allowed=current_app.config["ATTEMPTS_ALLOWED"],
                )
            case Withdraw():
                closing.withdraw(
                    session,
                    actor=None,
                    enrolment=enrolment,
                    closed_on=action.closed_on,
                    reason=action.reason,
                )
            case CreditTransfer():
                closing.credit_transfer(
                    session,
                    actor=None,
                    enrolment=enrolment,
                    closed_on=action.closed_on,
                    document=CreditDocument(
                        action.issuing_rto, action.document_number, action.document_date
                    ),
                    files=[_upload(action.file)],
                )
            case _:
                raise TypeError(f"Unknown action {action!r}")
    session.flush()
    return enrolment
