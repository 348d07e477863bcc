"""What each decision needs and records, without a database: the services and the bulk generator
both use these, so a refusal or an audit payload tested here is the one every path writes."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.assessment import rules
from portfolio.assessment.rules import Conversation
from portfolio.errors import ServiceError
from portfolio.models import EvidenceRule, Finding, GapMethod, MappingSource, OutcomeResult

TODAY = date(2026, 11, 20)


def refusal(call, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(ServiceError) as refused:
        call(*args, **kwargs)
    return refused.value.message, refused.value.field


def test_a_flag_says_why_and_a_confirmation_need_not() -> None:
    assert refusal(rules.checked_note, EvidenceRule.CURRENT, False, "  ", was_flagged=False) == (
        "Say why current is flagged.",
        "note",
    )
    assert (
        rules.checked_note(EvidenceRule.CURRENT, False, " Dated 2019. ", was_flagged=False)
        == "Dated 2019."
    )
    assert rules.checked_note(EvidenceRule.VALID, True, "", was_flagged=False) == ""


def test_confirming_a_flagged_rule_says_why() -> None:
    """Re-confirming resolves a flag, so it is recorded with its reason."""
    assert refusal(rules.checked_note, EvidenceRule.SUFFICIENT, True, " ", was_flagged=True) == (
        "Say why sufficient is confirmed now: it was flagged.",
        "note",
    )
    assert (
        rules.checked_note(EvidenceRule.SUFFICIENT, True, "Second log", was_flagged=True)
        == "Second log"
    )


def test_flagged_evidence_is_not_accepted_and_names_its_flags() -> None:
    message, _ = refusal(
        rules.check_not_flagged, 3, [EvidenceRule.SUFFICIENT, EvidenceRule.CURRENT]
    )
    assert message.startswith("E3 (sufficient, current) has a flagged rule of evidence:")
    assert "record an override with a reason" in message
    rules.check_not_flagged(3, [])


def test_an_override_needs_a_flag_and_a_reason() -> None:
    assert refusal(
        rules.override_reason, EvidenceRule.AUTHENTIC, flagged_now=False, reason="Fine"
    ) == ("Authentic is not flagged: there is nothing to override.", None)
    assert refusal(rules.override_reason, EvidenceRule.AUTHENTIC, flagged_now=True, reason=" ")[
        1
    ] == ("reason")
    assert (
        rules.override_reason(EvidenceRule.AUTHENTIC, flagged_now=True, reason=" Phoned ")
        == "Phoned"
    )


def test_satisfactory_does_not_lean_on_flagged_evidence() -> None:
    message, _ = refusal(
        rules.judged_comment, "1.1", Finding.SATISFACTORY, "", is_gap=False, leans_on=["E3 (valid)"]
    )
    assert message.startswith("1.1 leans on E3 (valid), flagged:")
    # Not yet satisfactory may say so.
    assert (
        rules.judged_comment(
            "1.1", Finding.NOT_YET_SATISFACTORY, "Doubtful", is_gap=False, leans_on=["E3 (valid)"]
        )
        == "Doubtful"
    )


def test_competent_is_not_signed_over_flagged_evidence() -> None:
    message, field = refusal(
        rules.check_achievable,
        OutcomeResult.COMPETENT,
        all_satisfactory=True,
        gaps=[],
        flagged_evidence=["E2 (authentic)"],
    )
    assert field == "result"
    assert message.startswith(
        "Competent is signed as meeting the rules of evidence, but E2 (authentic) is flagged:"
    )
    rules.check_achievable(
        OutcomeResult.NOT_YET_COMPETENT,
        all_satisfactory=False,
        gaps=[],
        flagged_evidence=["E2 (authentic)"],
    )


def test_the_assessor_decides_on_the_learners_mappings_and_adds_only_new_ones() -> None:
    assert refusal(rules.check_mapping_claim, MappingSource.LEARNER, False, "1.1") == (
        "The learner did not map this evidence to 1.1.",
        None,
    )
    assert refusal(rules.check_mapping_claim, MappingSource.ASSESSOR, True, "1.1") == (
        "The learner already mapped this evidence to 1.1: accept it.",
        None,
    )
    rules.check_mapping_claim(MappingSource.LEARNER, True, "1.1")
    rules.check_mapping_claim(MappingSource.ASSESSOR, False, "1.1")
    assert rules.decision_action(True) == "mapping.accepted"
    assert rules.decision_action(False) == "mapping.rejected"


def test_satisfactory_needs_evidence_and_not_yet_needs_a_reason() -> None:
    message, _ = refusal(rules.judged_comment, "2.3", Finding.SATISFACTORY, "", is_gap=True)
    assert message.startswith("2.3 has no accepted evidence: accept evidence for it or sign")
    assert refusal(
        rules.judged_comment, "2.3", Finding.NOT_YET_SATISFACTORY, " ", is_gap=False
    ) == ("Say what is missing for 2.3.", "comment")
    assert rules.judged_comment("2.3", Finding.SATISFACTORY, " Row 3 ", is_gap=False) == "Row 3"
    # Not yet satisfactory is a fair judgement of a gap, with its reason.
    assert (
        rules.judged_comment("2.3", Finding.NOT_YET_SATISFACTORY, "Nothing yet", is_gap=True)
        == "Nothing yet"
    )


@pytest.mark.parametrize(
    ("method", "held_on", "notes", "questions", "expected"),
    [
        (GapMethod.DIRECT_OBSERVATION, date(2026, 11, 21), "Seen", [], "held_on"),
        (GapMethod.DIRECT_OBSERVATION, TODAY, "Seen", [Conversation("Why?", " ")], "questions"),
        (GapMethod.COMPETENCY_CONVERSATION, TODAY, "Talked", [], "questions"),
        (GapMethod.THIRD_PARTY_REPORT, TODAY, "  ", [], "notes"),
    ],
)
def test_a_sign_off_holds_what_an_auditor_asks_for(method, held_on, notes, questions, expected):
    """No future date, every question answered, a conversation's questions, some account."""
    _, field = refusal(rules.signoff_record, method, held_on, notes, questions, today=TODAY)
    assert field == expected


