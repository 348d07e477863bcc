"""The importer's rules: it never invents a title, reads a second lead-in as a parent item,
tells a UK standard by its marks only, refuses a text that does not read as a unit, and groups
its warnings by cause."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest

from portfolio.units.importing import Draft, html_to_text, prepare
from portfolio.units.loader import load_files
from portfolio.units.parse import BY_WORDING, EMPTY_LIST, NOT_PLACED, OUT_OF_ORDER, parse_unit_text
from tests.units.layouts import tga_markdown

UNITS = Path(__file__).resolve().parents[2] / "units"
SEEDS = Path(__file__).resolve().parent.parent / "data" / "seeds"
URL = "/admin/units/import"

# The performance evidence of BSBINS512 as a unit page gives it (rtoflow.au, from
# training.gov.au, CC BY 4.0): a second lead-in inside the section.
SECOND_LEAD_IN = """\
BSBINS512 Set up a records system
Elements and Performance Criteria
1. Determine information management requirements
1.1 Identify requirements
Performance Evidence
The candidate must demonstrate the ability to complete the tasks outlined in the elements, \
performance criteria and foundation skills of this unit, including evidence of the ability to:
• develop, implement and review one records system for an organisation or work area.
In the course of the above, the candidate must:
• identify the requirement for a business records system
• document the steps used to determine the criteria for a records system appropriate to the \
organisation’s business functions and reporting requirements
• develop an implementation plan.
Knowledge Evidence
The candidate must be able to demonstrate knowledge to complete the tasks outlined in the \
elements, performance criteria and foundation skills of this unit, including knowledge of:
• key principles and processes of records management and records management systems
"""


def unit_file(code: str):
    return load_files([UNITS / f"{code}.yaml"]).units[0].document


@pytest.mark.parametrize(
    "header", ["BSBCUS501 - 3", "# BSBCUS501 - 3", "BSBCUS501: 2", "BSBCUS501 – 12."]
)
def test_a_number_after_the_code_is_never_a_title(header: str) -> None:
    text = tga_markdown(unit_file("BSBCUS501"))
    text = re.sub(r"^# .*$", header, text, count=1, flags=re.M).replace(
        "**BSBCUS501 Manage quality customer service**", ""
    )
    draft = prepare(text)
    assert "title" not in draft.parsed.data
    assert draft.missing == ["title"] and not draft.ok
    assert any("is not a title" in w.message for w in draft.parsed.warnings)
    # Typed by the admin, the same text saves.
    assert prepare(text, title="Manage quality customer service").ok


def test_a_release_after_the_code_is_the_release_not_the_title() -> None:
    parsed = parse_unit_text("ABC123 - Release 4\nDo the work\nElements\n1. First\n1.1 Do it\n")
    assert parsed.data["release"] == 4 and parsed.data["title"] == "Do the work"


@pytest.mark.parametrize(
    "header",
    [
        "HLTAID011 - Provide First Aid (Release 1)",  # training.gov.au's page heading
        "HLTAID011\nProvide First Aid (Release 1)",
        "Provide First Aid (Release 1)",  # a provider's page: the title first, no code line
    ],
)
def test_a_release_in_brackets_after_the_title_is_the_release(header: str) -> None:
    parsed = parse_unit_text(f"{header}\nElements and Performance Criteria\n1. Act\n1.1 Do it\n")
    assert parsed.data["title"] == "Provide First Aid" and parsed.data["release"] == 1
    assert parsed.warnings == []


def test_a_release_after_the_title_that_differs_from_the_texts_release_is_reported() -> None:
    parsed = parse_unit_text(
        "Release 2\nHLTAID011 - Provide First Aid (Release 1)\n"
        "Elements and Performance Criteria\n1. Act\n1.1 Do it\n"
    )
    assert parsed.data["release"] == 2 and parsed.data["title"] == "Provide First Aid"
    (warning,) = parsed.warnings
    assert warning.line == 2 and "the text gave release 2 before" in warning.message


@pytest.mark.parametrize(
    "lead_in",
    [
        "The elements and performance criteria include:",
        "Elements and performance criteria are:",
        "The performance evidence of this unit includes:",
    ],
)
def test_a_sentence_naming_a_section_leads_it(lead_in: str) -> None:
    """A training provider's page puts a sentence where training.gov.au has a heading."""
    parsed = parse_unit_text(
        "Provide First Aid (Release 1)\n"
        f"{lead_in}\n  1. Respond to an emergency.\n    1.1 Recognise the emergency.\n"
    )
    name = "performance_evidence" if "evidence" in lead_in else "elements"
    assert name in parsed.data
    if name == "elements":
        assert parsed.data["elements"][0]["criteria"] == [
            {"number": "1.1", "text": "Recognise the emergency."}
        ]


STANDARD_HEAD = (
    "Comply with emergency procedures\nURN: EUSWO52\nPerformance criteria\nYou must be able to:\n"
)


def standard(criteria: str) -> Draft:
    """A standard with ``criteria`` under "You must be able to:", read and ready to save."""
    draft = prepare(STANDARD_HEAD + criteria, release=1)
    assert draft.ok, draft.refusal
    return draft


def test_lines_among_a_standards_criteria_that_no_criterion_claims_refuse_the_text() -> None:
    """Criteria a PDF wrapped are joined; criteria with neither number nor bullet cannot be
    told from the lines they wrap to, and would be saved incomplete: the text is refused."""
    head = STANDARD_HEAD
    bulleted = (
        "- report the situation immediately to the relevant\nperson(s)\n"
        "- comply with evacuation procedures in line\nwith your organisational procedures\n"
    )
    assert [c["text"] for c in standard(bulleted).parsed.data["criteria"]] == [
        "report the situation immediately to the relevant person(s)",
        "comply with evacuation procedures in line with your organisational procedures",
    ]
    unmarked = "identify situations that have the potential to affect the\nsafety of others\n"
    refused = prepare(head + "Respond to emergency situations\n" + unmarked + bulleted, release=1)
    assert not refused.ok and refused.unit is None
    assert refused.refusal.startswith("2 lines among the criteria (lines 6, 7) read as part of")
    # A heading among the criteria (upper case, no number) is only reported.
    headed = prepare(head + "Respond to emergency situations\n" + bulleted, release=1)
    assert headed.ok and [w.line for w in headed.parsed.warnings] == [5]


# The same standard as tests/units/texts/EUSWO52.txt, from another copy of its page
# (https://www.ukstandards.org.uk/en/nos-finder/EUSWO52/comply-with-emergency-procedures, its
# criteria's numbers lost but one, which stands on a line of its own), kept as stored.
EUSWO52_UNNUMBERED = """\
Comply with emergency procedures
Overview
This standard is for anyone who works and defines the competences required in order to \
comply with emergency procedures as they occur. It covers responding to and raising the alarm, \
alerting others and minimising the effect of an emergency as well as reporting any acts of
Performance criteria
You must be able to:
Respond to emergency situations
identify and evaluate situations that have the potential to affect the
safety of yourself and others
report the situation immediately to the relevant person(s)
3.
seek assistance from the relevant person(s) where you cannot
rectify the situation
promptly act to minimise the risk to people and the environment in
line with your job responsibilities and organizational procedures
- comply with emergency evacuation procedures if required in line
with your organisational procedures
- complete any required documentation on line with health and
safety, legislative and organisational requirements
Knowledge and Understanding
You need to know and understand:
You need to know and Emergencies
- how to identify an emergency situation
- your organisation's emergency response procedures
- evacuation procedures of your workplace/site
- changes that may be required to the operation of your workplace/site
as a result of an emergency situation
- how and when to liaise with emergency services
- the reporting lines within your organisation
- the limits of your own responsibility
- your organisational recording procedures"""


def test_a_standard_whose_criteria_lost_their_numbers_is_refused_not_saved_short() -> None:
    """Read as it was, it gave a standard of 2 criteria out of 6 (the two bulleted ones)."""
    draft = prepare(EUSWO52_UNNUMBERED, code="EUSWO52", release=1)
    assert draft.parsed.data["framework"] == "nos"
    assert not draft.ok and draft.unit is None
    assert draft.refusal.startswith("7 lines among the criteria (lines 7, 8, 9, 11, 12, 13, 14)")


