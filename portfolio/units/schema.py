"""The structure of a unit file (``units/README.md`` documents it for people)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Paragraphs = list[Text]

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{2,31}$")
ELEMENT_NUMBER = re.compile(r"^[1-9][0-9]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ListItem(Strict):
    """A line of a list; a line that leads a sub-list carries it in ``items``."""

    text: Text
    items: list[ListItem] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_a_leaf(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"text": value}
        return value


class Criterion(Strict):
    number: Text
    text: Text
    #: The list a criterion leads ("Identify hazards including:"), part of what it asks.
    items: list[ListItem] = Field(default_factory=list)

    def with_items(self) -> str:
        """The criterion's text with its list under it, an item a line ("• ", indented two
        spaces a level): what it asks, as pages and exports show it."""
        return "\n".join([self.text, *_bulleted(self.items)])


def _bulleted(items: list[ListItem], depth: int = 0) -> list[str]:
    return [
        line
        for item in items
        for line in (f"{'  ' * depth}\u2022 {item.text}", *_bulleted(item.items, depth + 1))
    ]


class Element(Strict):
    number: Text
    title: Text
    criteria: list[Criterion] = Field(default_factory=list)


class EvidenceSection(Strict):
    intro: Text | None = None
    items: list[ListItem] = Field(default_factory=list)
    notes: Paragraphs = Field(default_factory=list)


class FoundationSkill(Strict):
    skill: Text
    criteria: list[Text] = Field(default_factory=list)
    #: Empty where the published table leaves the description cell empty.
    descriptions: Paragraphs = Field(default_factory=list)


class FoundationSkills(Strict):
    intro: Paragraphs = Field(default_factory=list)
    skills: list[FoundationSkill] = Field(default_factory=list)


class RangeEntry(Strict):
    term: Text
    values: list[ListItem] = Field(min_length=1)


class RangeStatement(Strict):
    intro: Paragraphs = Field(default_factory=list)
    entries: list[RangeEntry] = Field(default_factory=list)


class UnitDocument(Strict):
    """One release of one unit, as its file gives it."""

    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    title: Text
    release: Annotated[int, Field(ge=1)]
    framework: Literal["training_package", "nos"]
    application: Paragraphs = Field(default_factory=list)
    band: Text | None = None
    unit_weight: Annotated[int, Field(ge=1)] | None = None
    competency_field: Text | None = None
    sector: Text | None = None
    elements: list[Element] = Field(default_factory=list)
    criteria_intro: Text | None = None
    criteria: list[Criterion] = Field(default_factory=list)
    performance_evidence: EvidenceSection | None = None
    knowledge_evidence: EvidenceSection | None = None
    assessment_conditions: list[ListItem] = Field(default_factory=list)
    foundation_skills: FoundationSkills | None = None
    range_statement: RangeStatement | None = None

    def all_criteria(self) -> list[Criterion]:
        """Every performance criterion, in element order, then those outside elements."""
        return [c for element in self.elements for c in element.criteria] + list(self.criteria)
