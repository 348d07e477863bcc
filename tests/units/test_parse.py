"""The parser from published unit text to a unit file, on the seeds and on crafted layouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.units.importing import html_to_text, prepare
from portfolio.units.loader import load_files
from portfolio.units.parse import BY_WORDING, parse_unit_text
from portfolio.units.schema import UnitDocument

DATA = Path(__file__).resolve().parent.parent / "data" / "seeds"
UNITS = Path(__file__).resolve().parents[2] / "units"
# The two texts that give neither code nor title: the admin supplies them.
SUPPLIED = {
    "SITXCCS008": "Develop and manage quality customer service practices",
    "INSCS042": "Plan, organise and control customer service operations",
}


def hand_made(code: str) -> UnitDocument:
    result = load_files([UNITS / f"{code}.yaml"])
    assert result.ok, result.problems
    return result.units[0].document


def imported(path: Path, code: str) -> tuple[UnitDocument, list]:
    draft = prepare(
        path.read_text(encoding="utf-8"), code=code, title=SUPPLIED.get(code), release=1
    )
    assert draft.ok, draft.problems
    return draft.unit.document, draft.parsed.warnings


@pytest.mark.parametrize("code", ["TLII5018", "BSBCUS501", "MEM16003", "INSCS042"])
def test_seed_text_gives_its_unit_file(code: str) -> None:
    document, warnings = imported(DATA / f"{code}.txt", code)
    assert document == hand_made(code)
    # Only where plain text does not show the nesting is a line reported.
    assert {w.cause for w in warnings} <= {BY_WORDING}


@pytest.mark.parametrize("code", ["TLII5018", "BSBCUS501", "MEM16003"])
def test_code_and_title_come_from_the_page(code: str) -> None:
    parsed = parse_unit_text((DATA / f"{code}.txt").read_text(encoding="utf-8"))
    assert parsed.data["code"] == code
    assert parsed.data["title"] == hand_made(code).title
    assert parsed.missing == ["release"]  # none of the seed texts gives its release
    assert parsed.roles[1] == "code" and parsed.roles[2] == "title"


def test_text_without_code_or_title_asks_for_them() -> None:
    parsed = parse_unit_text((DATA / "INSCS042.txt").read_text(encoding="utf-8"))
    assert parsed.missing == ["code", "title", "release"]
    assert parsed.data["framework"] == "nos"
    assert len(parsed.data["criteria"]) == 19
    assert len(parsed.data["application"]) == 3


def test_section_printed_twice_is_imported_once() -> None:
    parsed = parse_unit_text(" Overview\n\nFirst.\nSecond.\n Overview\nFirst.\nSecond.\n")
    assert parsed.data["application"] == ["First.", "Second."]
    assert parsed.roles[5].startswith("printed twice (as from line 3)")
    assert parsed.roles[6] == "printed twice; not imported again"
    assert parsed.warnings == []


def flatten(items: list) -> list[str]:
    out: list[str] = []
    for item in items:
        out.append(item.text)
        out.extend(flatten(item.items))
    return out


def test_summary_page_nesting_the_text_cannot_show_is_reported_line_by_line() -> None:
    document, warnings = imported(DATA / "SITXCCS008.txt", "SITXCCS008")
    expected = hand_made("SITXCCS008")
    # Everything but the nesting of the knowledge evidence comes out as the unit file has it.
    assert document.model_copy(update={"knowledge_evidence": None}) == expected.model_copy(
        update={"knowledge_evidence": None}
    )
    assert flatten(document.knowledge_evidence.items) == flatten(expected.knowledge_evidence.items)
    # Plain text shows where a nested list starts (its colon), not where it ends: each place
    # the parser had to decide is reported at its line of the source, and so is each line it
    # took out of a nested list because of its wording.
    assert [w.line for w in warnings] == [40, 54, 68, 76, 86, 94, 96, 110, 120, 140, 146, 156]
    assert "'staff training for:' (line 140)" in warnings[-2].message
    assert {w.cause for w in warnings} == {BY_WORDING}
    assert "beside line 54 ('methods of formal" in warnings[2].message
    # The page's navigation lines are dropped, never imported.
    parsed = parse_unit_text((DATA / "SITXCCS008.txt").read_text(encoding="utf-8"))
    assert parsed.roles[1].startswith("page text") and parsed.roles[3].startswith("page text")


def test_indenting_the_nested_lines_gives_the_unit_file_exactly() -> None:
    document, warnings = imported(DATA.parent / "SITXCCS008.nested.txt", "SITXCCS008")
    assert document == hand_made("SITXCCS008")
    assert warnings == []


SUMMARY_PRINTED_TWICE = """\
Google Links

