"""The validation rules without a database: sample sizes, the seeded stratified draw,
independence and what plans, findings and actions need."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.errors import ServiceError
from portfolio.models import RiskLevel
from portfolio.validation import rules
from portfolio.validation.rules import Candidate


def people(*strata: tuple[int, str, int]) -> list[Candidate]:
    """Candidates: (assessor, result, how many) per stratum, numbered from 1."""
    found, n = [], 0
    for assessor, result, many in strata:
        for _ in range(many):
            n += 1
            found.append(Candidate(n, assessor, result))
    return found


def test_the_sample_size_follows_the_risk_and_never_exceeds_the_population():
    assert rules.SIZE_RULES[RiskLevel.LOW].size(20) == 3
    assert rules.SIZE_RULES[RiskLevel.MEDIUM].size(100) == 15
    assert rules.SIZE_RULES[RiskLevel.HIGH].size(100) == 25
    assert rules.SIZE_RULES[RiskLevel.HIGH].size(5) == 5
    assert rules.SIZE_RULES[RiskLevel.LOW].describe(40) == (
        "10% of the decided enrolments, at least 3 (all when fewer): 4 of 40"
    )
    assert rules.frequency(RiskLevel.LOW) == "every 5 years"
    assert rules.frequency(RiskLevel.HIGH) == "every year"


def test_the_next_validation_is_due_by_the_risk_from_the_last_one():
    assert rules.next_due(RiskLevel.HIGH, None) is None
    assert rules.next_due(RiskLevel.HIGH, date(2024, 2, 29)) == date(2025, 2, 28)
    assert rules.next_due(RiskLevel.MEDIUM, date(2026, 1, 31)) == date(2028, 1, 31)
    assert rules.next_due(RiskLevel.LOW, date(2026, 12, 3)) == date(2031, 12, 3)


def test_the_same_seed_draws_the_same_sample_and_another_seed_another():
    found = people((1, "competent", 30), (2, "competent", 30))
    first = rules.draw(found, "a1b2", 8)
    assert rules.draw(list(reversed(found)), "a1b2", 8) == first
    assert rules.draw(found, "other", 8) != first


def test_anyone_can_redraw_with_sha256_alone():
    """One stratum: the sample is the enrolments with the lowest SHA-256 of "seed:id"."""
    found = people((1, "competent", 12))
    keys = sorted(
        (hashlib.sha256(f"s33d:{c.enrolment_id}".encode()).hexdigest(), c.enrolment_id)
        for c in found
    )
    assert [c.enrolment_id for c in rules.draw(found, "s33d", 4)] == [e for _, e in keys[:4]]


def test_every_assessor_and_outcome_is_represented_and_the_rest_shared_in_proportion():
    found = people(
        (1, "competent", 40), (1, "not_yet_competent", 2), (2, "competent", 16), (3, "competent", 2)
    )
    sample = rules.draw(found, "seed", 10)
    strata = Counter(c.stratum for c in sample)
    assert set(strata) == {"1/competent", "1/not_yet_competent", "2/competent", "3/competent"}
    assert strata["1/competent"] > strata["2/competent"] > strata["3/competent"]
    assert sum(strata.values()) == 10


@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    seed=st.text(min_size=1, max_size=10),
    data=st.data(),
)
def test_the_draw_is_a_stratified_sample_of_exactly_the_size_asked(sizes, seed, data):
    found = people(*[(i, "competent" if i % 2 else "rpl_granted", n) for i, n in enumerate(sizes)])
    size = data.draw(st.integers(1, len(found)))
    sample = rules.draw(found, seed, size)
    assert len(sample) == size and len({c.enrolment_id for c in sample}) == size
    assert set(sample) <= set(found)
    assert len({c.stratum for c in sample}) == min(size, len(sizes))


def test_a_sample_larger_than_the_population_is_refused():
    with pytest.raises(ServiceError, match="larger than the 3 enrolments"):
        rules.draw(people((1, "competent", 3)), "x", 4)
    with pytest.raises(ServiceError, match="nothing to sample"):
        rules.checked_size(1, 0)


def test_a_plan_needs_a_rating_and_a_reason_from_the_list():
    offered = ["New assessor", "Complaints"]
    with pytest.raises(ServiceError, match="at least one reason"):
        rules.checked_plan("high", [], offered)
    with pytest.raises(ServiceError, match="risk rating"):
        rules.checked_plan("extreme", ["New assessor"], offered)
    with pytest.raises(ServiceError, match="not one of the RTO's risk reasons"):
        rules.checked_plan("low", ["Because"], offered)
    assert rules.checked_plan("low", ["Complaints", "Complaints"], offered) == ["Complaints"]


def test_independence_is_checked_per_enrolment():
    assessed = {10: {1, 2}, 11: {3}}
    assert rules.conflicts([2, 4], assessed) == [rules.Conflict(10, 2)]
    assert rules.uncovered([1, 2], assessed) == [10]
    assert rules.uncovered([1, 3], assessed) == []


def test_a_validator_with_a_tae_credential_is_needed():
    with pytest.raises(ServiceError, match="training and assessment credential"):
        rules.checked_validators({1: False, 2: False})
    with pytest.raises(ServiceError, match="at least one validator"):
        rules.checked_validators({})
    rules.checked_validators({1: False, 2: True})


def test_a_disagreement_needs_a_note_and_an_action_a_date_ahead():
    assert rules.checked_finding(True, " ", "1.1") == ""
    with pytest.raises(ServiceError, match=r"why you do not agree with the judgement on 1\.2"):
        rules.checked_finding(False, "", "1.2")
    with pytest.raises(ServiceError, match="whether you agree"):
        rules.checked_finding(None, "", "1.3")
    with pytest.raises(ServiceError, match="in the past"):
        rules.checked_action("Rewrite task 2", date(2020, 1, 1), date(2026, 12, 3))
    with pytest.raises(ServiceError, match="what is wrong with the tool"):
        rules.tool_review({"consistent": True, "sufficient": False, "valid": True}, "")
    with pytest.raises(ServiceError, match="sufficient evidence"):
        rules.tool_review({"consistent": True, "sufficient": None, "valid": True}, "")