def test_lines_among_the_elements_that_no_criterion_claims_refuse_the_text() -> None:
    text = (
        "ABC123 Keep records (Release 1)\nElements and Performance Criteria\n1. Plan the work\n"
        "1.1 Confirm the task\nIdentify the hazards of the site\nand the people at risk\n"
        "1.2 Record the plan\n"
    )
    draft = prepare(text)
    assert not draft.ok
    assert draft.refusal.startswith("1 line among the criteria (line 6) reads as part of")


SUMMARY = "ABC123 Use hand tools (Release 1)\nElements and Performance Criteria\n{}\n"


def test_criteria_in_a_summary_pages_element_list_are_read_as_criteria_and_reported() -> None:
    """An older unit's summary page numbers its criteria among the elements; an element says
    what to do, an old criterion what is done. Only the wording tells: each is reported."""
    listed = [
        "1. Select and use hand tools",
        "2. Correct tools are chosen to complete workplace tasks",
        "3. Manage tools so that damage is avoided",  # an element: the passive is not its own
        "4. Equipment is cleaned and maintained",
    ]
    parsed = parse_unit_text(SUMMARY.format("\n".join(listed)))
    elements = parsed.data["elements"]
    assert [(e["number"], e["title"]) for e in elements] == [
        ("1", "Select and use hand tools"),
        ("2", "Manage tools so that damage is avoided"),
    ]
    assert elements[0]["criteria"] == [
        {"number": "1.1", "text": "Correct tools are chosen to complete workplace tasks"}
    ]
    assert elements[1]["criteria"] == [
        {"number": "2.1", "text": "Equipment is cleaned and maintained"}
    ]
    assert [(w.line, w.cause) for w in parsed.warnings] == [(4, BY_WORDING), (6, BY_WORDING)]
    assert parsed.warnings[0].message.startswith("taken as criterion 1.1, not an element")


def test_a_summary_list_naming_an_element_twice_is_refused() -> None:
    """Two units' or releases' element lists run together: which elements are this unit's,
    the text does not say. (A list printed twice whole is read once.)"""
    mixed = ["1. Identify information", "2. Evaluate information", "3. Evaluate information."]
    draft = prepare(SUMMARY.format("\n".join(mixed)))
    assert not draft.ok and draft.refusal.startswith(
        "Elements 2 and 3 have the same title ('Evaluate information')"
    )
    whole = ["1. Identify information", "2. Evaluate information"]
    whole += ["3. Identify information", "4. Evaluate information"]
    assert prepare(SUMMARY.format("\n".join(whole))).refusal is None


def test_a_list_in_groups_under_headings_of_their_own_is_read_by_group_and_reported() -> None:
    text = (
        "ABC123 Buy materials (Release 1)\nElements and Performance Criteria\n1. Buy\n1.1 Buy it\n"
        "Knowledge Evidence\nThe individual must:\nPurchasing procedures\n"
        "describe preferred suppliers\nexplain who raises an order\nScheduling delivery\n"
        "explain why schedules change.\n"
    )
    parsed = parse_unit_text(text)
    assert parsed.data["knowledge_evidence"]["items"] == [
        {
            "text": "Purchasing procedures",
            "items": ["describe preferred suppliers", "explain who raises an order"],
        },
        {"text": "Scheduling delivery", "items": ["explain why schedules change."]},
    ]
    assert [(w.line, w.cause) for w in parsed.warnings] == [(7, BY_WORDING), (10, BY_WORDING)]
    # One line in upper case among items in lower case is an item (a name, say), not a heading.
    single = text.replace("Scheduling delivery\n", "")
    items = parse_unit_text(single).data["knowledge_evidence"]["items"]
    assert items[0] == "Purchasing procedures" and len(items) == 4


def test_elements_labelled_with_their_criteria_bulleted_under_them() -> None:
    """An RTO tool's mapping guide: "Element: ..." and the criteria as bullets, unnumbered;
    the labelled "Unit of Competency CODE - Title" line gives the title, not the document's
    name on an earlier "CODE words" line."""
    text = (
        "ABC123 Mapping and Delivery Guide\nBuy materials\n"
        "Unit of Competency ABC123 - Buy materials\n"
        "Elements of Competency Performance Criteria\n"
        "Element: Identify needs\n  • Needs are listed\n  • Stock is checked\n"
        "Element 2: Order\n  • Order is placed\n"
    )
    parsed = parse_unit_text(text)
    assert (parsed.data["code"], parsed.data["title"]) == ("ABC123", "Buy materials")
    assert [
        (e["number"], e["title"], [c["number"] for c in e["criteria"]])
        for e in parsed.data["elements"]
    ] == [
        ("1", "Identify needs", ["1.1", "1.2"]),
        ("2", "Order", ["2.1"]),
    ]
    assert [w.line for w in parsed.warnings] == [1]  # the document's name, reported


HEAD = "ABC123 Do the work (Release 1)\nElements and Performance Criteria\n1. Act\n1.1 Do it\n"


def test_a_summary_list_printed_twice_with_criteria_among_its_elements_reads_once() -> None:
    listed = ["1. Select and use hand tools", "2. Correct tools are chosen"] * 2
    parsed = parse_unit_text(SUMMARY.format("\n".join(listed)))
    assert [(e["title"], len(e["criteria"])) for e in parsed.data["elements"]] == [
        ("Select and use hand tools", 1)
    ]


def test_a_summary_list_whose_criteria_are_not_all_worded_as_criteria_is_refused() -> None:
    listed = [
        "1. Select and use hand tools",
        "2. Correct tools are chosen for the task",
        "3. Tools checked for damage before use",  # a criterion, without "is" or "are"
        "4. Maintain hand tools",
        "5. Equipment is cleaned",
    ]
    draft = prepare(SUMMARY.format("\n".join(listed)))
    assert not draft.ok and draft.refusal.startswith(
        "Element 2 ('Tools checked for damage before use', line 5) has no criteria"
    )


def test_only_the_bullets_right_under_a_labelled_element_are_its_criteria() -> None:
    sub_items = (
        "ABC123 Do work (Release 1)\nElements and Performance Criteria\nElement 1: Plan\n"
        "1.1 Identify hazards including:\n• noise\n• dust\nElement 2: Act\n2.1 Do it\n"
    )
    draft = prepare(sub_items)
    assert draft.ok, draft.refusal
    assert draft.unit is not None
    plan, act = draft.unit.document.elements
    assert [(c.number, c.text, [i.text for i in c.items]) for c in plan.criteria] == [
        ("1.1", "Identify hazards including:", ["noise", "dust"])
    ]
    assert [c.number for c in act.criteria] == ["2.1"]
    after_a_heading = (
        "ABC123 Do work (Release 1)\nElements and Performance Criteria\nElement: Plan\n"
        "• Hazards are identified\nAssessment methods:\n• written questions\n"
    )
    parsed = parse_unit_text(after_a_heading)
    assert [c["text"] for c in parsed.data["elements"][0]["criteria"]] == ["Hazards are identified"]


def test_elements_numbered_by_their_order_and_listed_twice_are_refused() -> None:
    block = "Element: Identify needs\n• Needs are listed\nElement: Order\n• Order is placed\n"
    draft = prepare("ABC123 Buy (Release 1)\nElements of Competency\n" + block * 2)
    assert not draft.ok and draft.refusal.startswith("Elements 1 and 3 have the same title")


def test_a_line_that_lost_its_number_is_not_joined_to_the_item_before_it() -> None:
    """Where the numbers leave a gap ("1.", then "3."), the line between is the item that
    lost its number, not the rest of item 1: a standard is refused, a list keeps it."""
    nos = (
        "Comply with emergency procedures\nURN: EUSWO52\nPerformance criteria\n"
        "You must be able to:\n1. identify situations that could affect the safety of others\n"
        "report the situation immediately to the relevant person(s)\n"
        "3. seek assistance from the relevant person(s)\n4. comply with evacuation procedures\n"
    )
    draft = prepare(nos, release=1)
    assert not draft.ok and draft.refusal.startswith("1 line among the criteria (line 6)")
    listed = parse_unit_text(
        HEAD + "Knowledge Evidence\nYou need:\n1. how to identify an emergency\n"
        "your organisation's emergency response procedures\n3. evacuation procedures\n"
    )
    assert len(listed.data["knowledge_evidence"]["items"]) == 3


