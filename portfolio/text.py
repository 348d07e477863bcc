"""Words for counts in messages: "1 row", "3 rows", "2 criteria"."""

from __future__ import annotations

IRREGULAR_PLURALS = {"criterion": "criteria"}


def count(n: int, noun: str) -> str:
    """``count(1, "event")`` -> "1 event"; ``count(2, "criterion")`` -> "2 criteria"."""
    return f"{n} {noun if n == 1 else IRREGULAR_PLURALS.get(noun, noun + 's')}"
