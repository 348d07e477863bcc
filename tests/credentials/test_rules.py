"""The credential register's rules, without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from portfolio.credentials.rules import Entry, authorisation, checked_entry, expiring, stands
from portfolio.errors import ServiceError
from portfolio.models import CredentialBasis, CredentialKind

K = CredentialKind
TODAY = date(2026, 12, 3)
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
UNITS = {"TLII5018", "BSBCUS501"}


@dataclass
class Row:
    kind: CredentialKind
    code: str
    starts_on: date
    ends_on: date | None = None
    recorded_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    ended_at: datetime | None = None
    id: int = 0


def entry(kind=K.TRAINING_AND_ASSESSMENT, code="TAE40122", **fields) -> Entry:
    values = {
        "title": "",
        "basis": CredentialBasis.HELD,
        "reason": "",
        "starts_on": date(2024, 5, 1),
        "ends_on": None,
        **fields,
    }
    return Entry(kind, code, **values)


def test_a_known_tae_code_gets_its_title_and_an_unknown_one_must_be_an_equivalence():
    kept = checked_entry(entry(code=" tae40122 "), unit_codes=UNITS, today=TODAY)
    assert kept.code == "TAE40122" and kept.title == "Certificate IV in Training and Assessment"
    with pytest.raises(ServiceError, match="record it as an equivalent") as refused:
        checked_entry(entry(code="BSB50120"), unit_codes=UNITS, today=TODAY)
    assert refused.value.field == "code"
    with pytest.raises(ServiceError, match="Say why the RTO accepts it as equivalent"):
        checked_entry(
            entry(code="MED-ADULT", basis=CredentialBasis.EQUIVALENT, title="M.Ed (Adult)"),
            unit_codes=UNITS,
            today=TODAY,
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": K.VOCATIONAL, "code": "XYZ123"}, "is not a unit here"),
        ({"starts_on": None}, "Give the date it was issued"),
        ({"starts_on": date(2027, 1, 1)}, "cannot be in the future"),
        ({"ends_on": date(2020, 1, 1)}, "before the date it began"),
        ({"kind": K.INDUSTRY_CURRENCY, "code": "", "title": "Depot shifts"}, "next reviewed"),
        ({"kind": K.INDUSTRY_CURRENCY, "code": "", "ends_on": date(2027, 6, 1)}, "the activity"),
    ],
    ids=["unknown unit", "no start", "future start", "ends before", "no review", "no activity"],
)
def test_an_entry_without_what_an_auditor_asks_is_refused_in_words(fields, message):
    with pytest.raises(ServiceError, match=message):
        checked_entry(entry(**fields), unit_codes=UNITS, today=TODAY)


def test_authorised_only_with_all_three_in_force_on_the_day():
    """A credential, vocational competency in that unit and currency; each for that day."""
    rows = [
        Row(K.TRAINING_AND_ASSESSMENT, "TAE40122", date(2020, 1, 1)),
        Row(K.VOCATIONAL, "TLII5018", date(2019, 1, 1)),
        Row(K.INDUSTRY_CURRENCY, "", date(2026, 1, 1), date(2026, 12, 31)),
    ]
    assert authorisation(rows, "TLII5018", TODAY, NOW).ok
    other = authorisation(rows, "BSBCUS501", TODAY, NOW)
    assert other.missing == ("vocational competency in BSBCUS501",)
    assert "Not authorised for BSBCUS501 on 03/12/2026" in str(other)
    later = authorisation(rows, "TLII5018", date(2027, 1, 1), NOW)
    assert later.missing == ("industry currency for TLII5018",)


def test_the_register_is_read_as_it_stood_at_the_time():
    """An entry recorded later, or ended earlier, does not count for then."""
    late = Row(K.VOCATIONAL, "TLII5018", date(2019, 1, 1), recorded_at=NOW)
    assert not stands(late, TODAY, datetime(2026, 6, 1, tzinfo=UTC))
    assert stands(late, TODAY, NOW)
    ended = Row(
        K.VOCATIONAL, "TLII5018", date(2019, 1, 1), ended_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert stands(ended, TODAY, datetime(2026, 5, 1, tzinfo=UTC))
    assert not stands(ended, TODAY, NOW)


def test_expiring_lists_what_lapses_within_sixty_days_soonest_first():
    rows = [
        Row(K.INDUSTRY_CURRENCY, "", date(2026, 1, 1), date(2027, 1, 20), id=1),
        Row(K.INDUSTRY_CURRENCY, "", date(2026, 1, 1), date(2026, 12, 10), id=2),
        Row(K.INDUSTRY_CURRENCY, "", date(2026, 1, 1), date(2027, 6, 1), id=3),
        Row(K.INDUSTRY_CURRENCY, "", date(2026, 1, 1), date(2026, 11, 1), id=4),
    ]
    assert [r.id for r in expiring(rows, TODAY, NOW)] == [2, 1]
