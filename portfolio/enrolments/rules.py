"""What closing an enrolment needs, and what the audit log keeps of it: pure functions.

Withdrawn (AVETMISS 40) and credit transfer (60) end an enrolment other than by a judgement.
A credit transfer rests on a transcript or AQF certificate the RTO has verified: who issued
it, its number and date, and the file, or it is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portfolio.errors import ServiceError
from portfolio.models import ClosureKind, OutcomeResult


@dataclass(frozen=True)
class CreditDocument:
    """The verified transcript or certificate of a credit transfer."""

    issuing_rto: str
    document_number: str
    document_date: date | None


def closed_on(when: date | None, *, activity_start: date, today: date) -> date:
    """The date the enrolment ended: not in the future, not before it started."""
    if when is None:
        raise ServiceError("Give the date the enrolment ended.", "closed_on")
    if when > today:
        raise ServiceError("The date it ended cannot be in the future.", "closed_on")
    if when < activity_start:
        raise ServiceError(
            f"The date it ended cannot be before the enrolment began ({activity_start:%d/%m/%Y}).",
            "closed_on",
        )
    return when


def withdrawal_reason(reason: str, *, outcome: OutcomeResult | None) -> str:
    """A withdrawal says why; a unit already achieved is not withdrawn from."""
    if outcome is not None and outcome.is_achieved:
        raise ServiceError(f"The unit is decided {outcome.label}: it is not withdrawn from.")
    if not reason.strip():
        raise ServiceError("Say why the learner withdrew; it is kept on record.", "reason")
    return reason.strip()


def credit_document(document: CreditDocument, *, files: int, today: date) -> CreditDocument:
    """A credit transfer is recorded only with the verified document in full."""
    if not document.issuing_rto.strip():
        raise ServiceError("Name the RTO that issued the transcript or certificate.", "issuing_rto")
    if not document.document_number.strip():
        raise ServiceError(
            "Give the number of the transcript or certificate that was verified.",
            "document_number",
        )
    if document.document_date is None:
        raise ServiceError("Give the date of the transcript or certificate.", "document_date")
    if document.document_date > today:
        raise ServiceError("The document's date cannot be in the future.", "document_date")
    if not files:
        raise ServiceError(
            "Attach a copy of the transcript or certificate that was verified.", "files"
        )
    return CreditDocument(
        document.issuing_rto.strip(), document.document_number.strip(), document.document_date
    )


def closure_payload(
    kind: ClosureKind,
    closed_on: date,
    reason: str,
    document: CreditDocument | None = None,
    files: list[tuple[str, str]] | None = None,
) -> dict[str, object]:
    """What the audit log keeps of a closure; ``files`` are (name, SHA-256)."""
    payload: dict[str, object] = {
        "kind": kind,
        "avetmiss": kind.avetmiss_code,
        "closed_on": closed_on,
        "reason": reason,
    }
    if document is not None:
        payload.update(
            issuing_rto=document.issuing_rto,
            document_number=document.document_number,
            document_date=document.document_date,
            files=[{"name": name, "sha256": sha256} for name, sha256 in files or []],
        )
    return payload