@pytest.mark.parametrize("lead_in", ["", "In the course of the above, the candidate must:\n"])
def test_a_bullet_after_the_unbulleted_items_of_a_bulleted_leader_is_beside_it(
    lead_in: str,
) -> None:
    """Unbulleted lines under a bulleted leader are its items, and the next bullet is beside
    the leader again."""
    body = "- identify hazards including:\nnoise\ndust\n- report hazards\n- keep records\n"
    parsed = parse_unit_text(HEAD + "Assessment Conditions\n" + lead_in + body)
    items = [
        {"text": "identify hazards including:", "items": ["noise", "dust"]},
        "report hazards",
        "keep records",
    ]
    conditions = parsed.data["assessment_conditions"]
    assert conditions == (items if not lead_in else [{"text": lead_in.strip(), "items": items}])
    assert parsed.warnings == []


def test_a_bullet_after_a_line_that_ended_a_bulleted_list_is_reported() -> None:
    body = "Access to:\n- relevant\nAustralian Standards\n- workplace procedures\n"
    parsed = parse_unit_text(HEAD + "Assessment Conditions\n" + body)
    assert [(w.line, w.cause) for w in parsed.warnings] == [(9, BY_WORDING)]
    assert "not of the list under 'Access to:'" in parsed.warnings[0].message


def test_a_sentence_naming_the_section_under_its_own_heading_is_its_lead_in() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\nThe knowledge evidence of this unit includes:\n"
        "- legislation\n- design principles\n"
    )
    assert parsed.data["knowledge_evidence"] == {
        "intro": "The knowledge evidence of this unit includes:",
        "items": ["legislation", "design principles"],
    }
    assert parsed.warnings == []


def test_a_gap_in_a_lists_numbers_is_reported_where_it_decides_a_line() -> None:
    gap = parse_unit_text(
        HEAD + "Knowledge Evidence\nYou need:\n1. how to identify an emergency\n"
        "2. the emergency response\nprocedures and plans\n4. evacuation procedures\n"
    )
    assert len(gap.data["knowledge_evidence"]["items"]) == 4
    assert [(w.line, w.cause) for w in gap.warnings] == [(9, BY_WORDING)]
    assert "the numbers go from 2 to 4" in gap.warnings[0].message
    # A second list numbered from 1 again leaves no gap: the wrapped line is joined.
    again = parse_unit_text(
        HEAD + "Knowledge Evidence\nYou need:\n1. plan work\n2. complete a report on the\n"
        "outcomes of the work\nIn the course of the above, the candidate must:\n1. follow it\n"
    )
    assert again.data["knowledge_evidence"]["items"][1] == (
        "complete a report on the outcomes of the work"
    )
    assert again.warnings == []


def test_a_labelled_elements_bullets_that_cannot_be_placed_refuse_the_text() -> None:
    wrapped = (
        "ABC123 Do work (Release 1)\nElements and Performance Criteria\nElement: Plan work\n"
        "• Hazards are identified according to\nWork Health and Safety requirements\n"
        "• Tools are selected\nElement: Act\n• Work is done\n"
    )
    draft = prepare(wrapped)
    assert not draft.ok and "(line 6)" in draft.refusal
    less_indented = (
        "ABC123 Do work (Release 1)\nElements and Performance Criteria\nElement: Plan work\n"
        " • Hazards are identified\n• Tools are selected\n"
    )
    criteria = parse_unit_text(less_indented).data["elements"][0]["criteria"]
    assert [c["text"] for c in criteria] == ["Hazards are identified", "Tools are selected"]


def test_a_line_in_upper_case_after_sub_items_in_lower_case_ends_the_lists_reported() -> None:
    parsed = parse_unit_text(
        HEAD + "Assessment Conditions\nThis includes access to:\n- hazards including:\n"
        "noise\ndust\nAssessor requirements\n"
    )
    assert parsed.data["assessment_conditions"][-1] == "Assessor requirements"
    assert [(w.line, w.cause) for w in parsed.warnings] == [(10, BY_WORDING)]


def test_a_sentence_naming_the_section_later_in_it_is_not_its_lead_in() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\n- legislation\n- policy\n"
        "The knowledge evidence of this unit includes:\n- design\n"
    )
    assert parsed.data["knowledge_evidence"]["items"] == ["legislation", "policy"]
    assert any(w.line == 8 and "second time" in w.message for w in parsed.warnings)


def test_a_bullet_after_lines_that_ended_a_lead_ins_list_is_reported_unless_they_lead() -> None:
    wrapped = parse_unit_text(
        HEAD + "Assessment Conditions\nAccess to:\n- relevant\nAustralian Standards\n"
        "National Construction Code\n- workplace procedures\n"
    )
    assert [(w.line, w.cause) for w in wrapped.warnings] == [(10, BY_WORDING)]
    led = parse_unit_text(
        HEAD + "Assessment Conditions\nThis includes access to:\n- equipment\n- procedures\n"
        "Assessors must:\n- hold the unit\n"
    )
    assert led.warnings == []
    assert led.data["assessment_conditions"][-1] == {
        "text": "Assessors must:",
        "items": ["hold the unit"],
    }


def test_a_summary_list_of_titles_one_worded_like_a_criterion_keeps_its_elements() -> None:
    listed = ["1. Prepare for the job", "2. Determine what information is required", "3. Report"]
    draft = prepare(SUMMARY.format("\n".join(listed)))
    assert draft.ok
    assert [e["title"] for e in draft.parsed.data["elements"]] == [
        "Prepare for the job",
        "Determine what information is required",
        "Report",
    ]
    (warning,) = draft.parsed.warnings
    assert warning.line == 4 and warning.message.startswith("kept as element 2")


def test_bullets_after_a_paragraph_in_the_evidence_are_items_not_notes() -> None:
    parsed = parse_unit_text(
        HEAD + "Performance Evidence\nThe candidate must:\n- keep records\n"
        "This must be done on two occasions\n- check outcomes\n"
    )
    evidence = parsed.data["performance_evidence"]
    assert "notes" not in evidence and evidence["items"][-1] == "check outcomes"


def test_a_list_under_a_bulleted_colon_item_that_runs_to_the_end_is_reported() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\nThe candidate must know:\n- hazards including:\n"
        "- noise\n- dust\n- legislation\n"
    )
    assert [(w.line, w.cause) for w in parsed.warnings] == [(10, BY_WORDING)]
    numbered = parse_unit_text(
        HEAD + "Knowledge Evidence\nThe candidate must know:\n1. hazards including:\n"
        "2. noise\n3. legislation\n"
    )
    assert numbered.data["knowledge_evidence"]["items"] == [
        "hazards including:",
        "noise",
        "legislation",
    ]


def test_a_second_lead_in_is_a_parent_item_with_the_items_under_it() -> None:
    parsed = parse_unit_text(SECOND_LEAD_IN)
    evidence = parsed.data["performance_evidence"]
    assert evidence["intro"].endswith("including evidence of the ability to:")
    assert evidence["items"] == [
        "develop, implement and review one records system for an organisation or work area.",
        {
            "text": "In the course of the above, the candidate must:",
            "items": [
                "identify the requirement for a business records system",
                "document the steps used to determine the criteria for a records system "
                "appropriate to the organisation’s business functions and reporting requirements",
                "develop an implementation plan.",
            ],
        },
    ]
    assert "notes" not in evidence
    # The lead-in has no bullet and the lines after it have: the bullets show its list, to
    # where they end, so nothing is decided by wording and nothing is reported.
    assert parsed.warnings == []


BULLETS_UNDER_LEAD_INS = """\
# Performance Evidence

The candidate must demonstrate the ability to complete the tasks outlined in the elements, \
performance criteria and foundation skills of this unit, and to:

- configure two cloud services.

In the course of the above, the candidate must:

- record each step.
- test the configuration
- design the storage, including:
- object storage
- block storage.

# Assessment Conditions

Skills must be demonstrated in a workplace or simulated environment. This includes:

- A site where services are configured.
- Cloud platform documentation

Assessors of this unit must satisfy the requirements for assessors.
"""


