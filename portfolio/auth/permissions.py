"""Who may do what, to which enrolment, in which state: the one table everything asks.

Each action names whose it is (an admin's, the enrolment's own learner's, its assigned
assessor's, ...) and the states of the assessment it is allowed in, with its name in words for
the refusal. Views ask ``require`` (a 404 for an object the person may not know of, else 403),
templates ask ``may`` to show what can be done now, and services and the bulk generator ask
``check_state``, which refuses in words ("You cannot judge criteria while the portfolio is
decided."). Nothing else compares an enrolment's state to decide what is allowed.

Objects are scoped: a learner sees only their own enrolments, an assessor only the enrolments
assigned to them, an admin everything in the RTO. Which state follows which is the workflow's
table (``portfolio.enrolments.workflow``); ``tests/auth/test_policy.py`` holds the two together.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import abort

from portfolio.errors import IllegalTransition
from portfolio.models import AssessmentState, Role

S = AssessmentState


class Person(Protocol):
    """Someone asking: the logged-in user."""

    @property
    def id(self) -> int: ...

    @property
    def active(self) -> bool: ...

    @property
    def is_authenticated(self) -> bool: ...

    def has_role(self, role: Role | str) -> bool: ...


class Assessed(Protocol):
    """Anything with an assessment state: an enrolment, or the generator's rows of one."""

    @property
    def state(self) -> AssessmentState: ...


class EnrolmentFacts(Assessed, Protocol):
    """What the policy reads of an enrolment: whose it is and where its assessment stands."""

    @property
    def learner_id(self) -> int: ...

    @property
    def assessor_id(self) -> int | None: ...


class Action(enum.StrEnum):
    # Across the RTO.
    MANAGE_USERS = "users:manage"
    MANAGE_ENROLMENTS = "enrolments:manage"
    MANAGE_UNITS = "units:manage"
    VIEW_AUDIT_LOG = "audit:view"
    EXPORT = "exports:create"
    REVIEW_QUEUE = "assessor:queue"
    MANAGE_TEMPLATES = "templates:manage"
    VIEW_OWN_CREDENTIALS = "credentials:view-own"
    COUNTERSIGN = "assessor:countersign"
    MANAGE_VALIDATION = "validation:manage"
    VALIDATE = "validation:validate"
    # On one enrolment.
    VIEW_ENROLMENT = "enrolment:view"
    VIEW_REVIEW = "enrolment:view-review"
    SEE_JUDGEMENTS = "enrolment:see-judgements"
    EXPORT_PACK = "enrolment:export-pack"
    ADD_EVIDENCE = "enrolment:add-evidence"
    CHANGE_EVIDENCE = "enrolment:change-evidence"
    SUBMIT = "enrolment:submit"
    START_REVIEW = "enrolment:start-review"
    DECIDE_MAPPING = "enrolment:decide-mapping"
    MAP_EVIDENCE = "enrolment:map-evidence"
    CHECK_EVIDENCE = "enrolment:check-evidence"
    OVERRIDE_FLAG = "enrolment:override-flag"
    JUDGE = "enrolment:judge"
    SIGN_OFF = "enrolment:sign-off"
    RETURN = "enrolment:return"
    RECORD_OUTCOME = "enrolment:record-outcome"
    CORRECT_JUDGEMENT = "enrolment:correct-judgement"
    CORRECT_SIGNOFF = "enrolment:correct-signoff"
    CORRECT_OUTCOME = "enrolment:correct-outcome"
    OPEN_REASSESSMENT = "enrolment:open-reassessment"
    WITHDRAW = "enrolment:withdraw"
    CREDIT_TRANSFER = "enrolment:credit-transfer"
    LEGAL_HOLD = "enrolment:legal-hold"
    REQUEST_VERIFICATION = "enrolment:request-verification"
    REVOKE_VERIFICATION = "enrolment:revoke-verification"
    CHECK_VERIFIER = "enrolment:check-verifier"


Who = Callable[[Person, "EnrolmentFacts | None"], bool]


def can_see(user: Person, enrolment: EnrolmentFacts) -> bool:
    """Whether the enrolment exists as far as this person is concerned."""
    return _signed_in(user) and (
        user.has_role(Role.ADMIN) or _learner(user, enrolment) or _assessor(user, enrolment)
    )


