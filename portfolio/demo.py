"""Demo content: a portfolio taken through the whole assessment, so every page and export has
something real to show on a fresh install. Built only through the services, like real work.

The small files it uploads (a PDF, a photo, a Word document) are made here on the fly; the
tests use the same makers.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date, timedelta

import docx
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.assessment import review as svc
from portfolio.evidence.services import ItemFields, create_item, set_item_mappings, submit
from portfolio.files.uploads import store_upload
from portfolio.models import (
    Enrolment,
    EvidenceRule,
    EvidenceType,
    Finding,
    GapMethod,
    OutcomeResult,
    Target,
    User,
)


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xcc\x33\x33" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str = "Customer service plan") -> bytes:
    """A one-page PDF with a line of text."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def docx_bytes(heading: str = "Complaint log", body: str = "Resolved within 24 hours.") -> bytes:
    """A Word document with a heading and a paragraph."""
    document = docx.Document()
    document.add_heading(heading, level=1)
    document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DEMO_ITEMS = [
    (
        "Customer service plan, Q3",
        EvidenceType.PLAN,
        "## Purpose\n\nThe depot's plan for meeting **customer requirements** this quarter:\n\n"
        "- service standards agreed with our three largest customers\n"
        "- delivery windows and cost targets\n"
        "- how complaints are logged and answered within 24 hours\n\n"
        "See the [complaints policy](https://example.org/complaints-policy).",
        [("service-plan-q3.pdf", "pdf")],
    ),
    (
        "Complaint log and follow-up",
        EvidenceType.COMPLAINT_LOG,
        "The complaints I handled in August, what I did and how each customer was answered.",
        [("complaint-log-august.docx", "docx")],
    ),
    (
        "Team briefing board",
        EvidenceType.PHOTO,
        "Photo of the board I use to brief the team on service targets each Monday.",
        [("briefing-board.png", "png")],
    ),
]


def _file(name: str, kind: str):
    content = {
        "pdf": lambda: pdf_bytes("Customer service plan Q3"),
        "docx": lambda: docx_bytes("Complaint log", "12 August: late delivery, refunded same day."),
        "png": lambda: png_bytes(64, 48),
    }[kind]()
    return store_upload(io.BytesIO(content), name)


def assessed_portfolio(
    session: Session, *, enrolment: Enrolment, learner: User, assessor: User
) -> None:
    """Evidence uploaded, mapped and submitted; reviewed, one gap signed off; Competent."""
    targets = list(
        session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        )
    )
    gap, covered = targets[-1], targets[:-1]
    work_done = date.today() - timedelta(days=60)
    for index, (title, kind, description, files) in enumerate(DEMO_ITEMS):
        item = create_item(
            session,
            actor=learner,
            enrolment=enrolment,
            fields=ItemFields(title, kind, work_done, description),
            files=[_file(name, ext) for name, ext in files],
        )
        mine = covered[index :: len(DEMO_ITEMS)]
        set_item_mappings(
            session, actor=learner, item=item, notes={t.id: f"{title}: see {t.ref}" for t in mine}
        )
    submit(session, actor=learner, enrolment=enrolment, declared=True)
    svc.start_review(session, actor=assessor, enrolment=enrolment)
    view = svc.review_view(session, enrolment)
    svc.accept_learner_mappings(session, actor=assessor, view=view, targets=covered)
    for submitted in view.items:
        for rule in EvidenceRule:
            svc.check_evidence(
                session,
                actor=assessor,
                enrolment=enrolment,
                version=submitted.version,
                rule=rule,
                confirmed=True,
                note="",
                seen_version=0,
            )
    view = svc.review_view(session, enrolment)
    svc.sign_off_gap(
        session,
        actor=assessor,
        view=view,
        target=gap,
        method=GapMethod.COMPETENCY_CONVERSATION,
        held_on=date.today() - timedelta(days=2),
        notes="Discussed at the depot after the Monday briefing.",
        questions=[
            svc.Conversation(
                f"How does your work show this: {gap.text[:120]}?",
                "I walked through how the depot's procedures apply and gave two recent examples.",
            )
        ],
    )
    view = svc.review_view(session, enrolment)
    for target in targets:
        svc.judge(
            session,
            actor=assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="",
            seen_version=0,
        )
    view = svc.review_view(session, enrolment)
    svc.record_outcome(
        session, actor=assessor, view=view, result=OutcomeResult.COMPETENT, declared=True
    )
