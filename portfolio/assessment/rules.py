"""What each of the assessor's decisions needs, and what the audit log keeps of it.

Pure functions: no session, no request. The services (``decisions``, ``gaps``, ``outcome``) and
the bulk generator (``portfolio.demo.generate.bulk``) both call them, so each refusal and each
audit payload is written once, and ``tests/assessment/test_rules.py`` tests them without a
database. Which state a decision is allowed in is the policy's (``portfolio.auth.permissions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from portfolio.errors import ServiceError
from portfolio.models import EvidenceRule, Finding, GapMethod, MappingSource, OutcomeResult

K = TypeVar("K")

OUTCOME_DECLARATION = (
    "I declare that I assessed this learner against every requirement of the unit release "
    "named above, that the evidence met the rules of evidence as recorded, and that this "
    "outcome is my own judgement."
)

NOT_SUBMITTED = "This portfolio has not been submitted."
NOT_IN_SUBMISSION = "That evidence was not submitted in this portfolio."


def evidence_subject(item_number: int, version: int, about: str) -> str:
    """The audit subject of a decision on one version of an item: ``evidence:E3v2:pc-1.1``."""
    return f"evidence:E{item_number}v{version}:{about}"


def target_subject(ref: str) -> str:
    return f"target:{ref}"


# --- The rules of evidence -------------------------------------------------------------------


def checked_note(rule: EvidenceRule, confirmed: bool, note: str, *, was_flagged: bool) -> str:
    """A check's note: a flag must say why, and so must confirming a rule once flagged."""
    if not confirmed and not note.strip():
        raise ServiceError(f"Say why {rule.label.lower()} is flagged.", "note")
    if confirmed and was_flagged and not note.strip():
        raise ServiceError(
            f"Say why {rule.label.lower()} is confirmed now: it was flagged.", "note"
        )
    return note.strip()


def check_payload(confirmed: bool, note: str) -> dict[str, object]:
    return {"confirmed": confirmed, "note": note}


def override_payload(note: str, override_reason: str | None) -> dict[str, object]:
    return {"flag": note, "override": override_reason}


def flagged(item_number: int, rules: Iterable[EvidenceRule]) -> str:
    """An item and its unresolved flags as a message names them: "E3 (sufficient, current)"."""
    return f"E{item_number} ({', '.join(rule.label.lower() for rule in rules)})"


RESOLVE_FLAG = (
    "re-confirm the rule with a note, reject the item's mappings, or record an override with "
    "a reason"
)


def check_not_flagged(item_number: int, flags: Sequence[EvidenceRule]) -> None:
    """Evidence with a flag nobody has resolved is not accepted for anything."""
    if flags:
        raise ServiceError(
            f"{flagged(item_number, flags)} has a flagged rule of evidence: {RESOLVE_FLAG} "
            "before accepting it."
        )


def override_reason(rule: EvidenceRule, *, flagged_now: bool, reason: str) -> str:
    """Going past a flag is recorded with why; only a flag can be overridden."""
    if not flagged_now:
        raise ServiceError(f"{rule.label} is not flagged: there is nothing to override.")
    if not reason.strip():
        raise ServiceError(
            f"Say why the decisions may go past the {rule.label.lower()} flag; the reason is "
            "kept with it.",
            "reason",
        )
    return reason.strip()


# --- Mappings --------------------------------------------------------------------------------


def check_mapping_claim(source: MappingSource, mapped_by_learner: bool, ref: str) -> None:
    """The assessor decides on the learner's own mappings, and adds only ones they left out."""
    if source is MappingSource.LEARNER and not mapped_by_learner:
        raise ServiceError(f"The learner did not map this evidence to {ref}.")
    if source is MappingSource.ASSESSOR and mapped_by_learner:
        raise ServiceError(f"The learner already mapped this evidence to {ref}: accept it.")


def decision_action(accepted: bool) -> str:
    return "mapping.accepted" if accepted else "mapping.rejected"


def decision_payload(accepted: bool, note: str, source: MappingSource) -> dict[str, object]:
    return {"accepted": accepted, "note": note, "source": source}