def test_bullets_after_a_lead_in_are_its_items_and_a_paragraph_after_them_is_not() -> None:
    parsed = parse_unit_text(BULLETS_UNDER_LEAD_INS)
    assert parsed.data["performance_evidence"]["items"] == [
        "configure two cloud services.",
        {
            "text": "In the course of the above, the candidate must:",
            "items": [
                "record each step.",  # a full stop inside the bullets does not end them
                "test the configuration",
                {
                    "text": "design the storage, including:",
                    "items": ["object storage", "block storage."],
                },
            ],
        },
    ]
    assert parsed.data["assessment_conditions"] == [
        {
            "text": "Skills must be demonstrated in a workplace or simulated environment. "
            "This includes:",
            "items": ["A site where services are configured.", "Cloud platform documentation"],
        },
        "Assessors of this unit must satisfy the requirements for assessors.",
    ]
    # Only the list a bullet leads is not shown by the text (its items are bullets like
    # the ones around it): that it ends at the full stop is a decision, reported there.
    assert [(w.line, w.cause) for w in parsed.warnings] == [(13, BY_WORDING)]
    assert parsed.warnings[0].message.startswith("taken as the last item of the list under")


def test_a_lead_in_with_no_items_after_it_is_reported() -> None:
    text = SECOND_LEAD_IN.replace(
        "Knowledge Evidence", "In the process of the above, the candidate must:\nKnowledge Evidence"
    )
    parsed = parse_unit_text(text)
    (warning,) = [w for w in parsed.warnings if w.cause == EMPTY_LIST]
    assert warning.line == 12 and "leads a list, but no items follow" in warning.message


def test_a_unit_converted_to_markdown_is_never_read_as_a_uk_standard() -> None:
    """The Word file's column heading 'PERFORMANCE CRITERIA' is not a NOS's heading, even with
    the section headings in bold instead of '#'."""
    doc = unit_file("TLII5018")
    text = re.sub(r"^#+ (.*)$", r"**\1**", tga_markdown(doc), flags=re.M)
    draft = prepare(text)
    assert draft.parsed.data["framework"] == "training_package"
    assert "criteria" not in draft.parsed.data
    assert draft.ok and draft.unit.document == doc


def test_a_text_is_a_uk_standard_only_with_the_marks_of_one() -> None:
    nos = (SEEDS / "INSCS042.txt").read_text(encoding="utf-8")
    assert parse_unit_text(nos).data["framework"] == "nos"
    # Without "You must be able to" and "You need to know and understand", it is not one.
    unmarked = nos.replace("You must be able to:", "").replace(
        "You need to know and understand:", ""
    )
    assert parse_unit_text(unmarked).data["framework"] == "training_package"
    # With training.gov.au's sections as well as the marks, it is not one either.
    mixed = nos + "\nPerformance Evidence\nEvidence of the ability to:\n• plan the work\n"
    assert parse_unit_text(mixed).data["framework"] == "training_package"


def test_a_text_that_does_not_read_as_a_unit_is_refused_in_one_line() -> None:
    text = "ABC123 Keep records\n" + "".join(f"Some line {n} of prose.\n" for n in range(30))
    draft = prepare(text)
    assert draft.refusal.startswith("30 of the text's 31 lines could not be placed")
    assert not draft.ok and draft.unit is None


def test_a_unit_without_the_section_its_framework_needs_is_refused() -> None:
    draft = prepare(
        SECOND_LEAD_IN.split("Elements and Performance Criteria")[0] + "Performance "
        "Evidence\n• plan the work\n"
    )
    assert draft.refusal and "gives no elements" in draft.refusal
    nos = prepare(
        "Prepare poultry\nURN: PPL2PC9\nKnowledge and understanding\n"
        "You need to know and understand:\n1. the hazards\n"
    )
    assert nos.parsed.data["framework"] == "nos"
    assert nos.refusal and "gives no performance criteria" in nos.refusal
    assert not nos.ok


def test_warnings_are_grouped_by_cause_biggest_first() -> None:
    text = "A stray line\n" + (SEEDS / "SITXCCS008.txt").read_text(encoding="utf-8")
    groups = parse_unit_text(text).warning_groups()
    assert [(g.cause, len(g.warnings)) for g in groups] == [(BY_WORDING, 12), (NOT_PLACED, 1)]
    assert str(groups[0]).startswith(
        "12 nesting decided by wording, not shown in the text (lines 41, 55"
    )
    assert str(groups[1]) == "1 lines not placed (line 1)"


def test_the_page_offers_no_save_for_a_refused_text_and_says_why_first(client, make_user, login):
    login(make_user("admin"))
    text = "ABC123 Keep records\n" + "".join(f"Some line {n} of prose.\n" for n in range(30))
    page = client.post(URL, data={"text": text, "code": "ABC123", "title": "Keep records"})
    assert page.status_code == 200
    assert 'name="save"' not in page.text and 'name="download"' not in page.text
    said = html.unescape(re.sub(r"\s+", " ", page.text))
    assert "This cannot be saved: 30 of the text's 31 lines could not be placed" in said
    assert "30</strong> lines not placed" in said


def test_the_page_lists_warnings_by_cause_with_links_to_the_lines(client, make_user, login):
    login(make_user("admin"))
    text = (SEEDS / "SITXCCS008.txt").read_text(encoding="utf-8")
    page = client.post(
        URL, data={"text": text, "code": "SITXCCS008", "title": "Quality", "release": "1"}
    )
    assert 'name="save"' in page.text
    said = html.unescape(re.sub(r"\s+", " ", page.text))
    assert "12</strong> nesting decided by wording" in said
    assert '<a href="#line-40">line 40</a>' in page.text


def test_the_command_says_why_it_refused_before_the_lines_and_exits_non_zero(runner, tmp_path):
    source = tmp_path / "prose.txt"
    source.write_text("ABC123 Keep records\n" + "Some prose.\n" * 5, encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(source), "--output", str(tmp_path / "u")])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("Error: 5 of the text's 6 lines could not be placed")
    assert lines[1] == "5 lines not placed (lines 2, 3, 4, 5, 6)"
    assert lines[2].startswith(f"{source}:2: not placed")
    assert not (tmp_path / "u").exists()


@pytest.mark.parametrize("row", ["| {skill} | {description} |", "{skill}\t{description}"])
def test_a_foundation_skill_is_its_table_rows_first_cell_whatever_its_name(row: str) -> None:
    """A skill the parser has never heard of is not lost where the text keeps the table."""
    rows = [
        ("Digital literacy", "Uses digital systems to record customer feedback"),
        ("Reading", "Interprets workplace documents"),
    ]
    table = "\n".join(row.format(skill=skill, description=text) for skill, text in rows)
    heading = (
        "| Skill | Description |\n| --- | --- |" if row.startswith("|") else "Skill\tDescription"
    )
    text = (
        "BSBCUS501 Manage quality customer service\nRelease: 1\n"
        "Elements and Performance Criteria\n1. Plan\n1.1 Plan it\n"
        f"Foundation Skills\nThis section describes the skills.\n{heading}\n{table}\n"
    )
    skills = parse_unit_text(text).data["foundation_skills"]["skills"]
    assert [(s["skill"], s["descriptions"]) for s in skills] == [
        ("Digital literacy", ["Uses digital systems to record customer feedback"]),
        ("Reading", ["Interprets workplace documents"]),
    ]


