"""The retention rules by record kind, in one place.

ASQA's minimums (Standards for RTOs; the General Direction on retention): completed
assessment evidence at least six months after the judgement of competence; outcomes and the
records a certificate could be reissued from, 30 years. An RTO may keep either longer
(RETENTION_EVIDENCE_MONTHS, RETENTION_RECORD_YEARS), never shorter.

The clock starts on the enrolment's activity end: the day its outcome was decided or it was
withdrawn or credited. An enrolment still in progress, or on legal hold, is never due.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from portfolio.auth.permissions import FINISHED
from portfolio.errors import ServiceError

EVIDENCE_MINIMUM_MONTHS = 6
RECORD_MINIMUM_YEARS = 30


@dataclass(frozen=True)
class Periods:
    evidence_months: int
    record_years: int

    @property
    def evidence_rule(self) -> str:
        return f"assessment evidence is kept {self.evidence_months} months after the judgement"

    @property
    def record_rule(self) -> str:
        return f"outcomes and certification records are kept {self.record_years} years"


def periods(config: Mapping[str, object]) -> Periods:
    """The periods this RTO set, refused in words if shorter than the minimum."""
    months = int(config.get("RETENTION_EVIDENCE_MONTHS", EVIDENCE_MINIMUM_MONTHS))  # type: ignore[call-overload]
    years = int(config.get("RETENTION_RECORD_YEARS", RECORD_MINIMUM_YEARS))  # type: ignore[call-overload]
    if months < EVIDENCE_MINIMUM_MONTHS:
        raise ServiceError(
            f"RETENTION_EVIDENCE_MONTHS is {months}, but assessment evidence must be kept at "
            f"least {EVIDENCE_MINIMUM_MONTHS} months after the judgement. Set it to "
            f"{EVIDENCE_MINIMUM_MONTHS} or more."
        )
    if years < RECORD_MINIMUM_YEARS:
        raise ServiceError(
            f"RETENTION_RECORD_YEARS is {years}, but outcomes and certification records must "
            f"be kept at least {RECORD_MINIMUM_YEARS} years. Set it to {RECORD_MINIMUM_YEARS} "
            "or more."
        )
    return Periods(months, years)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (negative: back), the 31st becoming a short month's last."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def evidence_due_on(judged_on: date, rules: Periods) -> date:
    """The first day the evidence of an enrolment judged (or closed) on ``judged_on`` may go."""
    return add_months(judged_on, rules.evidence_months)


def evidence_cutoff(today: date, rules: Periods) -> date:
    """Enrolments that ended on or before this day have evidence due today."""
    return add_months(today, -rules.evidence_months)


def records_due_on(ended_on: date, rules: Periods) -> date:
    """The first day the records of an enrolment that ended on ``ended_on`` may go."""
    return add_months(ended_on, 12 * rules.record_years)


def records_cutoff(today: date, rules: Periods) -> date:
    """Enrolments that ended on or before this day have records due today."""
    return add_months(today, -12 * rules.record_years)


__all__ = [
    "FINISHED",
    "Periods",
    "add_months",
    "evidence_cutoff",
    "evidence_due_on",
    "periods",
    "records_cutoff",
    "records_due_on",
]
