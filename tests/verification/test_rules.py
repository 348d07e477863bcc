"""The rules of a verification request and answer, without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from portfolio.errors import ServiceError
from portfolio.models import EvidenceType, VerificationState, VerifierCheck
from portfolio.verification.rules import (
    Answer,
    Verifier,
    checked_answer,
    checked_check,
    checked_verifier,
    content_hashes,
    outcome,
    shown_token,
)

SAM = Verifier(
    " Sam Supervisor ", " Sam@Depot.example.com ", "Depot manager", "Harbour Depot", "Supervisor"
)


@dataclass
class File:
    display_name: str
    size: int
    sha256: str


@dataclass
class Version:
    title: str = "Complaint log"
    evidence_type: EvidenceType = EvidenceType.COMPLAINT_LOG
    work_date: date = date(2026, 10, 1)
    description: str = "Calls I took."
    files: list[File] = field(default_factory=lambda: [File("log.docx", 10, "a" * 64)])


def test_a_verifier_is_kept_trimmed_with_the_email_in_lower_case():
    kept = checked_verifier(SAM, learner_email="lee@example.org", requester_email="lee@example.org")
    assert kept.name == "Sam Supervisor" and kept.email == "sam@depot.example.com"


@pytest.mark.parametrize("own", ["LEE@example.org", "ash@rto.example.org"])
def test_neither_the_learner_nor_whoever_asks_can_be_the_verifier(own):
    with pytest.raises(ServiceError, match="A verifier is someone else") as refused:
        checked_verifier(
            Verifier("Lee", own, "Self", "Self", "Self"),
            learner_email="lee@example.org",
            requester_email="ash@rto.example.org",
        )
    assert refused.value.field == "email"


def test_the_hashes_change_with_any_word_or_file_byte():
    """What the verifier vouches for is pinned: a changed description or file is different."""
    base = content_hashes(Version())
    assert content_hashes(Version()) == base
    assert content_hashes(Version(description="Calls I took!")) != base
    assert content_hashes(Version(work_date=date(2026, 10, 2))) != base
    assert content_hashes(Version(files=[File("log.docx", 10, "b" * 64)])) != base
    assert shown_token(content_hashes(Version(title="Other"))) != shown_token(base)


def test_every_statement_must_be_answered_and_a_no_needs_a_comment():
    yes = {"own_work": "yes", "normal_performance": "yes", "dates_right": "yes"}
    statements, _, signer = checked_answer(Answer(yes, "", " Sam S "), verifier_name="Sam")
    assert outcome(statements) is VerificationState.CONFIRMED and signer == "Sam S"
    with pytest.raises(ServiceError, match="Answer every statement"):
        checked_answer(Answer({**yes, "dates_right": "maybe"}, "", "Sam"), verifier_name="Sam")
    with pytest.raises(ServiceError, match="Say in the comment"):
        checked_answer(Answer({**yes, "own_work": "no"}, " ", "Sam"), verifier_name="Sam")
    statements, _, _ = checked_answer(
        Answer({**yes, "own_work": "no"}, "A colleague wrote half", "Sam"), verifier_name="Sam"
    )
    assert outcome(statements) is VerificationState.DECLINED


def test_a_check_other_than_the_listed_ones_needs_a_note():
    assert checked_check("phone_call", " ") == (VerifierCheck.PHONE_CALL, "")
    with pytest.raises(ServiceError, match="Say how you checked"):
        checked_check("other", "")
    with pytest.raises(ServiceError, match="Choose how you checked"):
        checked_check("carrier pigeon", "")