def test_an_html_page_keeps_its_tables_cells() -> None:
    page = (
        "<h1>BSBCUS501 Manage quality customer service</h1><p>Release: 1</p>"
        "<h2>Elements and Performance Criteria</h2><table>"
        "<tr><th>Element</th><th>Performance criteria</th></tr>"
        "<tr><td>1. Plan</td><td><p>1.1 Plan it</p><p>1.2 Check it</p></td></tr></table>"
        "<h2>Foundation Skills</h2><table><tr><th>Skill</th><th>Description</th></tr>"
        "<tr><td>Digital literacy</td><td><ul><li>Uses systems</li><li>Keeps files</li></ul>"
        "</td></tr></table>"
    )
    draft = prepare(html_to_text(page))
    assert draft.ok, (draft.refusal, draft.problems)
    document = draft.unit.document
    assert [c.number for c in document.elements[0].criteria] == ["1.1", "1.2"]
    (skill,) = document.foundation_skills.skills
    assert skill.skill == "Digital literacy"
    assert skill.descriptions == ["Uses systems", "Keeps files"]


def test_hand_made_markdown_with_mixed_indentation_and_a_second_lead_in() -> None:
    text = (
        "## BSBINS512 Set up a records system\n\nRelease 1\n\n"
        "### Elements and performance criteria\n\n1. Determine requirements\n"
        "   - 1.1 Identify requirements\n\n"
        "#### Performance Evidence\n\n"
        "The candidate must demonstrate the ability to complete the tasks, including:\n"
        "* develop one records system:\n"
        "   * for an organisation\n"
        "   * or a work area\n"
        "In the course of the above, the candidate must:\n"
        "* identify the requirement for a business records system\n"
        "* document the steps used:\n"
        "    + to determine the criteria\n"
        "\t+ to report them\n"
        "* develop an implementation plan\n"
    )
    draft = prepare(text)
    assert draft.ok, (draft.refusal, draft.problems)
    assert draft.parsed.data["performance_evidence"]["items"] == [
        {"text": "develop one records system:", "items": ["for an organisation", "or a work area"]},
        {
            "text": "In the course of the above, the candidate must:",
            "items": [
                "identify the requirement for a business records system",
                {
                    "text": "document the steps used:",
                    "items": ["to determine the criteria", "to report them"],
                },
                "develop an implementation plan",
            ],
        },
    ]
    assert draft.parsed.warnings == []


def test_criteria_wrapped_over_lines_are_joined() -> None:
    """A PDF's text wraps long criteria: the lines that go on in lower case are their rest."""
    text = (
        "TLII5018 Manage customer service\nRelease 1\nElements and Performance Criteria\n"
        "1 Plan to meet internal and external customer\nrequirements\n"
        "1.1 Customer needs are researched, clarified, assessed and\n"
        "included in the planning process\n"
        "1.2 Provision is made in plans\nNot a continuation: capitalised\n"
    )
    parsed = parse_unit_text(text)
    (element,) = parsed.data["elements"]
    assert element["title"] == "Plan to meet internal and external customer requirements"
    assert element["criteria"][0]["text"] == (
        "Customer needs are researched, clarified, assessed and included in the planning process"
    )
    assert parsed.roles[7] == "criterion 1.1 (continued)"
    assert [w.line for w in parsed.warnings] == [9]


def test_a_bulleted_item_wrapped_over_lines_is_one_item() -> None:
    text = SECOND_LEAD_IN.replace(
        "• document the steps used to determine the criteria for a records system appropriate "
        "to the organisation’s business functions and reporting requirements",
        "• document the steps used to determine the criteria for a records system appropriate\n"
        "to the organisation’s business functions and reporting requirements",
    )
    assert parse_unit_text(text).data == parse_unit_text(SECOND_LEAD_IN).data
    assert parse_unit_text(text).roles[11] == "the rest of line 10"


def test_a_markdown_file_is_accepted_by_the_page_and_the_command(
    client, make_user, login, runner, tmp_path
):
    from tests.units.layouts import handmade_markdown

    text = handmade_markdown(unit_file("TLII5018"))
    login(make_user("admin"))
    page = client.post(
        URL,
        data={"source": (io.BytesIO(text.encode()), "TLII5018.md"), "preview": "1"},
        content_type="multipart/form-data",
    )
    said = html.unescape(re.sub(r"\s+", " ", page.text))
    assert "TLII5018 release 1: 3 elements, 10 performance criteria" in said
    source = tmp_path / "TLII5018.md"
    source.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(source), "--output", str(tmp_path / "u")])
    assert result.exit_code == 0, result.output
    assert load_files([tmp_path / "u" / "TLII5018.yaml"]).units[0].document == unit_file("TLII5018")


@pytest.mark.parametrize(
    "body",
    [
        "\u2022\tidentify hazards including:\no\tnoise\no\tdust\n\u2022\treport hazards\n",
        "\uf0b7\tidentify hazards including:\no\tnoise\no\tdust\n\uf0b7\treport hazards\n",
        "\u2022 identify hazards including:\n\to\tnoise\n\to\tdust\n\u2022 report hazards\n",
        "\u2022 identify hazards including:\no noise\no dust\n\u2022 report hazards\n",
    ],
)
def test_word_text_copy_of_a_bulleted_list_keeps_its_levels(body: str) -> None:
    """Word copies a bulleted list as text with each level's symbol and a tab: "•" (or the
    Symbol font's private character) at the first level, "o" at the second, a square ("§" or
    Wingdings' private character) at the third. The symbols are bullets of their level, not
    text, and the tab after them splits no table cells."""
    parsed = parse_unit_text(HEAD + "Assessment Conditions\n" + body)
    assert parsed.data["assessment_conditions"] == [
        {"text": "identify hazards including:", "items": ["noise", "dust"]},
        "report hazards",
    ]
    assert parsed.warnings == []
    third = parse_unit_text(
        HEAD + "Assessment Conditions\n\u2022\thazards including:\no\tnoise from:\n"
        "\uf0a7\tplant\n\u00a7\ttools\no\tdust\n"
    )
    assert third.data["assessment_conditions"] == [
        {
            "text": "hazards including:",
            "items": [{"text": "noise from:", "items": ["plant", "tools"]}, "dust"],
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        "1. safety rules including:\na. noise\nb. dust\n2. the plan\n",
        "1) safety rules including:\n(a) noise\n(b) dust\n2) the plan\n",
        "1. safety rules including:\n   a. noise\n   b. dust\n2. the plan\n",
        "1.\tsafety rules including:\na.\tnoise\nb.\tdust\n2.\tthe plan\n",
        "1.\tsafety rules including:\n\ta)\tnoise\n\tb)\tdust\n2.\tthe plan\n",
    ],
)
def test_items_lettered_under_numbered_items_are_their_sub_items(body: str) -> None:
    """Letters under numbers show the nesting as indentation does, in typed text and in
    Word's text copy (the mark, then a tab); the marks are not part of the items' text, and
    a first numbered line is an item, not the section's lead-in."""
    parsed = parse_unit_text(HEAD + "Knowledge Evidence\n" + body)
    assert parsed.data["knowledge_evidence"] == {
        "items": [{"text": "safety rules including:", "items": ["noise", "dust"]}, "the plan"]
    }
    assert parsed.warnings == []


def knowledge(body: str) -> dict:
    """The knowledge evidence a unit with ``body`` under that heading gives."""
    return parse_unit_text(HEAD + "Knowledge Evidence\n" + body).data["knowledge_evidence"]


def test_roman_numerals_under_letters_are_a_level_below_them() -> None:
    body = "The candidate must know:\n(a) hazards from:\n(i) plant\n(ii) tools\n(b) controls\n"
    assert knowledge(body)["items"] == [
        {"text": "hazards from:", "items": ["plant", "tools"]},
        "controls",
    ]


def test_an_i_after_h_is_a_letter_not_a_roman_numeral() -> None:
    letters = "abcdefghij"
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\n" + "".join(f"{c}. item {c}\n" for c in letters)
    )
    assert parsed.data["knowledge_evidence"]["items"] == [f"item {c}" for c in letters]


def test_a_lettered_first_line_leads_no_section_and_roman_numerals_go_under_letters() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\na. hazards including:\ni. noise\nii. dust\nb. controls\n"
        "Range of Conditions\nHazards may include:\na. physical hazards such as:\ni. noise\n"
        "ii. heat\nb. chemical hazards\n"
    )
    assert parsed.data["knowledge_evidence"] == {
        "items": [{"text": "hazards including:", "items": ["noise", "dust"]}, "controls"]
    }
    assert parsed.data["range_statement"]["entries"] == [
        {
            "term": "Hazards may include:",
            "values": [
                {"text": "physical hazards such as:", "items": ["noise", "heat"]},
                "chemical hazards",
            ],
        }
    ]
    assert parsed.warnings == []