def test_a_sign_off_keeps_only_the_questions_asked_trimmed() -> None:
    notes, asked = rules.signoff_record(
        GapMethod.COMPETENCY_CONVERSATION,
        TODAY,
        " At the desk ",
        [Conversation(" How? ", " Call back. "), Conversation("", "")],
        today=TODAY,
    )
    assert notes == "At the desk"
    assert asked == [{"question": "How?", "answer": "Call back."}]
    assert rules.signoff_payload(
        GapMethod.COMPETENCY_CONVERSATION, TODAY, notes, asked, [("notes.png", "ab12")]
    ) == {
        "method": GapMethod.COMPETENCY_CONVERSATION,
        "held_on": TODAY,
        "notes": "At the desk",
        "questions": asked,
        "files": [{"name": "notes.png", "sha256": "ab12"}],
    }


def test_a_return_says_what_at_least_one_criterion_needs() -> None:
    assert refusal(rules.return_feedback, {1: " ", 2: ""})[0] == (
        "Say, for at least one criterion, what the learner needs to add."
    )
    assert rules.return_feedback({1: " Add the log ", 2: ""}) == {1: "Add the log"}


def test_outcomes_belong_to_the_kind_of_enrolment() -> None:
    assert rules.outcome_choices(False) == [
        OutcomeResult.COMPETENT,
        OutcomeResult.NOT_YET_COMPETENT,
    ]
    assert rules.outcome_choices(True) == [OutcomeResult.RPL_GRANTED, OutcomeResult.RPL_NOT_GRANTED]
    assert refusal(rules.check_choice, OutcomeResult.COMPETENT, is_rpl=True) == (
        "Competent is not an outcome of an RPL enrolment.",
        "result",
    )


def test_every_criterion_is_judged_before_the_outcome_naming_the_first_eight() -> None:
    refs = [f"1.{n}" for n in range(1, 11)]
    assert refusal(rules.check_judged, refs)[0] == (
        "Judge every criterion first: 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8 and 2 more have no "
        "judgement yet."
    )
    rules.check_judged([])


def test_competent_needs_everything_satisfactory_and_no_gap() -> None:
    competent = OutcomeResult.COMPETENT
    assert refusal(rules.check_achievable, competent, all_satisfactory=False, gaps=[]) == (
        "Competent needs every criterion judged satisfactory.",
        "result",
    )
    assert refusal(rules.check_achievable, competent, all_satisfactory=True, gaps=["1.1"])[0] == (
        "Competent needs accepted evidence or a sign-off for every criterion; 1.1 has none."
    )
    assert (
        "1.1, 2.3 have none."
        in refusal(rules.check_achievable, competent, all_satisfactory=True, gaps=["1.1", "2.3"])[0]
    )
    # Not yet competent needs neither.
    rules.check_achievable(OutcomeResult.NOT_YET_COMPETENT, all_satisfactory=False, gaps=["1.1"])


def test_the_outcome_is_signed_and_recorded_with_its_avetmiss_code() -> None:
    assert refusal(rules.check_declared, False) == (
        "Tick the declaration to sign the outcome.",
        "declared",
    )
    assert rules.outcome_payload(OutcomeResult.RPL_GRANTED, TODAY) == {
        "result": OutcomeResult.RPL_GRANTED,
        "avetmiss": "51",
        "decided_on": TODAY,
    }


def test_a_correction_says_why() -> None:
    assert refusal(rules.correction_reason, "  ") == (
        "Say why the correction is made; it is kept with it.",
        "reason",
    )
    assert rules.correction_reason(" Wrong row ") == "Wrong row"


def test_subjects_name_the_item_version_and_what_was_decided() -> None:
    assert rules.evidence_subject(3, 2, "1.1") == "evidence:E3v2:1.1"
    assert rules.target_subject("KE 4") == "target:KE 4"


def test_only_not_yet_competent_is_reassessed_within_the_attempts_allowed() -> None:
    def plan(**changes):
        values = {
            "result": OutcomeResult.NOT_YET_COMPETENT,
            "attempt": 1,
            "allowed": 2,
            "plan": " Show 2.1 ",
            "due_on": TODAY,
            "today": TODAY,
        }
        return rules.reassessment_plan(**{**values, **changes})

    assert plan() == "Show 2.1"
    assert plan(result=OutcomeResult.RPL_NOT_GRANTED) == "Show 2.1"
    assert "this outcome is Competent" in refusal(plan, result=OutcomeResult.COMPETENT)[0]
    assert "this outcome is not recorded" in refusal(plan, result=None)[0]
    assert refusal(plan, attempt=2)[0].startswith("This was attempt 2 of the 2 the RTO allows")