# --- Judgements ------------------------------------------------------------------------------


def judged_comment(
    ref: str, finding: Finding, comment: str, *, is_gap: bool, leans_on: Sequence[str] = ()
) -> str:
    """A judgement's comment: satisfactory needs evidence, none of it with an unresolved flag
    (``leans_on`` names those: "E3 (sufficient)"); not yet satisfactory says why."""
    if finding is Finding.SATISFACTORY and is_gap:
        raise ServiceError(
            f"{ref} has no accepted evidence: accept evidence for it or sign the gap off "
            "before judging it satisfactory."
        )
    if finding is Finding.SATISFACTORY and leans_on:
        raise ServiceError(
            f"{ref} leans on {', '.join(leans_on)}, flagged: {RESOLVE_FLAG} before judging it "
            "satisfactory."
        )
    if finding is Finding.NOT_YET_SATISFACTORY and not comment.strip():
        raise ServiceError(f"Say what is missing for {ref}.", "comment")
    return comment.strip()


def judgement_payload(finding: Finding, comment: str) -> dict[str, object]:
    return {"finding": finding, "comment": comment}


# --- Gaps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    question: str
    answer: str


def check_gap(ref: str, *, is_gap: bool) -> None:
    if not is_gap:
        raise ServiceError(f"{ref} is not a gap: it has accepted evidence or a sign-off.")


def signoff_record(
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: Sequence[Conversation],
    *,
    today: date,
    checklist: bool = False,
) -> tuple[str, list[dict[str, str]]]:
    """A sign-off's notes and questions, checked for what an auditor needs of them (a filled
    observation checklist describes what was seen by itself)."""
    if held_on > today:
        raise ServiceError("The date it took place cannot be in the future.", "held_on")
    asked = [q for q in questions if q.question.strip() or q.answer.strip()]
    if any(not q.question.strip() or not q.answer.strip() for q in asked):
        raise ServiceError("Give each question with the learner's answer.", "questions")
    if method is GapMethod.COMPETENCY_CONVERSATION and not asked:
        raise ServiceError(
            "Record the questions asked and the answers given in the conversation.", "questions"
        )
    if not notes.strip() and not asked and not checklist:
        raise ServiceError("Describe what you saw or were told.", "notes")
    return notes.strip(), [
        {"question": q.question.strip(), "answer": q.answer.strip()} for q in asked
    ]