def test_whether_i_is_a_letter_or_a_roman_numeral_is_told_by_the_marks_around_it() -> None:
    letters = "".join(f"{c}. item {c}\n" for c in "bcdefg")
    roman = parse_unit_text(
        HEAD + "Knowledge Evidence\n1. hazards from:\na. plant\n" + letters + "h. machinery "
        "including:\ni. presses\nii. lathes\n2. controls\n"
    )
    machinery = roman.data["knowledge_evidence"]["items"][0]["items"][-1]
    assert machinery == {"text": "machinery including:", "items": ["presses", "lathes"]}
    assert roman.warnings == []
    # Only the letter before it tells: taken as a letter, and reported.
    letter = parse_unit_text(
        HEAD + "Knowledge Evidence\n1. hazards from:\na. plant\n" + letters + "h. machinery\n"
        "i. presses\n2. controls\n"
    )
    assert letter.data["knowledge_evidence"]["items"][0]["items"][-1] == "presses"
    assert [(w.line, w.cause) for w in letter.warnings] == [(15, BY_WORDING)]
    # Letters start again under each numbered item: an "i" there is a Roman numeral.
    again = parse_unit_text(
        HEAD + "Knowledge Evidence\n1. hazards:\na. plant\nb. x\nc. y\nd. z\ne. w\nf. v\ng. u\n"
        "h. t\n2. controls:\ni. guards\nii. signs\n"
    )
    assert again.data["knowledge_evidence"]["items"][1] == {
        "text": "controls:",
        "items": ["guards", "signs"],
    }


def test_a_letter_no_other_letter_follows_or_goes_before_is_text() -> None:
    found = knowledge("food safety:\ne. coli and other pathogens\nlisteria\n")
    assert found["items"] == ["e. coli and other pathogens", "listeria"]


def test_upper_case_letters_and_roman_numerals_are_marks_too() -> None:
    for marks in (("A.", "B."), ("I.", "II."), ("A)", "B)")):
        body = f"1.\thazards including:\n{marks[0]}\tnoise\n{marks[1]}\tdust\n2.\tthe plan\n"
        parsed = parse_unit_text(HEAD + "Knowledge Evidence\n" + body)
        assert parsed.data["knowledge_evidence"]["items"] == [
            {"text": "hazards including:", "items": ["noise", "dust"]},
            "the plan",
        ], marks


def test_items_numbered_under_a_numbered_item_are_its_sub_items() -> None:
    """Word's outline numbering copied as text: "1.1" under "1.", "2.1" under "2."."""
    found = knowledge("1. hazards including:\n1.1 noise\n1.2. dust\n2. the plan\n2.1 review\n")
    assert found["items"] == [
        {"text": "hazards including:", "items": ["noise", "dust"]},
        {"text": "the plan", "items": ["review"]},
    ]


def test_a_lower_case_line_after_a_short_item_is_an_item_of_its_own_reported() -> None:
    """A page or PDF wraps long lines only: after a short item ("dust") a line in lower case is
    the next item, and reported; after a line ending with a word that goes on ("the"), the
    rest of it."""
    body = "hazards in the workplace, including:\na. noise\nb. dust\nsafe work procedures\n"
    parsed = parse_unit_text(HEAD + "Knowledge Evidence\n" + body + "- the rules of the\nsite\n")
    found = parsed.data["knowledge_evidence"]["items"]
    assert found == ["noise", "dust", "safe work procedures", "the rules of the site"]
    assert [(w.line, w.cause) for w in parsed.warnings] == [(9, BY_WORDING)]
    assert "too short to have been wrapped" in parsed.warnings[0].message


def test_an_o_is_a_bullet_only_after_a_tab_or_in_a_bulleted_list() -> None:
    assert knowledge("valves\no ring seals\npumps\n")["items"] == [
        "valves",
        "o ring seals",
        "pumps",
    ]


def test_range_terms_bulleted_or_numbered_keep_their_values() -> None:
    for first, second in (("• ", "• "), ("1. ", "2. ")):
        parsed = parse_unit_text(
            HEAD + f"Range of Conditions\n{first}Hazards may include:\n    - noise\n    - dust\n"
            f"{second}Equipment may include:\n    - ladders\n"
        )
        assert parsed.data["range_statement"]["entries"] == [
            {"term": "Hazards may include:", "values": ["noise", "dust"]},
            {"term": "Equipment may include:", "values": ["ladders"]},
        ]


def test_a_capital_and_full_stop_in_a_name_is_no_list_mark() -> None:
    """ "B. cereus" is a name: no list of capital letters starting at "A" marks it, and a
    bulleted line has no second mark."""
    for bullet in ("", "• "):
        names = "".join(f"{bullet}{n}\n" for n in ("B. cereus", "C. perfringens", "E. coli"))
        found = knowledge("microorganisms including:\n" + names)
        assert found["items"] == ["B. cereus", "C. perfringens", "E. coli"]


def test_a_single_sub_item_loses_its_mark_under_the_item_leading_it() -> None:
    assert knowledge("1. hazards including:\n1.1 noise\n2. the plan\n")["items"] == [
        {"text": "hazards including:", "items": ["noise"]},
        "the plan",
    ]
    assert knowledge("1. hazards:\na. noise\n2. controls:\na. PPE\n")["items"] == [
        {"text": "hazards:", "items": ["noise"]},
        {"text": "controls:", "items": ["PPE"]},
    ]


def test_sub_item_numbers_that_do_not_count_on_are_reported() -> None:
    """ "1.2" and "1.3" under "1." are its sub-items even where "1.1" is missing, and reported;
    so are numbers that are the text's own ("1.5 metres"), which the report lets be checked."""
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\n1. hazards\n1.2 noise\n1.3 dust\n2. controls\n"
    )
    assert parsed.data["knowledge_evidence"]["items"] == [
        {"text": "hazards", "items": ["noise", "dust"]},
        "controls",
    ]
    assert [(w.line, w.cause) for w in parsed.warnings] == [(7, OUT_OF_ORDER)]
    other = parse_unit_text(HEAD + "Knowledge Evidence\n2. clearances:\n1.5 metres from the edge\n")
    assert other.data["knowledge_evidence"]["items"] == [
        {"text": "clearances:", "items": ["1.5 metres from the edge"]}
    ]


def test_bullets_and_letters_under_numbered_items_are_their_sub_items() -> None:
    body = "1. hazards\na. noise\nb. dust\n2. controls\n• PPE\n• guards\n3. forms\n"
    assert knowledge(body)["items"] == [
        {"text": "hazards", "items": ["noise", "dust"]},
        {"text": "controls", "items": ["PPE", "guards"]},
        "forms",
    ]


def test_a_line_going_on_from_an_item_taken_on_its_own_is_joined_to_it() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\n• organisational policies\nprocedures and\nguidelines\n"
    )
    found = parsed.data["knowledge_evidence"]["items"]
    assert found == ["organisational policies", "procedures and guidelines"]
    assert [w.line for w in parsed.warnings] == [7]


def test_lettered_range_terms_are_terms_of_their_own() -> None:
    for first, second in (("A. ", "B. "), ("(a) ", "(b) ")):
        parsed = parse_unit_text(
            HEAD + f"Range of Conditions\n{first}Hazards may include:\n    - noise\n"
            f"{second}Equipment may include:\n    - ladders\n"
        )
        assert parsed.data["range_statement"]["entries"] == [
            {"term": "Hazards may include:", "values": ["noise"]},
            {"term": "Equipment may include:", "values": ["ladders"]},
        ]
    bulleted = parse_unit_text(
        HEAD + "Range of Conditions\n• Hazards may include:\na. physical hazards such as:\n"
        "- noise\nb. chemical hazards\n"
    )
    (entry,) = bulleted.data["range_statement"]["entries"]
    assert entry["term"] == "Hazards may include:"


