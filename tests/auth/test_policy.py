"""The policy table on its own: whose each action is and the states it is allowed in.

No database: the policy reads only who is asking and the enrolment's owner, assessor and state.
``test_access.py`` then drives every route through the app with the same rules.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from portfolio.auth.permissions import RULES, Action, check_state, may, states_of
from portfolio.enrolments.workflow import ALLOWED
from portfolio.errors import IllegalTransition
from portfolio.models import AssessmentState, Role

S = AssessmentState
ENROLMENT_ACTIONS = [a for a in Action if a.value.startswith("enrolment:")]


@dataclass(frozen=True)
class Someone:
    id: int
    roles: frozenset[Role]
    active: bool = True
    is_authenticated: bool = True

    def has_role(self, role: Role | str) -> bool:
        return Role(role) in self.roles


@dataclass
class Facts:
    learner_id: int
    assessor_id: int | None
    state: AssessmentState


LEARNER = Someone(1, frozenset({Role.LEARNER}))
OTHER_LEARNER = Someone(2, frozenset({Role.LEARNER}))
ASSESSOR = Someone(3, frozenset({Role.ASSESSOR}))
OTHER_ASSESSOR = Someone(4, frozenset({Role.ASSESSOR}))
ADMIN = Someone(5, frozenset({Role.ADMIN}))
PEOPLE = {
    "learner": LEARNER,
    "other_learner": OTHER_LEARNER,
    "assessor": ASSESSOR,
    "other_assessor": OTHER_ASSESSOR,
    "admin": ADMIN,
}

WHOSE = {
    Action.VIEW_ENROLMENT: frozenset({"learner", "assessor", "admin"}),
    Action.VIEW_REVIEW: frozenset({"assessor", "admin"}),
    Action.SEE_JUDGEMENTS: frozenset({"learner", "assessor", "admin"}),
    Action.EXPORT_PACK: frozenset({"assessor", "admin"}),
    Action.ADD_EVIDENCE: frozenset({"learner"}),
    Action.CHANGE_EVIDENCE: frozenset({"learner"}),
    Action.SUBMIT: frozenset({"learner"}),
    Action.OPEN_REASSESSMENT: frozenset({"assessor", "admin"}),
    Action.WITHDRAW: frozenset({"admin"}),
    Action.CREDIT_TRANSFER: frozenset({"admin"}),
    Action.LEGAL_HOLD: frozenset({"admin"}),
    # A workplace supervisor is asked, by email, by the learner or their assessor.
    Action.REQUEST_VERIFICATION: frozenset({"learner", "assessor"}),
    Action.REVOKE_VERIFICATION: frozenset({"learner", "assessor"}),
    **dict.fromkeys(
        (
            Action.START_REVIEW,
            Action.DECIDE_MAPPING,
            Action.MAP_EVIDENCE,
            Action.CHECK_EVIDENCE,
            Action.OVERRIDE_FLAG,
            Action.JUDGE,
            Action.SIGN_OFF,
            Action.RETURN,
            Action.RECORD_OUTCOME,
            Action.CORRECT_JUDGEMENT,
            Action.CORRECT_SIGNOFF,
            Action.CORRECT_OUTCOME,
            Action.CHECK_VERIFIER,
        ),
        frozenset({"assessor"}),
    ),
}


def test_every_action_has_a_rule_and_every_enrolment_action_a_person() -> None:
    """A new action cannot be added without saying whose it is."""
    assert set(RULES) == set(Action)
    assert set(WHOSE) == set(ENROLMENT_ACTIONS)


def test_every_state_bound_action_says_what_it_is_in_words() -> None:
    """A refusal always names what was refused."""
    for action, rule in RULES.items():
        if rule.states is not None:
            assert rule.doing, action


@pytest.mark.parametrize("action", ENROLMENT_ACTIONS, ids=str)
@pytest.mark.parametrize("state", list(S), ids=str)
def test_whose_and_when(action: Action, state: AssessmentState) -> None:
    """Each person may do an action to the enrolment only if it is theirs and the state allows."""
    enrolment = Facts(learner_id=LEARNER.id, assessor_id=ASSESSOR.id, state=state)
    states = RULES[action].states
    for name, person in PEOPLE.items():
        expected = name in WHOSE[action] and (states is None or state in states)
        assert may(person, action, enrolment) is expected, (name, action, state)


@pytest.mark.parametrize("action", ENROLMENT_ACTIONS, ids=str)
def test_a_deactivated_or_anonymous_person_may_do_nothing(action: Action) -> None:
    enrolment = Facts(LEARNER.id, ASSESSOR.id, S.IN_REVIEW)
    for person in PEOPLE.values():
        for gone in (
            Someone(person.id, person.roles, active=False),
            Someone(person.id, person.roles, is_authenticated=False),
        ):
            assert not may(gone, action, enrolment)


def test_an_unassigned_enrolment_is_no_assessor_s() -> None:
    enrolment = Facts(LEARNER.id, None, S.SUBMITTED)
    assert not may(ASSESSOR, Action.START_REVIEW, enrolment)
    assert may(ADMIN, Action.VIEW_REVIEW, enrolment)


@pytest.mark.parametrize(
    ("action", "state"),
    [(a, s) for a, s in itertools.product(ENROLMENT_ACTIONS, S) if RULES[a].states is not None],
    ids=str,
)
def test_check_state_refuses_in_words(action: Action, state: AssessmentState) -> None:
    """Outside its states an action is refused with the state named; inside, nothing happens."""
    enrolment = Facts(LEARNER.id, ASSESSOR.id, state)
    if state in RULES[action].states:
        check_state(action, enrolment)
    else:
        with pytest.raises(IllegalTransition) as refused:
            check_state(action, enrolment)
        assert refused.value.message == (
            f"You cannot {RULES[action].doing} while the portfolio is {state.label.lower()}."
        )


MOVES = [
    (Action.SUBMIT, {S.SUBMITTED, S.RESUBMITTED}),
    (Action.START_REVIEW, {S.IN_REVIEW}),
    (Action.RETURN, {S.RETURNED}),
    (Action.RECORD_OUTCOME, {S.DECIDED}),
    (Action.OPEN_REASSESSMENT, {S.REASSESSMENT}),
    (Action.WITHDRAW, {S.WITHDRAWN}),
    (Action.CREDIT_TRANSFER, {S.CREDIT_TRANSFER}),
]


@pytest.mark.parametrize(("action", "moves_to"), MOVES, ids=[str(a) for a, _ in MOVES])
def test_actions_that_move_the_state_are_allowed_where_the_workflow_moves(action, moves_to):
    """The policy and the state machine agree: an action that moves the enrolment is allowed
    in exactly the states from which the workflow makes that move."""
    sources = {before for before, after in ALLOWED.items() if after & moves_to}
    assert RULES[action].states == sources


def test_the_review_queue_holds_what_waits_for_the_assessor_or_is_being_reviewed() -> None:
    assert states_of(Action.START_REVIEW, Action.JUDGE) == {
        S.SUBMITTED,
        S.RESUBMITTED,
        S.IN_REVIEW,
    }


def test_a_verification_is_asked_for_until_the_outcome_and_withdrawn_at_any_time() -> None:
    """Once decided, nothing more is asked of a verifier; a link sent can still be withdrawn."""
    assert RULES[Action.REQUEST_VERIFICATION].states == (
        set(S) - {S.DECIDED, S.WITHDRAWN, S.CREDIT_TRANSFER}
    )
    assert RULES[Action.REVOKE_VERIFICATION].states is None
    assert RULES[Action.CHECK_VERIFIER].states == {S.IN_REVIEW}


def test_once_decided_only_corrections_another_attempt_and_reading_are_allowed() -> None:
    decided = Facts(LEARNER.id, ASSESSOR.id, S.DECIDED)
    allowed = {a for a in ENROLMENT_ACTIONS if RULES[a].states and may(ASSESSOR, a, decided)}
    assert allowed == {
        Action.CORRECT_JUDGEMENT,
        Action.CORRECT_SIGNOFF,
        Action.CORRECT_OUTCOME,
        Action.OPEN_REASSESSMENT,
        Action.SEE_JUDGEMENTS,
    }
