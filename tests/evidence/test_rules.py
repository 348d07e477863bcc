"""What an evidence item needs and records, without a database: the services and the bulk
generator both use these."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.errors import ServiceError
from portfolio.evidence import rules
from portfolio.evidence.rules import ItemFields
from portfolio.models import EvidenceType

TODAY = date(2026, 11, 20)


def fields(**changes) -> ItemFields:
    values = {
        "title": " Rota ",
        "evidence_type": EvidenceType.PLAN,
        "work_date": date(2026, 10, 1),
        "description": " Who covered the desk. ",
    }
    return ItemFields(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "has_files", "field"),
    [
        ({"title": "  "}, True, "title"),
        ({"work_date": date(2026, 11, 21)}, True, "work_date"),
        ({"description": " "}, False, "files"),
    ],
)
def test_an_item_has_a_title_a_past_date_and_a_file_or_words(changes, has_files, field) -> None:
    with pytest.raises(ServiceError) as refused:
        rules.checked_fields(fields(**changes), has_files=has_files, today=TODAY)
    assert refused.value.field == field


def test_an_item_is_kept_trimmed_and_may_be_files_alone() -> None:
    kept = rules.checked_fields(fields(), has_files=False, today=TODAY)
    assert (kept.title, kept.description) == ("Rota", "Who covered the desk.")
    assert rules.checked_fields(fields(description=""), has_files=True, today=TODAY)


REFS = {10: "1.1", 11: "1.2", 12: "2.1"}


def test_an_unchanged_mapping_records_nothing() -> None:
    notes = {10: "Row 3"}
    assert rules.mapping_change(notes, notes, before_version=1, version=1, refs=REFS) is None


def test_a_mapping_change_names_targets_in_unit_order_and_only_changed_notes() -> None:
    before = {12: "Shift list", 10: "Row 3"}
    after = {10: "Row 3", 11: "Callback column", 12: "Shift list, week 2"}
    assert rules.mapping_change(before, after, before_version=1, version=2, refs=REFS) == (
        {"version": 1, "targets": ["1.1", "2.1"], "notes": {"2.1": "Shift list"}},
        {
            "version": 2,
            "new_version": True,
            "targets": ["1.1", "1.2", "2.1"],
            "notes": {"1.2": "Callback column", "2.1": "Shift list, week 2"},
        },
    )


def test_a_new_version_is_recorded_even_with_the_same_mappings() -> None:
    notes = {10: "Row 3"}
    change = rules.mapping_change(notes, notes, before_version=1, version=2, refs=REFS)
    assert change == (
        {"version": 1, "targets": ["1.1"]},
        {"version": 2, "new_version": True, "targets": ["1.1"]},
    )


def test_a_portfolio_is_handed_in_declared_and_not_empty() -> None:
    with pytest.raises(ServiceError, match="Tick the declaration"):
        rules.check_declared(False)
    with pytest.raises(ServiceError, match="Add at least one piece of evidence"):
        rules.check_not_empty([])
    rules.check_declared(True)
    rules.check_not_empty(["E1"])