def test_bullets_go_under_numbered_items_whatever_comes_first() -> None:
    body = (
        "1. hazards:\na. noise\nb. dust\n2. controls:\n• PPE:\na. gloves\nb. boots\n• guards\n"
        "3. forms\n"
    )
    assert knowledge(body)["items"] == [
        {"text": "hazards:", "items": ["noise", "dust"]},
        {
            "text": "controls:",
            "items": [{"text": "PPE:", "items": ["gloves", "boots"]}, "guards"],
        },
        "forms",
    ]


def test_bullets_go_under_the_letters_they_follow_in_a_numbered_list() -> None:
    body = "1. hazards:\na. physical:\n• noise\n• heat\nb. chemical\n2. controls\n"
    assert knowledge(body)["items"] == [
        {
            "text": "hazards:",
            "items": [{"text": "physical:", "items": ["noise", "heat"]}, "chemical"],
        },
        "controls",
    ]


def test_a_range_term_keeps_a_capital_and_stop_that_mark_no_sequence() -> None:
    parsed = parse_unit_text(
        HEAD + "Range of Conditions\nE. coli sources may include:\n• raw meat\n"
    )
    (entry,) = parsed.data["range_statement"]["entries"]
    assert entry == {"term": "E. coli sources may include:", "values": ["raw meat"]}


def _depth(items: list) -> int:
    return 1 + max((_depth(item["items"]) for item in items if isinstance(item, dict)), default=0)


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # Each colon line leads the next: the text never shows a list's end.
        ("".join(f"group {n} of things:\n" for n in range(12)) + "the last item\n", 16),
        # Every line indented further than the one before.
        ("".join("  " * n + f"- item {n}\n" for n in range(12)), 15),
    ],
    ids=["colon-lines", "indentation"],
)
def test_a_list_nested_deeper_than_words_nine_levels_is_refused(body: str, line: int) -> None:
    draft = prepare(HEAD + "Knowledge Evidence\n" + body)
    assert not draft.ok
    assert draft.refusal.startswith(
        f"Line {line} (knowledge evidence) would sit 10 lists deep, and no unit's list goes "
        "past 9 levels"
    )
    assert _depth(draft.parsed.data["knowledge_evidence"]["items"]) == 9


def test_a_list_nine_levels_deep_is_read() -> None:
    body = "".join("  " * n + f"- item {n}\n" for n in range(9))
    draft = prepare(HEAD + "Knowledge Evidence\n" + body)
    assert draft.refusal is None
    assert _depth(draft.parsed.data["knowledge_evidence"]["items"]) == 9


@pytest.mark.parametrize(
    ("body", "items"),
    [
        # Both start with a verb in -ing: the line goes back beside the lead-in, reported.
        (
            "planning work:\nbudgets\nrosters\nreporting progress\n",
            [{"text": "planning work:", "items": ["budgets", "rosters"]}, "reporting progress"],
        ),
        # The same first word.
        (
            "safety rules for:\nladders\nscaffolds\nsafety signs\n",
            [{"text": "safety rules for:", "items": ["ladders", "scaffolds"]}, "safety signs"],
        ),
        # A small word tells nothing: the line stays in the list.
        (
            "the rules for:\nladders\nscaffolds\nthe signs\n",
            [{"text": "the rules for:", "items": ["ladders", "scaffolds", "the signs"]}],
        ),
    ],
    ids=["verbs-in-ing", "same-word", "small-word"],
)
def test_a_line_worded_like_an_outer_item_returns_beside_it(body: str, items: list) -> None:
    parsed = parse_unit_text(HEAD + "Knowledge Evidence\nThe candidate must know:\n" + body)
    assert parsed.data["knowledge_evidence"]["items"] == items
    returned = len(items) > 1
    assert [w.message.split(",")[0] for w in parsed.warnings] == (
        ["taken as an item beside line 7 ('" + items[0]["text"] + "')"] if returned else []
    )


def test_html_lists_nested_past_nine_levels_are_refused_without_growing_the_text() -> None:
    page = "<h1>ABC123 Do the work (Release 1)</h1><h2>Elements and Performance Criteria</h2>"
    page += "<p>1. Act</p><p>1.1 Do it</p><h2>Knowledge Evidence</h2>"
    text = html_to_text(page + "<ul><li>item" * 500)
    # Each item's line is indented no further than ten levels: the text grows with the page.
    items = [line for line in text.splitlines() if line.endswith("item")]
    assert len(items) == 500 and max(map(len, items)) == len("  " * 9 + "• item")
    draft = prepare(text)
    assert not draft.ok and draft.refusal.startswith("Line 15 (knowledge evidence) would sit")


def test_markdown_links_rules_and_headings_are_read_among_blank_and_unclosed_marks() -> None:
    text = (
        "# ABC123 Do the work (Release 1)\n"
        + "   \n" * 50
        + "## Elements and Performance Criteria\n"
        "| Element | Performance Criteria |\n|  ---  |:---:|\n"
        "| 1. Act | 1.1 Follow [the procedures](https://example.org/p) and [site rules] |\n"
        "| | 1.2 Keep [a] [b](c [d](e) |\n"
    )
    parsed = parse_unit_text(text)
    assert parsed.data["title"] == "Do the work"
    (element,) = parsed.data["elements"]
    assert [c["text"] for c in element["criteria"]] == [
        "Follow the procedures and [site rules]",
        "Keep [a] [b](c d",
    ]


@pytest.mark.parametrize("unit", ["<a ", "<a b='", "<!--", "</", "<?", "a<"])
def test_a_malformed_html_page_is_read_and_refused_in_words(unit: str) -> None:
    page = "<h1>ABC123 Do the work (Release 1)</h1><h2>Knowledge Evidence</h2><ul><li>hazards"
    text = html_to_text(page + unit * 100_000)
    draft = prepare(text)
    assert draft.data["code"] == "ABC123" and not draft.ok
    assert draft.refusal.startswith("The text gives no elements")


def test_a_markdown_table_sent_with_windows_line_ends_is_read() -> None:
    text = "| Element | Performance Criteria |\r\n| --- | --- |\r\n| 1. Act | 1.1 Do it |\r\n"
    (element,) = parse_unit_text("ABC123 Do the work\r\n" + text).data["elements"]
    assert element == {
        "number": "1",
        "title": "Act",
        "criteria": [{"number": "1.1", "text": "Do it"}],
    }


def test_every_kind_of_space_is_one_space() -> None:
    parsed = parse_unit_text(
        HEAD + "Knowledge Evidence\nknowledge of:\n• safe\u1680\x1f\u2003work\n"
    )
    assert parsed.data["knowledge_evidence"]["items"] == ["safe work"]


def test_lines_wrapped_after_a_criterion_keep_its_role_and_stop_at_a_length() -> None:
    wrapped = "".join(f"and then part {n} of it\n" for n in range(3))
    parsed = parse_unit_text(HEAD.replace("1.1 Do it\n", "1.1 Do it\n" + wrapped))
    assert [parsed.roles[n] for n in (5, 6, 7)] == ["criterion 1.1 (continued)"] * 3
    # Lines run on past any criterion's length are no wrapped criterion: not placed.
    parsed = parse_unit_text(HEAD + "and more words to it\n" * 200)
    (element,) = parsed.data["elements"]
    assert len(element["criteria"][0]["text"]) < 2100
    assert parsed.roles[200] == "not placed" and parsed.refusal


def test_each_skill_without_a_description_is_reported_at_its_own_line() -> None:
    table = "| Skill | Description |\n| --- | --- |\n| Reading | |\n| Writing | writes |\n"
    parsed = parse_unit_text(HEAD + "Foundation Skills\n" + table + table.split("\n", 2)[2])
    assert [(w.line, w.message[:16]) for w in parsed.warnings] == [
        (8, "skill 'Reading' "),
        (10, "skill 'Reading' "),
    ]


def test_an_html_list_item_waits_for_its_text_past_empty_lines_and_frames_are_not_read() -> None:
    page = "<ul><li>" + " <br><p> </p>" * 1000 + "hazards</li></ul><iframe>menu</iframe>"
    assert html_to_text(page) == "• hazards\n"