def signoff_payload(
    method: GapMethod,
    held_on: date,
    notes: str,
    questions: list[dict[str, str]],
    files: Iterable[tuple[str, str]],
    checklist: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """What a sign-off records, as the audit log keeps it; ``files`` are (name, SHA-256)."""
    return {
        "method": method,
        "held_on": held_on,
        "notes": notes,
        "questions": questions,
        "files": [{"name": name, "sha256": sha256} for name, sha256 in files],
        **({"checklist": dict(checklist)} if checklist else {}),
    }


def return_feedback(feedback: Mapping[K, str]) -> dict[K, str]:
    """What each criterion needs, as the assessor wrote it; a return says at least one."""
    wanted = {key: text.strip() for key, text in feedback.items() if text.strip()}
    if not wanted:
        raise ServiceError("Say, for at least one criterion, what the learner needs to add.")
    return wanted


def return_payload(overall: str, by_ref: Mapping[str, str]) -> dict[str, object]:
    return {"overall": overall, "targets": dict(by_ref)}


# --- The outcome -----------------------------------------------------------------------------


def outcome_choices(is_rpl: bool) -> list[OutcomeResult]:
    if is_rpl:
        return [OutcomeResult.RPL_GRANTED, OutcomeResult.RPL_NOT_GRANTED]
    return [OutcomeResult.COMPETENT, OutcomeResult.NOT_YET_COMPETENT]


def check_choice(result: OutcomeResult, *, is_rpl: bool) -> None:
    if result not in outcome_choices(is_rpl):
        kind = "an RPL" if is_rpl else "an assessment"
        raise ServiceError(f"{result.label} is not an outcome of {kind} enrolment.", "result")


def check_judged(unjudged: Sequence[str]) -> None:
    """Every criterion is judged before the outcome (``unjudged``: the refs that are not)."""
    if unjudged:
        refs = ", ".join(unjudged[:8])
        more = f" and {len(unjudged) - 8} more" if len(unjudged) > 8 else ""
        raise ServiceError(f"Judge every criterion first: {refs}{more} have no judgement yet.")


def check_achievable(
    result: OutcomeResult,
    *,
    all_satisfactory: bool,
    gaps: Sequence[str],
    flagged_evidence: Sequence[str] = (),
) -> None:
    """Competent (or RPL granted) needs every requirement satisfactory, none left a gap, and no
    accepted evidence with an unresolved flag (``flagged_evidence``: "E3 (sufficient)"): the
    declaration says the evidence met the rules of evidence."""
    if not result.is_achieved:
        return
    if not all_satisfactory:
        raise ServiceError(f"{result.label} needs every criterion judged satisfactory.", "result")
    if gaps:
        refs = ", ".join(gaps[:8])
        raise ServiceError(
            f"{result.label} needs accepted evidence or a sign-off for every criterion; "
            f"{refs} {'has' if len(gaps) == 1 else 'have'} none.",
            "result",
        )
    if flagged_evidence:
        raise ServiceError(
            f"{result.label} is signed as meeting the rules of evidence, but "
            f"{', '.join(flagged_evidence)} {'is' if len(flagged_evidence) == 1 else 'are'} "
            f"flagged: {RESOLVE_FLAG} first.",
            "result",
        )


def check_countersigned(waiting: Sequence[str]) -> None:
    """The outcome waits until every judgement and sign-off made under direction is
    countersigned by a credentialed assessor."""
    if waiting:
        raise ServiceError(
            f"{', '.join(waiting)} {'await' if len(waiting) > 1 else 'awaits'} a credentialed "
            "assessor's countersignature: the outcome can be recorded, corrected or followed "
            "by another attempt once they are countersigned (Countersign, in a credentialed "
            "assessor's menu)."
        )


def check_declared(declared: bool) -> None:
    if not declared:
        raise ServiceError("Tick the declaration to sign the outcome.", "declared")


def outcome_payload(result: OutcomeResult, decided_on: date) -> dict[str, object]:
    return {"result": result, "avetmiss": result.avetmiss_code, "decided_on": decided_on}


# --- Another attempt -------------------------------------------------------------------------


def reassessment_plan(
    *,
    result: OutcomeResult | None,
    attempt: int,
    allowed: int,
    plan: str,
    due_on: date | None,
    today: date,
) -> str:
    """Another attempt follows Not yet competent (or RPL not granted), within the RTO's
    number of attempts, with a plan: what the learner must show, and by when."""
    if result is None or result.is_achieved:
        outcome = result.label if result else "not recorded"
        raise ServiceError(
            f"Only a unit judged not yet competent is reassessed; this outcome is {outcome}."
        )
    if attempt >= allowed:
        raise ServiceError(
            f"This was attempt {attempt} of the {allowed} the RTO allows: the enrolment can now "
            "only be closed (withdrawn)."
        )
    if not plan.strip():
        raise ServiceError("Say what the learner must show in the next attempt.", "plan")
    if due_on is None:
        raise ServiceError("Give the date the learner should submit by.", "due_on")
    if due_on < today:
        raise ServiceError("The date to submit by cannot be in the past.", "due_on")
    return plan.strip()


def reassessment_payload(
    attempt: int, plan: str, due_on: date, criteria: Sequence[str]
) -> dict[str, object]:
    return {"attempt": attempt, "plan": plan, "due_on": due_on, "criteria": list(criteria)}


# --- Corrections after the outcome -----------------------------------------------------------


def correction_reason(reason: str) -> str:
    if not reason.strip():
        raise ServiceError("Say why the correction is made; it is kept with it.", "reason")
    return reason.strip()
