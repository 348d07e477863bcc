"""What the learner's evidence needs, and what the audit log keeps of it: pure functions.

The services in ``portfolio.evidence.services`` and the bulk generator both call them, so each
refusal and each audit payload is written once, and ``tests/evidence/test_rules.py`` tests
them without a database. Whether the portfolio is the learner's to change is the policy's
(``portfolio.auth.permissions``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portfolio.errors import ServiceError
from portfolio.models import EvidenceType

DECLARATION = (
    "I declare that the evidence in this portfolio is my own work, that it was produced in "
    "the workplace or in the tasks described, and that I have acknowledged any help I had."
)


@dataclass
class ItemFields:
    title: str
    evidence_type: EvidenceType
    work_date: date
    description: str = ""


def checked_fields(fields: ItemFields, *, has_files: bool, today: date) -> ItemFields:
    """An item's fields as they are kept (trimmed), once they say what an item must."""
    if not fields.title.strip():
        raise ServiceError("Give the evidence a title.", "title")
    if fields.work_date > today:
        raise ServiceError("The date the work was done cannot be in the future.", "work_date")
    if not fields.description.strip() and not has_files:
        raise ServiceError(
            "Add a file or write a description: an item needs at least one of them.", "files"
        )
    return ItemFields(
        fields.title.strip(), fields.evidence_type, fields.work_date, fields.description.strip()
    )


def version_snapshot(version: Any) -> dict[str, object]:
    """What the audit log keeps of a version's content (file names; their hashes are stored)."""
    return {
        "title": version.title,
        "evidence_type": version.evidence_type,
        "work_date": version.work_date,
        "description": version.description,
        "files": sorted(f.display_name for f in version.files),
    }


def created_payload(version: Any) -> dict[str, object]:
    """What the audit log keeps of a new item: its first version's content."""
    return {"version": 1, **version_snapshot(version)}


def mapping_change(
    before: Mapping[int, str],
    after: Mapping[int, str],
    *,
    before_version: int,
    version: int,
    refs: Mapping[int, str],
) -> tuple[dict[str, object], dict[str, object]] | None:
    """The "evidence.mapped" event's before and after, or None when nothing changed.

    ``before`` and ``after`` are {target id: how the item shows it}; ``refs`` names every
    target of either, in the unit's order.
    """
    new_version = version != before_version
    if after == before and not new_version:
        return None
    order = [t for t in refs if t in before or t in after]

    def targets(notes: Mapping[int, str]) -> list[str]:
        return [refs[t] for t in order if t in notes]

    def changed_notes(mine: Mapping[int, str], other: Mapping[int, str]) -> dict[str, str]:
        return {refs[t]: mine[t] for t in order if mine.get(t) and mine[t] != other.get(t)}

    before_values: dict[str, object] = {"version": before_version, "targets": targets(before)}
    after_values: dict[str, object] = {
        "version": version,
        "new_version": new_version,
        "targets": targets(after),
    }
    if notes := changed_notes(before, after):
        before_values["notes"] = notes
    if notes := changed_notes(after, before):
        after_values["notes"] = notes
    return before_values, after_values


def check_declared(declared: bool) -> None:
    """A portfolio is handed in with the learner's declaration."""
    if not declared:
        raise ServiceError(
            "Tick the declaration to confirm the evidence is your own work.", "declared"
        )


def check_not_empty(items: Sequence[object]) -> None:
    """A portfolio is handed in with at least one item."""
    if not items:
        raise ServiceError("Add at least one piece of evidence before you submit.")