def test_a_range_statement_nested_past_nine_levels_is_refused_by_its_section_name() -> None:
    values = "".join("  " * n + f"- hazard {n}\n" for n in range(12))
    draft = prepare(HEAD + "Range of Conditions\nHazards may include:\n" + values)
    assert not draft.ok and re.match(
        r"Line \d+ \(range statement\) would sit 10 lists deep", draft.refusal
    )


CRITERION_LISTS = (
    "ABC123 Check work (Release 1)\nElements and Performance Criteria\n1. Plan the work\n"
    "1.1 Identify hazards including:\n• slips\n• trips and falls from ladders, scaffolds\n"
    "  and roofs\n1.2 Confirm the plan\n2. Do the work\n2.1 Carry out the work\n"
    "2.2 Check the work for:\n• defects:\n  • cracks\n  • leaks\n• waste\n"
    "Performance Evidence\nEvidence of:\n• checking work twice\n"
)


def test_a_criterion_that_leads_a_list_keeps_the_list_wherever_it_stands() -> None:
    """Bullets under "1.1 Identify hazards including:" are what 1.1 asks: kept with it, the
    list under the last criterion too (read as lines not placed, it was saved without them),
    nesting and wrapped lines read as in every list."""
    draft = prepare(CRITERION_LISTS)
    assert draft.ok, draft.refusal
    assert draft.parsed.warnings == []
    assert draft.unit is not None
    criteria = {c.number: c for e in draft.unit.document.elements for c in e.criteria}
    assert [i.text for i in criteria["1.1"].items] == [
        "slips",
        "trips and falls from ladders, scaffolds and roofs",
    ]
    assert criteria["1.2"].items == []
    assert criteria["2.2"].with_items() == (
        "Check the work for:\n• defects:\n  • cracks\n  • leaks\n• waste"
    )
    assert draft.parsed.roles[12] == "criterion 2.2, item 1"
    assert draft.parsed.roles[13] == "criterion 2.2, item 1.1"


def test_a_standards_criterion_that_leads_a_list_keeps_it() -> None:
    """In a standard, bullets under a numbered criterion ending with a colon are its list; a
    bulleted criterion after a numbered one that leads nothing stays a criterion."""
    draft = standard(
        "1. report the situation to:\n- your supervisor\n- the fire warden\n"
        "2. comply with evacuation procedures\n- complete any required documentation\n"
    )
    assert draft.unit is not None
    assert [(c.text, [i.text for i in c.items]) for c in draft.unit.document.criteria] == [
        ("report the situation to:", ["your supervisor", "the fire warden"]),
        ("comply with evacuation procedures", []),
        ("complete any required documentation", []),
    ]


def test_a_title_and_the_tables_own_sentences_wrapped_by_a_narrow_page_are_read_whole() -> None:
    """A PDF's or a narrow column's text copy wraps the title (and the "CODE Title" printed
    again) and the elements table's first row: the title is read whole, and the row's
    sentences are dropped as page text, not refused as lines of some criterion."""
    text = (
        "BSBXCS402 Promote workplace cyber security awareness and best\npractices\n"
        "Release: 1\n"
        "BSBXCS402 Promote workplace cyber security awareness and best\npractices\n"
        "Elements and Performance Criteria\nELEMENT\nPERFORMANCE CRITERIA\n"
        "Elements describe the essential\noutcomes.\n"
        "Performance criteria describe the\nperformance needed to demonstrate\n"
        "achievement of the element.\n"
        "1. Identify cyber security\nthreats\n1.1 Research and identify\ncommon threats\n"
        "Performance Evidence\nEvidence of:\n• promoting cyber security twice\n"
    )
    draft = prepare(text)
    assert draft.ok, draft.refusal
    assert draft.parsed.warnings == []
    assert draft.unit is not None
    unit = draft.unit.document
    assert unit.title == "Promote workplace cyber security awareness and best practices"
    assert [(e.title, [c.text for c in e.criteria]) for e in unit.elements] == [
        ("Identify cyber security threats", ["Research and identify common threats"])
    ]
    roles = draft.parsed.roles
    assert roles[2] == "the rest of the title (line 1)"
    assert roles[5] == "code and title again: not imported again"
    assert roles[10] == "page text, the rest of line 9: dropped"
    assert roles[13] == "page text, the rest of line 12: dropped"


def test_bullets_under_a_criterion_without_a_colon_are_its_list_and_reported() -> None:
    """Criteria are numbered, so bullets after one are no criterion: they are its list (not
    lines dropped from the unit), and since the criterion does not lead them with a colon, the
    first is reported. Under an "Element:" label, bullets are the criteria themselves."""
    text = (
        "ABC123 Check work (Release 1)\nElements and Performance Criteria\n1. Do the work\n"
        "1.1 Carry out the work\n1.2 Check the work for defects in\n• joints\n• seals\n"
        "Performance Evidence\nEvidence of:\n• checking work twice\n"
    )
    draft = prepare(text)
    assert draft.ok, draft.refusal
    assert draft.unit is not None
    checked = draft.unit.document.elements[0].criteria[1]
    assert [item.text for item in checked.items] == ["joints", "seals"]
    assert [(w.line, w.cause) for w in draft.parsed.warnings] == [(6, BY_WORDING)]
    assert "does not end with a colon" in draft.parsed.warnings[0].message
    labelled = parse_unit_text(
        "ABC123 Check work (Release 1)\nElements and Performance Criteria\nElement: Do\n"
        "• Work is carried out\n• Work is checked\n"
    )
    assert [c["text"] for c in labelled.data["elements"][0]["criteria"]] == [
        "Work is carried out",
        "Work is checked",
    ]


@pytest.mark.parametrize(
    "criteria",
    [
        "• Identify hazards including:\n    • noise\n    • dust\n• Assess risks\n• Record risks\n",
        # Word's text copy: each level's own bullet symbol, then a tab.
        "·\tIdentify hazards including:\no\tnoise\no\tdust\n·\tAssess risks\n·\tRecord risks\n",
    ],
    ids=["indented", "word-symbols"],
)
def test_under_an_element_label_a_criterions_list_ends_at_the_next_criterion(
    criteria: str,
) -> None:
    """Criteria bulleted under "Element:": the bullets a level deeper are the list of the
    criterion before them, the next bullet at the criteria's level is the next criterion."""
    text = "ABC123 Check work (Release 1)\nElements and Performance Criteria\nElement: Plan\n"
    draft = prepare(text + criteria + "Element: Act\n• Do it\n")
    assert draft.ok, draft.refusal
    assert draft.unit is not None
    plan = draft.unit.document.elements[0]
    assert [(c.number, c.text, [i.text for i in c.items]) for c in plan.criteria] == [
        ("1.1", "Identify hazards including:", ["noise", "dust"]),
        ("1.2", "Assess risks", []),
        ("1.3", "Record risks", []),
    ]


def test_a_page_footer_between_a_criterions_wrapped_lines_keeps_them_joined() -> None:
    """Only the elements table's own sentences take the lower-case lines after them as their
    wrapped rest: after a footer, the line still goes on the criterion it continues."""
    draft = prepare(
        "ABC123 Check work (Release 1)\nElements and Performance Criteria\n1. Plan\n"
        "1.1 Identify hazards and risks in the\nTraining.gov.au Page 2 of 5\n"
        "workplace and on site\n1.2 Assess them\n"
    )
    assert draft.ok, draft.refusal
    assert draft.unit is not None
    assert [c.text for c in draft.unit.document.elements[0].criteria] == [
        "Identify hazards and risks in the workplace and on site",
        "Assess them",
    ]


@pytest.mark.parametrize(
    ("head", "title", "release"),
    [
        ("ABC123 Promote cyber security awareness and best\npractices (Release 2)\n", None, 2),
        ("ABC123 Do the work\nrelease 3\n", "Do the work", 3),
    ],
)
def test_a_wrapped_title_still_gives_the_release_at_its_end(
    head: str, title: str | None, release: int
) -> None:
    draft = prepare(head + "Elements and Performance Criteria\n1. Plan\n1.1 Do it\n")
    assert draft.ok, draft.refusal
    assert draft.unit is not None
    unit = draft.unit.document
    assert unit.title == (title or "Promote cyber security awareness and best practices")
    assert unit.release == release
