"""What a verification request and a verifier's answer need, and what the audit log keeps of
them: pure functions, tested without a database (``tests/verification/test_rules.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portfolio.auth.services import EMAIL, normalise_email
from portfolio.errors import ServiceError
from portfolio.models import VerificationState, VerifierCheck

#: Open requests one item (or, for reports, one enrolment) may have at a time: enough for two
#: supervisors and a resend.
MAX_OPEN_PER_ITEM = 5
#: Seen or not seen, for each criterion a report is asked about.
SEEN, NOT_SEEN = "seen", "not_seen"


@dataclass(frozen=True)
class Statement:
    key: str
    #: The words the verifier confirms or declines; ``{learner}`` and ``{work_date}`` filled in.
    words: str

    def said(self, learner: str, work_date: date) -> str:
        return self.words.format(learner=learner, work_date=f"{work_date:%d/%m/%Y}")


STATEMENTS = (
    Statement("own_work", "This is {learner}'s own work."),
    Statement("normal_performance", "It reflects how {learner} normally performs at work."),
    Statement("dates_right", "The dates are right: the work was done on or about {work_date}."),
)
STATEMENT_KEYS = tuple(s.key for s in STATEMENTS)


@dataclass(frozen=True)
class Verifier:
    """The third party asked to verify: who they are and how they know the learner."""

    name: str
    email: str
    position: str
    organisation: str
    relationship: str


def checked_verifier(verifier: Verifier, *, learner_email: str, requester_email: str) -> Verifier:
    """A verifier as kept (trimmed), once everything an auditor asks of one is given. The
    learner cannot be their own verifier, nor can whoever asks."""
    fields = (
        ("name", verifier.name, "Give the verifier's full name."),
        ("email", verifier.email, "Give the verifier's email address: the link is sent there."),
        ("position", verifier.position, "Give the verifier's position (e.g. Store manager)."),
        ("organisation", verifier.organisation, "Give the organisation the verifier works for."),
        (
            "relationship",
            verifier.relationship,
            "Say how the verifier knows the learner (e.g. their direct supervisor since 2024).",
        ),
    )
    for field, value, missing in fields:
        if not value.strip():
            raise ServiceError(missing, field)
        if len(value.strip()) > (254 if field == "email" else 200):
            raise ServiceError("That is too long: keep it under 200 characters.", field)
    email = normalise_email(verifier.email)
    if not EMAIL.match(email):
        raise ServiceError(f"{verifier.email.strip()!r} is not an email address.", "email")
    if email in (normalise_email(learner_email), normalise_email(requester_email)):
        raise ServiceError(
            "A verifier is someone else: the learner, or whoever asks, cannot verify the "
            "evidence themselves.",
            "email",
        )
    return Verifier(
        verifier.name.strip(),
        email,
        verifier.position.strip(),
        verifier.organisation.strip(),
        verifier.relationship.strip(),
    )


def text_sha256(title: str, evidence_type: str, work_date: date, description: str) -> str:
    """The hash of an item's words: title, type, date of the work and description, as JSON."""
    canonical = json.dumps(
        {
            "title": title,
            "evidence_type": evidence_type,
            "work_date": work_date.isoformat(),
            "description": description,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hashes(version: Any) -> dict[str, Any]:
    """What a verifier is shown of a version, as hashes: its words and each of its files."""
    return {
        "text_sha256": text_sha256(
            version.title,
            str(getattr(version.evidence_type, "value", version.evidence_type)),
            version.work_date,
            version.description,
        ),
        "files": [
            {"name": f.display_name, "size": f.size, "sha256": f.sha256} for f in version.files
        ],
    }


def shown_token(hashes: Mapping[str, Any]) -> str:
    """One hash of everything shown, carried by the verifier's form: an answer is taken only
    for the content the page showed."""
    canonical = json.dumps(hashes, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What the verifier sent: each statement "yes" or "no", a comment, their typed name."""

    statements: Mapping[str, str]
    comment: str
    signer_name: str


def checked_answer(answer: Answer, *, verifier_name: str) -> tuple[dict[str, bool], str, str]:
    """The statements as {key: confirmed}, the comment and the signer's name; a statement left
    unanswered, or a declined one without a comment, is refused."""
    statements: dict[str, bool] = {}
    for statement in STATEMENTS:
        value = answer.statements.get(statement.key, "")
        if value not in ("yes", "no"):
            raise ServiceError(
                "Answer every statement: confirm it or say it is not so.", statement.key
            )
        statements[statement.key] = value == "yes"
    comment = answer.comment.strip()
    if not all(statements.values()) and not comment:
        raise ServiceError(
            "Say in the comment what is not so, for the assessor to follow up.", "comment"
        )
    signer = answer.signer_name.strip()
    if not signer:
        raise ServiceError("Type your full name to sign.", "signer_name")
    if len(signer) > 200 or len(comment) > 5000:
        raise ServiceError("That is too long.", "comment" if len(comment) > 5000 else "signer_name")
    return statements, comment, signer


def outcome(statements: Mapping[str, bool]) -> VerificationState:
    """Confirmed when every statement is; otherwise not confirmed."""
    return VerificationState.CONFIRMED if all(statements.values()) else VerificationState.DECLINED


def checked_targets(chosen: Sequence[int], offered: Mapping[int, str]) -> list[int]:
    """The criteria a report is asked about, in the unit's order (``offered``: id -> ref)."""
    picked = set(chosen)
    if not picked:
        raise ServiceError("Choose at least one criterion for the report.", "targets")
    unknown = picked - set(offered)
    if unknown:
        raise ServiceError(
            "A criterion chosen is not one of this unit's: reload the page and choose again.",
            "targets",
        )
    return [target for target in offered if target in picked]


@dataclass(frozen=True)
class Report:
    """What a third party sent as a report: per criterion "seen" or "not_seen" and a note, the
    day they last saw the work, a comment and their typed name."""

    seen: Mapping[int, str]
    notes: Mapping[int, str]
    observed_on: date | None
    comment: str
    signer_name: str


@dataclass(frozen=True)
class CheckedReport:
    observations: dict[str, dict[str, Any]]
    observed_on: date
    comment: str
    signer: str

    def seen(self) -> list[int]:
        return [int(t) for t, o in self.observations.items() if o["seen"]]


def checked_report(report: Report, *, targets: Sequence[int], today: date) -> CheckedReport:
    """A report as kept: every criterion asked about answered, seen ones first-hand on a day
    not in the future, signed by name."""
    observations: dict[str, dict[str, Any]] = {}
    for target in targets:
        answer = report.seen.get(target, "")
        if answer not in (SEEN, NOT_SEEN):
            raise ServiceError(
                "Say for every criterion whether you saw it (Seen or Not seen).", f"seen-{target}"
            )
        note = report.notes.get(target, "").strip()
        if len(note) > 2000:
            raise ServiceError(
                "A note is too long: keep it under 2,000 characters.", f"seen-{target}"
            )
        observations[str(target)] = {"seen": answer == SEEN, "note": note}
    if report.observed_on is None:
        raise ServiceError("Give the date you last saw this work.", "observed_on")
    if report.observed_on > today:
        raise ServiceError("The date you saw the work cannot be in the future.", "observed_on")
    signer = report.signer_name.strip()
    if not signer:
        raise ServiceError("Type your full name to sign.", "signer_name")
    comment = report.comment.strip()
    if len(signer) > 200 or len(comment) > 5000:
        raise ServiceError("That is too long.", "comment" if len(comment) > 5000 else "signer_name")
    return CheckedReport(observations, report.observed_on, comment, signer)


def observations(request: Any, targets: Iterable[Any]) -> list[tuple[Any, bool, str]]:
    """Each of ``targets`` the report answered about, in their order: seen or not, and the
    note."""
    answers = request.observations or {}
    return [
        (t, bool(answers[str(t.id)]["seen"]), answers[str(t.id)]["note"])
        for t in targets
        if str(t.id) in answers
    ]


def report_text(
    report: CheckedReport, *, refs: Mapping[int, tuple[str, str]], verifier: Verifier
) -> str:
    """The report as the evidence item's description (Markdown): who wrote it, each criterion
    seen and not seen with their notes, and their comment. ``refs``: id -> (ref, words)."""

    def lines(seen: bool) -> list[str]:
        found = []
        for target, observed in report.observations.items():
            if observed["seen"] is seen:
                ref, words = refs[int(target)]
                note = f": {observed['note']}" if observed["note"] else ""
                found.append(f"- **{ref}** {words}{note}")
        return found or ["- none"]

    return "\n".join(
        [
            f"Written and signed by {report.signer} ({verifier.position}, "
            f"{verifier.organisation}; {verifier.relationship}) through the RTO's emailed link. "
            f"Work last seen on {report.observed_on:%d/%m/%Y}.",
            "",
            "**Seen**",
            "",
            *lines(True),
            "",
            "**Not seen**",
            "",
            *lines(False),
            *(["", f"**Comment:** {report.comment}"] if report.comment else []),
        ]
    )


def signoff_notes(
    *, signer: str, position: str, organisation: str, signed: str, item: str, note: str
) -> str:
    """The notes a gap sign-off starts from when it rests on a third party's report."""
    seen = f": {note}" if note else "."
    return (
        f"Third-party report by {signer} ({position}, {organisation}), signed {signed}, "
        f"evidence item {item}. They saw the learner meet this criterion{seen}"
    )


def report_title(signer: str, position: str) -> str:
    return f"Third-party report: {signer}, {position}"[:200]


def checked_check(method: str, note: str) -> tuple[VerifierCheck, str]:
    """The assessor's check on a verifier: how it was made, with a note (needed for "other")."""
    try:
        chosen = VerifierCheck(method)
    except ValueError:
        raise ServiceError("Choose how you checked the verifier.", "method") from None
    if chosen is VerifierCheck.OTHER and not note.strip():
        raise ServiceError("Say how you checked the verifier.", "note")
    return chosen, note.strip()


def requested_payload(verifier: Verifier, *, expires_at: Any) -> dict[str, Any]:
    """What the audit log keeps of a request: who was asked, until when."""
    return {
        "verifier": {
            "name": verifier.name,
            "email": verifier.email,
            "position": verifier.position,
            "organisation": verifier.organisation,
            "relationship": verifier.relationship,
        },
        "expires_at": expires_at,
    }


def reported_payload(
    report: CheckedReport, *, item: str, refs: Mapping[int, str], address: str | None
) -> dict[str, Any]:
    """What the audit log keeps of a report: each criterion seen or not (by its reference), who
    signed, and the evidence item it became."""
    return {
        "item": item,
        "seen": [refs[int(t)] for t, o in report.observations.items() if o["seen"]],
        "not_seen": [refs[int(t)] for t, o in report.observations.items() if not o["seen"]],
        "observed_on": report.observed_on,
        "signer": report.signer,
        "address": address,
    }


def third_party_record(request: Any, refs: Mapping[int, str]) -> dict[str, Any]:
    """An answered request as an auditor's bundle keeps it beside the signature image: who,
    what they were asked and said, when they signed, and the hashes of what they saw."""
    signature = request.signature_png or b""
    record: dict[str, Any] = {
        "kind": request.kind.value,
        "state": request.state.value,
        "verifier": {
            "name": request.verifier_name,
            "email": request.verifier_email,
            "position": request.verifier_position,
            "organisation": request.verifier_organisation,
            "relationship": request.relationship_to_learner,
        },
        "asked_at": request.requested_at.isoformat(),
        "signed_by": request.signer_name,
        "signed_at": request.closed_at.isoformat() if request.closed_at else None,
        "signature_sha256": hashlib.sha256(signature).hexdigest() if signature else None,
        "comment": request.comment,
        "hashes_seen": request.confirmed_hashes,
    }
    if request.version is not None:
        record["version"] = request.version.version
        record["statements"] = request.statements
    if request.observations is not None:
        record["observed_on"] = request.observed_on.isoformat() if request.observed_on else None
        record["criteria"] = {
            refs.get(int(target), target): observed
            for target, observed in request.observations.items()
        }
    if request.check_method is not None:
        record["verifier_checked"] = {"how": request.check_method.value, "note": request.check_note}
    return record


def answered_payload(
    statements: Mapping[str, bool], *, signer: str, hashes: Mapping[str, Any], address: str | None
) -> dict[str, Any]:
    """What the audit log keeps of an answer: each statement, the signer, the hashes seen."""
    return {
        "statements": dict(statements),
        "signer": signer,
        "text_sha256": hashes["text_sha256"],
        "files": [{"name": f["name"], "sha256": f["sha256"]} for f in hashes["files"]],
        "address": address,
    }