def _signed_in(user: Person) -> bool:
    return bool(user.is_authenticated and user.active)


def _admin(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    return user.has_role(Role.ADMIN)


def _any_assessor(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    return user.has_role(Role.ASSESSOR)


def _learner(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    """The enrolment's own learner. Only they build and hand in their portfolio; staff never
    do it for them."""
    return enrolment is not None and (
        user.has_role(Role.LEARNER) and enrolment.learner_id == user.id
    )


def _assessor(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    """The enrolment's assigned assessor: the only one who judges it."""
    return enrolment is not None and (
        user.has_role(Role.ASSESSOR) and enrolment.assessor_id == user.id
    )


def _learner_or_assessor(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    """The enrolment's own learner or its assigned assessor: the two who ask a workplace
    supervisor to vouch for its evidence."""
    return _learner(user, enrolment) or _assessor(user, enrolment)


def _staff(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    """The assigned assessor or an admin: the review as the assessor works it (an admin sees it
    but does not make it; the learner sees its results on their portfolio)."""
    return _admin(user, enrolment) or _assessor(user, enrolment)


def _any_staff(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    """Any assessor or admin of the RTO, whoever's enrolments they hold."""
    return _admin(user, enrolment) or _any_assessor(user, enrolment)


def _sees(user: Person, enrolment: EnrolmentFacts | None) -> bool:
    return enrolment is not None and can_see(user, enrolment)


#: The portfolio is the learner's to work on.
WITH_LEARNER = frozenset({S.DRAFT, S.RETURNED, S.REASSESSMENT})
#: Handed in, waiting for the assessor to start.
WAITING = frozenset({S.SUBMITTED, S.RESUBMITTED})
REVIEWING = frozenset({S.IN_REVIEW})
#: The outcome is recorded and the record locked: only corrections, as new entries.
DECIDED = frozenset({S.DECIDED})
#: The judgements are shown to the learner once the assessor returns the portfolio or
#: records the outcome, never half-way through a review.
JUDGED = frozenset({S.RETURNED, S.DECIDED, S.REASSESSMENT})
#: Withdrawn or credit transfer: nothing more happens.
CLOSED = frozenset({S.WITHDRAWN, S.CREDIT_TRANSFER})
OPEN = frozenset(AssessmentState) - CLOSED
#: Judged or closed: the retention clock runs from the activity end.
FINISHED = DECIDED | CLOSED


@dataclass(frozen=True)
class Rule:
    """Whose an action is, the states it is allowed in (None: any), and what it is in words."""

    who: Who
    states: frozenset[AssessmentState] | None = None
    doing: str = ""


RULES: dict[Action, Rule] = {
    Action.MANAGE_USERS: Rule(_admin),
    Action.MANAGE_ENROLMENTS: Rule(_admin),
    Action.MANAGE_UNITS: Rule(_admin),
    Action.VIEW_AUDIT_LOG: Rule(_admin),
    Action.EXPORT: Rule(_admin),
    Action.REVIEW_QUEUE: Rule(_any_assessor),
    # Observation checklists and question banks: kept by the RTO's assessors and admins.
    Action.MANAGE_TEMPLATES: Rule(_any_staff),
    # An assessor reads their own credential register; admins keep everyone's.
    Action.VIEW_OWN_CREDENTIALS: Rule(_any_assessor),
    # Validation: admins plan, draw and complete; the validators named on a validation (any
    # assessor) review its sample. Which validation a person sees is its own scope
    # (portfolio.validation.services.is_validator).
    # A credentialed assessor countersigns what someone under direction recorded; which
    # enrolments is the register's word (portfolio.assessment.countersign.may_countersign).
    Action.COUNTERSIGN: Rule(_any_assessor),
    Action.MANAGE_VALIDATION: Rule(_admin),
    Action.VALIDATE: Rule(_any_staff),
    Action.VIEW_ENROLMENT: Rule(_sees),
    Action.VIEW_REVIEW: Rule(_staff),
    Action.SEE_JUDGEMENTS: Rule(_sees, JUDGED, "see the judgements"),
    Action.EXPORT_PACK: Rule(_staff),
    Action.ADD_EVIDENCE: Rule(_learner, WITH_LEARNER, "add evidence"),
    Action.CHANGE_EVIDENCE: Rule(_learner, WITH_LEARNER, "change evidence"),
    Action.SUBMIT: Rule(_learner, WITH_LEARNER, "submit"),
    Action.START_REVIEW: Rule(_assessor, WAITING, "start the review"),
    Action.DECIDE_MAPPING: Rule(_assessor, REVIEWING, "accept or reject evidence"),
    Action.MAP_EVIDENCE: Rule(_assessor, REVIEWING, "map evidence"),
    Action.CHECK_EVIDENCE: Rule(_assessor, REVIEWING, "check evidence"),
    Action.OVERRIDE_FLAG: Rule(_assessor, REVIEWING, "override a flag"),
    Action.JUDGE: Rule(_assessor, REVIEWING, "judge criteria"),
    Action.SIGN_OFF: Rule(_assessor, REVIEWING, "sign off gaps"),
    Action.RETURN: Rule(_assessor, REVIEWING, "return the portfolio"),
    Action.RECORD_OUTCOME: Rule(_assessor, REVIEWING, "record the outcome"),
    Action.CORRECT_JUDGEMENT: Rule(_assessor, DECIDED, "correct a judgement"),
    Action.CORRECT_SIGNOFF: Rule(_assessor, DECIDED, "correct a sign-off"),
    Action.CORRECT_OUTCOME: Rule(_assessor, DECIDED, "correct the outcome"),
    # After Not yet competent: the assessor, or an admin, opens another attempt.
    Action.OPEN_REASSESSMENT: Rule(_staff, DECIDED, "open a reassessment"),
    Action.WITHDRAW: Rule(_admin, OPEN, "withdraw the enrolment"),
    Action.CREDIT_TRANSFER: Rule(_admin, OPEN - DECIDED, "record a credit transfer"),
    # Kept past the retention dates for a complaint, appeal, audit or court matter.
    Action.LEGAL_HOLD: Rule(_admin),
    # A workplace supervisor vouches for an item, by a link emailed to them, until the outcome.
    Action.REQUEST_VERIFICATION: Rule(
        _learner_or_assessor, WITH_LEARNER | WAITING | REVIEWING, "ask for a verification"
    ),
    # A link already sent can always be withdrawn.
    Action.REVOKE_VERIFICATION: Rule(_learner_or_assessor),
    Action.CHECK_VERIFIER: Rule(_assessor, REVIEWING, "record a check on a verifier"),
}


def _whose(user: Person, action: Action, enrolment: EnrolmentFacts | None) -> bool:
    if not _signed_in(user):
        return False
    return RULES[action].who(user, enrolment)


def _in_state(action: Action, state: AssessmentState | None) -> bool:
    states = RULES[action].states
    return states is None or state in states


def may(user: Person, action: Action, enrolment: EnrolmentFacts | None = None) -> bool:
    """Whether ``user`` may do ``action`` (to ``enrolment``, as it stands now)."""
    if RULES[action].states is not None and enrolment is None:
        raise ValueError(f"{action} is asked of an enrolment")
    return _whose(user, action, enrolment) and _in_state(
        action, enrolment.state if enrolment is not None else None
    )


def states_of(*actions: Action) -> frozenset[AssessmentState]:
    """The states in which any of ``actions`` is allowed (for a query that finds such work)."""
    found: set[AssessmentState] = set()
    for action in actions:
        found |= RULES[action].states or set(AssessmentState)
    return frozenset(found)


def check_state(action: Action, enrolment: Assessed) -> None:
    """A service's check before it acts: refused in words unless the assessment's state allows
    ``action``. (Whose the action is, the view has checked for the request.)"""
    if not _in_state(action, enrolment.state):
        raise IllegalTransition(
            f"You cannot {RULES[action].doing} while the portfolio is "
            f"{enrolment.state.label.lower()}."
        )


def require(user: Person, action: Action, enrolment: EnrolmentFacts | None = None) -> None:
    """Stop the request unless the action is the user's: 404 for an enrolment the user may not
    know of, else 403. The state is not checked here: a service refuses it in words."""
    if enrolment is not None and not can_see(user, enrolment):
        abort(404)
    if not _whose(user, action, enrolment):
        abort(403)
