"""Every unit file says exactly what its published text says: nothing invented, nothing dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from portfolio.units.loader import load_files
from portfolio.units.sync import derive_targets
from tests.conftest import DATA, UNITS_DIR

SEEDS = DATA / "seeds"
CODES = ["TLII5018", "BSBCUS501", "MEM16003", "SITXCCS008", "INSCS042"]

# Fields that hold identifiers, not transcribed text.
NOT_TEXT = {"code", "number", "framework", "release", "band", "unit_weight", "criteria_refs"}

# Lines of the published pages that are headings or page furniture, not unit content.
FURNITURE = {
    "Application",
    "Overview",
    "Elements and Performance Criteria",
    "ELEMENTS",
    "ELEMENT",
    "PERFORMANCE CRITERIA",
    "Elements describe the essential outcomes.",
    "Performance criteria describe the performance needed to demonstrate achievement of the "
    "element.",
    "Evidence of Performance",
    "Performance Evidence",
    "Evidence of Knowledge",
    "Knowledge Evidence",
    "Assessment Conditions",
    "Foundation Skills",
    "Range Statement",
    "Sectors",
    "Competency Field",
    "Skill",
    "Performance",
    "Criteria",
    "Description",
    "Performance criteria",
    "Knowledge and understanding",
    "Google Links",
    "Follow the links below to find material targeted to the unit's elements, performance "
    "criteria, required skills and knowledge",
}
NUMBER_PREFIX = re.compile(r"^(\d+(\.\d+)?\.?)\s+")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def strings(value: object, key: str | None = None) -> Iterator[str]:
    """Every transcribed string in a loaded unit file."""
    if key in NOT_TEXT:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, "criteria_refs" if k == "criteria" and "skill" in value else k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)


def raw(code: str) -> dict:
    return yaml.safe_load((UNITS_DIR / f"{code}.yaml").read_text(encoding="utf-8"))


def document(code: str):
    result = load_files([UNITS_DIR / f"{code}.yaml"])
    assert result.ok, result.problems
    return result.units[0].document


def seed_lines(code: str) -> list[str]:
    text = (SEEDS / f"{code}.txt").read_text(encoding="utf-8")
    return [normalise(line) for line in text.splitlines() if line.strip()]


def test_every_unit_has_a_seed_and_a_file() -> None:
    """The five units of the design are all here, each with its published text."""
    assert sorted(p.stem for p in UNITS_DIR.glob("*.yaml")) == sorted(CODES)
    assert sorted(p.stem for p in SEEDS.glob("*.txt")) == sorted(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_string_is_a_line_of_the_published_text(code: str) -> None:
    """Nothing in a unit file is paraphrased, shortened or invented: each string is a whole line."""
    lines = set(seed_lines(code))
    lines |= {NUMBER_PREFIX.sub("", line) for line in lines}
    data = raw(code)
    if code in {"SITXCCS008", "INSCS042"}:  # their published texts carry no title
        data.pop("title")
    invented = [s for s in strings(data) if normalise(s) not in lines]
    assert invented == []


@pytest.mark.parametrize("code", CODES)
def test_every_line_of_the_published_text_is_in_the_file(code: str) -> None:
    """Nothing of the published text is dropped (headings and page furniture aside)."""
    data = raw(code)
    known = {normalise(s) for s in strings(data)} | {code, normalise(data["title"])}
    known.add(f"Band: {data.get('band')}")
    known.add(f"Unit Weight: {data.get('unit_weight')}")
    for skill in (data.get("foundation_skills") or {}).get("skills", []):
        known.add(", ".join(skill["criteria"]))
    dropped = []
    for line in seed_lines(code):
        if line in FURNITURE or line in known or re.fullmatch(r"\d+(\.\d+)?", line):
            continue
        if NUMBER_PREFIX.sub("", line) in known:
            continue
        dropped.append(line)
    assert dropped == []


@pytest.mark.parametrize(
    ("code", "elements", "criteria", "performance", "knowledge"),
    [
        ("TLII5018", 3, 10, 7, 7),
        ("BSBCUS501", 3, 10, 6, 6),
        ("MEM16003", 5, 19, 0, 0),
        ("SITXCCS008", 3, 0, 4, 14),
        ("INSCS042", 0, 19, 0, 16),
    ],
)
def test_unit_counts(code: str, elements: int, criteria: int, performance: int, knowledge: int):
    """Elements, criteria and top-level evidence items as counted by hand in the seeds."""
    doc = document(code)
    assert len(doc.elements) == elements
    assert len(doc.all_criteria()) == criteria
    assert len(doc.performance_evidence.items if doc.performance_evidence else []) == performance
    assert len(doc.knowledge_evidence.items if doc.knowledge_evidence else []) == knowledge


def test_nested_knowledge_stays_nested() -> None:
    """A line ending in a colon leads the lines under it, several levels deep."""
    bsb = document("BSBCUS501").knowledge_evidence.items
    assert bsb[5].text.endswith("management and organisation of:")
    assert [i.text for i in bsb[5].items][:2] == ["customer behaviour", "customer needs research"]
    assert len(bsb[5].items) == 9

    sitx = document("SITXCCS008").knowledge_evidence.items
    assessing = next(i for i in sitx if i.text.startswith("methods of assessing"))
    monitoring = assessing.items[1]
    assert monitoring.text == "monitoring the ongoing effectiveness of:"
    assert [i.text for i in monitoring.items] == [
        "staff in meeting customer service standards",
        "policies and procedures in explaining practices",
    ]
    areas = next(i for i in sitx if i.text.startswith("areas where"))
    assert areas.items[-1].text == "staff training for:"
    assert [i.text for i in areas.items[-1].items] == ["customer service", "technical skills"]


def test_sitxccs008_elements_stand_as_targets_without_invented_criteria() -> None:
    """A summary page gives elements only: they are the targets, and no criterion is made up."""
    doc = document("SITXCCS008")
    assert all(element.criteria == [] for element in doc.elements)
    element_targets = [t for t in derive_targets(doc) if t.kind == "element"]
    assert [(t.anchor, t.text) for t in element_targets] == [
        ("el-1", "Develop quality customer service practices."),
        ("el-2", "Manage delivery of quality service."),
        ("el-3", "Monitor and adjust customer service."),
    ]


def test_nos_criteria_have_no_elements() -> None:
    """A UK standard's criteria stand alone, numbered in order."""
    doc = document("INSCS042")
    assert doc.framework == "nos" and doc.elements == []
    assert [c.number for c in doc.criteria] == [str(n) for n in range(1, 20)]
    assert doc.criteria[0].text == "analyse customers' expectations of customer service"


def test_mem_unit_keeps_band_weight_and_range() -> None:
    """MEM16003's band, unit weight and range statement terms and values are all there."""
    doc = document("MEM16003")
    assert (doc.band, doc.unit_weight) == ("B", 2)
    entries = doc.range_statement.entries
    assert len(entries) == 8
    assert entries[0].term.startswith("Customer liaison includes")
    assert entries[0].values[0].text == "telephone"


def test_bsbcus501_foundation_skills_keep_their_criteria() -> None:
    """The foundation skills table keeps the criteria each skill is shown in."""
    skills = {s.skill: s for s in document("BSBCUS501").foundation_skills.skills}
    assert len(skills) == 7
    assert skills["Get the work done"].criteria == ["1.1", "1.2", "2.1", "2.2", "3.1-3.5"]
    assert len(skills["Get the work done"].descriptions) == 3


def test_seed_copies_are_what_the_files_were_transcribed_from(tmp_path: Path) -> None:
    """The copies under tests/data match the shared originals wherever those are present."""
    shared = UNITS_DIR.parent.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("the shared seed folder is not beside this checkout")
    originals = {p.read_text(encoding="utf-8") for p in shared.glob("*.txt")}
    assert {p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")} == originals