Follow the links below to find material targeted to the unit's elements, performance criteria

Elements and Performance Criteria

  1. Identify task requirements
  2. Plan and prepare for task
  3. Identify task requirements
  4. Plan and prepare for task

Knowledge Evidence

Operational knowledge of:

activities in the task to be performed
"""


def test_element_list_printed_twice_is_imported_once() -> None:
    parsed = parse_unit_text(SUMMARY_PRINTED_TWICE)
    assert [e["title"] for e in parsed.data["elements"]] == [
        "Identify task requirements",
        "Plan and prepare for task",
    ]
    assert parsed.roles[9] == "element list printed twice: not imported again"
    assert parsed.warnings == []
    assert parsed.data["knowledge_evidence"] == {
        "intro": "Operational knowledge of:",
        "items": ["activities in the task to be performed"],
    }


def test_lines_it_cannot_place_are_warnings_with_line_numbers() -> None:
    text = (
        "ABC123 Do a thing\n"
        "Stray line before any heading\n"
        "Elements and Performance Criteria\n"
        "1 First element\n"
        "1.1 First criterion\n"
        "2.1 A criterion of an element that is not there\n"
        "an unnumbered line\n"
        "Modification History\n"
        "Release 2. Updated.\n"
        "Sectors\n"
        "Logistics\n"
        "Warehousing\n"
    )
    parsed = parse_unit_text(text)
    assert parsed.data["code"] == "ABC123" and parsed.data["title"] == "Do a thing"
    assert parsed.data["elements"] == [
        {
            "number": "1",
            "title": "First element",
            "criteria": [{"number": "1.1", "text": "First criterion"}],
        }
    ]
    lines = parsed.warnings_by_line()
    # Every training.gov.au unit has a modification history: not imported, not a warning.
    assert set(lines) == {2, 6, 7, 12}
    assert "before any heading" in lines[2][0]
    assert "criterion 2.1 does not follow element 2" in lines[6][0]
    assert parsed.roles[8] == "heading of a section a unit file has no field for"
    assert parsed.roles[9] == "not imported (under 'Modification History')"
    assert parsed.data["sector"] == "Logistics"
    assert "release" not in parsed.data


def test_section_printed_again_with_other_content_keeps_the_first() -> None:
    parsed = parse_unit_text("Sectors\nOne\nSectors\nTwo\n")
    assert parsed.data["sector"] == "One"
    assert [w.line for w in parsed.warnings] == [3]


def test_missing_criteria_are_asked_for_and_the_draft_says_what_is_wrong() -> None:
    draft = prepare("Application\n\nSome words.\n", code="ABC123", title="Thing", release=1)
    assert draft.parsed.missing == ["code", "title", "release", "criteria"]
    assert draft.missing == ["criteria"]
    assert not draft.ok
    assert any("a unit needs elements" in p.reason for p in draft.problems)


def test_bad_code_is_a_located_problem_not_a_file_name_one() -> None:
    draft = prepare((DATA / "TLII5018.txt").read_text(encoding="utf-8"), code="tlii 5018")
    assert [(p.path, p.line) for p in draft.problems] == [("code", 1)]
    assert "is not a unit code" in draft.problems[0].reason


def test_release_from_the_page_and_from_the_admin() -> None:
    text = (DATA / "BSBCUS501.txt").read_text(encoding="utf-8")
    assert prepare("Release 3\n" + text).unit.document.release == 3
    later = prepare(text, release=2)
    assert later.unit.document.release == 2 and later.file_name == "BSBCUS501.r2.yaml"


def test_foundation_skills_table_with_a_criteria_column() -> None:
    document, _ = imported(DATA / "BSBCUS501.txt", "BSBCUS501")
    skills = document.foundation_skills.skills
    assert [s.skill for s in skills][:2] == ["Reading", "Writing"]
    assert skills[-1].criteria == ["1.1", "1.2", "2.1", "2.2", "3.1-3.5"]
    assert len(skills[2].descriptions) == 2


def test_band_and_unit_weight() -> None:
    document, _ = imported(DATA / "MEM16003.txt", "MEM16003")
    assert (document.band, document.unit_weight) == ("B", 2)
    assert not any(p.startswith("Band") for p in document.application)


def test_html_page_nested_lists_give_the_nesting() -> None:
    html = """<html><head><title>x</title><script>var a = "1.1 nope";</script></head><body>
    <nav><a href="/">Home</a></nav>
    <h1>ABC123 - Do a thing</h1>
    <h2>Elements and Performance Criteria</h2>
    <table><tr><th>ELEMENT</th><th>PERFORMANCE CRITERIA</th></tr>
    <tr><td>1 Plan</td><td><p>1.1 Plan it</p><p>1.2 Check it</p></td></tr></table>
    <h2>Knowledge Evidence</h2>
    <p>Demonstrated knowledge of:</p>
    <ul><li>kinds of plan:<ul><li>short</li><li><p>long</p></li></ul></li>
    <li>checking &amp; reporting</li></ul>
    </body></html>"""
    parsed = parse_unit_text(html_to_text(html))
    assert parsed.warnings == []
    assert parsed.data["code"] == "ABC123" and parsed.data["title"] == "Do a thing"
    assert [c["number"] for c in parsed.data["elements"][0]["criteria"]] == ["1.1", "1.2"]
    assert parsed.data["knowledge_evidence"]["items"] == [
        {"text": "kinds of plan:", "items": ["short", "long"]},
        "checking & reporting",
    ]


# Property tests: any text at all, and text made of the pieces unit pages are made of.
PIECES = st.sampled_from(
    [
        "Application",
        "Elements and Performance Criteria",
        "ELEMENTS",
        "Performance criteria",
        "You must be able to:",
        "Knowledge Evidence",
        "Evidence of Performance",
        "Foundation Skills",
        "Skill",
        "Description",
        "Reading",
        "1.1, 2.3-2.5",
        "Range of Conditions",
        "Sectors",
        "Band: A",
        "Unit Weight: 4",
        "Release 2",
        "Modification History",
        "Google Links",
        "1",
        "1.1",
        "2",
        "2.1",
        "1. Develop practices.",
        "1.1 Research needs",
        "methods of:",
        "customer surveys",
        "the last item.",
        "  • indented item",
        "Note: evidence at least once.",
        "ABC1234",
        "Manage something",
        "## Performance Evidence",
        "# ABC1234 - 3",
        "| 1 Plan work | 1.1 Plan it<br>1.2 Check it |",
        "|---|---|",
        "**Knowledge Evidence**",
        "In the course of the above, the candidate must:",
        "URN: ABC1234",
        "",
        "Element: Plan the work",
        "Element 2: Act",
        "  • Hazards are identified",
        "o noise",
        "2. Correct tools are chosen",
        "1. Select and use hand tools",
        "Unit of Competency ABC1234 - Manage something",
        "# UNIT CODE",
        "# UNIT TITLE",
        "VU23226",
        "| ELEMENTS | PERFORMANCE CRITERIA |",
        "Manage something (Release 2)",
        "The elements and performance criteria include:",
        "Purchasing procedures",
        "describe preferred suppliers",
        "3. evacuation procedures",
    ]
)
UNIT_LIKE = st.lists(st.one_of(PIECES, st.text(max_size=40)), max_size=60).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_any_text_parses_without_crashing(text: str) -> None:
    parsed = parse_unit_text(text)
    line_count = max(len(text.splitlines()), 1)
    assert all(1 <= w.line <= line_count for w in parsed.warnings)
    assert all(1 <= n <= line_count for n in parsed.roles)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(UNIT_LIKE, st.sampled_from([None, "ABC123", "bad code"]))
def test_parsed_unit_validates_or_says_where_it_does_not(text: str, code: str | None) -> None:
    draft = prepare(text, code=code, title="A title", release=1)
    line_count = max(len(text.splitlines()), 1)
    assert all(1 <= w.line <= line_count for w in draft.parsed.warnings)
    if draft.ok:
        assert draft.problems == []
        assert UnitDocument.model_validate(draft.unit.document.model_dump()) == draft.unit.document
    else:
        assert draft.problems or draft.refusal
        yaml_lines = len(draft.yaml_text.splitlines())
        for problem in draft.problems:
            assert problem.line is not None and 1 <= problem.line <= yaml_lines
            assert problem.reason
