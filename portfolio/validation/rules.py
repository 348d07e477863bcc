"""What a validation plan sets, how the sample is drawn, and what validators and findings need:
pure functions, tested without a database (``tests/validation/test_rules.py``).

The draw is reproducible by anyone with the seed and the population, in any language: each
enrolment's key is the SHA-256 of ``"<seed>:<enrolment id>"`` in hex. The population is split
into strata (deciding assessor and outcome); every stratum gets one place while places last
(strata taken in order of their lowest key), the rest are shared in proportion to what is left
in each stratum (largest remainder, ties to the stratum with the lower key); each stratum gives
its enrolments with the lowest keys. The sample is listed in key order.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from portfolio.errors import ServiceError
from portfolio.models import RiskLevel

#: How often a unit of each risk is validated, at most, in months: the Standards ask for every
#: training product at least once in five years.
INTERVAL_MONTHS = {RiskLevel.LOW: 60, RiskLevel.MEDIUM: 24, RiskLevel.HIGH: 12}


#: The usual risk reasons, which an admin adds to the empty list in one step (and the demo
#: does); the RTO edits the list.
DEFAULT_REASONS = (
    "New unit or new release on scope",
    "New assessor",
    "Complaints or appeals about the unit's assessment",
    "Findings of an earlier validation or audit",
    "Unusual outcome rates",
    "Change to the assessment tool",
)


@dataclass(frozen=True)
class SizeRule:
    """A share of the decided enrolments, at least a number of them (all when fewer)."""

    percent: int
    minimum: int

    def size(self, population: int) -> int:
        return min(population, max(self.minimum, math.ceil(population * self.percent / 100)))

    def __str__(self) -> str:
        return (
            f"{self.percent}% of the decided enrolments, at least {self.minimum} (all when fewer)"
        )

    def describe(self, population: int) -> str:
        return f"{self}: {self.size(population)} of {population}"


SIZE_RULES = {
    RiskLevel.LOW: SizeRule(10, 3),
    RiskLevel.MEDIUM: SizeRule(15, 5),
    RiskLevel.HIGH: SizeRule(25, 8),
}


def frequency(risk: RiskLevel) -> str:
    months = INTERVAL_MONTHS[risk]
    return f"every {months // 12} years" if months > 12 else "every year"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    # The 29th to the 31st of a shorter month: its last day.
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def next_due(risk: RiskLevel, last_completed: date | None) -> date | None:
    """When the unit is next due for validation (None: never validated, due now)."""
    return None if last_completed is None else add_months(last_completed, INTERVAL_MONTHS[risk])


def checked_plan(risk: str | None, reasons: Iterable[str], offered: Iterable[str]) -> list[str]:
    """The reasons as kept, once the plan has a rating and at least one reason for it."""
    if risk not in {r.value for r in RiskLevel}:
        raise ServiceError("Choose the risk rating: low, medium or high.", "risk")
    chosen = [r for r in dict.fromkeys(reasons) if r]
    unknown = [r for r in chosen if r not in set(offered)]
    if unknown:
        raise ServiceError(f"{unknown[0]!r} is not one of the RTO's risk reasons.", "reasons")
    if not chosen:
        raise ServiceError(
            "Give at least one reason for the risk rating; an auditor asks why.", "reasons"
        )
    return chosen


@dataclass(frozen=True)
class Candidate:
    """A decided enrolment that may be drawn: who decided it and how."""

    enrolment_id: int
    assessor_id: int
    result: str

    @property
    def stratum(self) -> str:
        return f"{self.assessor_id}/{self.result}"

    def as_json(self) -> dict[str, Any]:
        return {
            "enrolment_id": self.enrolment_id,
            "assessor_id": self.assessor_id,
            "result": self.result,
        }

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Candidate:
        return cls(int(row["enrolment_id"]), int(row["assessor_id"]), str(row["result"]))


def draw_key(seed: str, enrolment_id: int) -> str:
    return hashlib.sha256(f"{seed}:{enrolment_id}".encode()).hexdigest()


def checked_size(size: int | None, population: int) -> int:
    if population == 0:
        raise ServiceError(
            "No enrolment of the unit was decided in that period: there is nothing to sample.",
            "period_to",
        )
    if size is None or size < 1:
        raise ServiceError("The sample needs at least one enrolment.", "size")
    if size > population:
        raise ServiceError(
            f"A sample of {size} is larger than the {population} enrolments decided in the "
            "period: make it smaller, or widen the period.",
            "size",
        )
    return size


def draw(population: Iterable[Candidate], seed: str, size: int) -> list[Candidate]:
    """The sample: ``size`` enrolments, stratified across assessors and outcomes."""
    keyed = sorted(population, key=lambda c: draw_key(seed, c.enrolment_id))
    checked_size(size, len(keyed))
    strata: dict[str, list[Candidate]] = {}
    for candidate in keyed:  # in key order, so each stratum's list and the strata are too
        strata.setdefault(candidate.stratum, []).append(candidate)
    order = list(strata)
    places = dict.fromkeys(order, 0)
    for name in order[:size]:
        places[name] = 1
    left = size - sum(places.values())
    if left:
        rest = {name: len(strata[name]) - places[name] for name in order}
        total = sum(rest.values())
        shares = {name: left * rest[name] / total for name in order}
        for name in order:
            places[name] += math.floor(shares[name])
        remaining = size - sum(places.values())
        by_remainder = sorted(
            order, key=lambda n: (-(shares[n] - math.floor(shares[n])), order.index(n))
        )
        for name in by_remainder[:remaining]:
            places[name] += 1
    chosen = [c for name in order for c in strata[name][: places[name]]]
    return sorted(chosen, key=lambda c: draw_key(seed, c.enrolment_id))


@dataclass(frozen=True)
class Conflict:
    """A validator who took part in assessing a sampled enrolment."""

    enrolment_id: int
    validator_id: int


def conflicts(validator_ids: Iterable[int], assessed_by: Mapping[int, set[int]]) -> list[Conflict]:
    """Each sampled enrolment (``assessed_by``: enrolment -> who judged, signed off or decided
    it, or is assigned to it) with a validator who assessed it."""
    ids = list(validator_ids)
    return [
        Conflict(enrolment_id, v)
        for enrolment_id, people in assessed_by.items()
        for v in ids
        if v in people
    ]


def uncovered(validator_ids: Iterable[int], assessed_by: Mapping[int, set[int]]) -> list[int]:
    """The sampled enrolments no chosen validator is independent of."""
    ids = set(validator_ids)
    return [e for e, people in assessed_by.items() if not ids - people]


def checked_validators(holds_tae: Mapping[int, bool]) -> None:
    if not holds_tae:
        raise ServiceError("Choose at least one validator.", "validators")
    if not any(holds_tae.values()):
        raise ServiceError(
            "At least one validator must hold a training and assessment credential on the "
            "register today (TAE40122 or its equivalent): add it to their register, or choose "
            "another validator.",
            "validators",
        )


def checked_finding(agrees: bool | None, note: str, ref: str) -> str:
    note = note.strip()
    if agrees is None:
        raise ServiceError(f"Say whether you agree with the judgement on {ref}.", ref)
    if not agrees and not note:
        raise ServiceError(f"Say why you do not agree with the judgement on {ref}.", ref)
    return note


def checked_action(what: str, due_on: date | None, today: date) -> str:
    what = what.strip()
    if not what:
        raise ServiceError("Say what is to change.", "what")
    if due_on is None:
        raise ServiceError("Give the date it is due.", "due_on")
    if due_on < today:
        raise ServiceError("The due date is in the past.", "due_on")
    return what


#: The questions on the assessment tool itself.
TOOL_QUESTIONS = {
    "consistent": "Is the tool consistent with the unit's requirements",
    "sufficient": "Does it gather sufficient evidence",
    "valid": "Is it valid: does it assess what the unit asks",
}


def tool_review(answers: Mapping[str, bool | None], note: str) -> str:
    """The review of the assessment tool as kept: each question answered, a note with a No."""
    missing = [name for name, value in answers.items() if value is None]
    if missing:
        raise ServiceError(
            f"Answer every question on the assessment tool: {TOOL_QUESTIONS[missing[0]]}?",
            missing[0],
        )
    note = note.strip()
    if not all(answers.values()) and not note:
        raise ServiceError("Say what is wrong with the tool where you answered No.", "note")
    return note
