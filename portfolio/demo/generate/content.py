"""What a generated cohort says and uploads: names, evidence texts, and small real files.

Every file is a real PDF, PNG or Word document that the upload checks accept and the pages
show, and every one differs in its bytes (the store is content-addressed, so identical files
would be stored once and a cohort of thousands would exercise almost nothing).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

from portfolio.auth.services import USI_ALPHABET, usi_check_character
from portfolio.demo.samples import pdf_bytes
from portfolio.models import EvidenceType, GapMethod


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Aisha Alex Amelia Ana Arjun Ben Bree Carlos Chloe Daniel Dev Ella Emma Farah Finn Grace "
    "Hamish Hana Isla Jack Jai Jess Kai Kate Leo Liam Lina Luca Maya Mei Mia Noah Nina Oliver "
    "Olivia Priya Quinn Ravi Rosa Ruby Sam Sara Tariq Tom Uma Vik Will Xin Yara Zoe"
)
LAST_NAMES = _words(
    "Ahmed Anderson Baker Brown Chen Clarke Davies Dubois Edwards Evans Fraser Garcia Gupta "
    "Harris Hughes Ivanov Jackson Johnson Kaur Kelly Khan Kim Lee Lewis Lopez Martin Murphy "
    "Nguyen Novak O'Brien Patel Phillips Quinn Ramirez Robinson Rossi Sato Schmidt Singh "
    "Smith Taylor Thompson Tran Walker Wang White Williams Wilson Wong Young Zhang"
)

# The kinds of evidence a workplace portfolio holds, with titles, what the file is, and where
# the work was done. Video is left out: a real MP4 is too large to make by the thousand.
SITES = (
    "the Botany depot",
    "the Parramatta warehouse",
    "the front counter",
    "the call centre",
    "the Geelong branch",
    "the night shift",
    "the regional office",
    "the dispatch team",
)
TITLES: dict[EvidenceType, tuple[str, ...]] = {
    EvidenceType.PLAN: (
        "Customer service plan, {period}",
        "Contingency plan for peak season at {site}",
        "Service improvement plan, {period}",
    ),
    EvidenceType.COMPLAINT_LOG: (
        "Complaint log and follow-up, {period}",
        "Customer complaints register at {site}",
    ),
    EvidenceType.REPORT: (
        "Customer service performance report, {period}",
        "Incident report: delayed deliveries at {site}",
        "Monthly KPI report, {period}",
    ),
    EvidenceType.POLICY_PROCEDURE: (
        "Complaints handling procedure (my revision)",
        "Service standards for {site}",
    ),
    EvidenceType.MEETING_MINUTES: (
        "Team meeting minutes, {period}",
        "Minutes of the service review with {site}",
    ),
    EvidenceType.FEEDBACK_SURVEY: (
        "Customer feedback survey results, {period}",
        "Follow-up survey after service changes at {site}",
    ),
    EvidenceType.CORRESPONDENCE: (
        "Emails with a key customer about delivery windows",
        "Letter answering a customer complaint",
    ),
    EvidenceType.PHOTO: (
        "Team briefing board at {site}",
        "Service targets posted at {site}",
    ),
    EvidenceType.WRITTEN_ANSWER: (
        "Written answers: legislation and codes of practice",
        "Written answers: quality management",
        "Reflection on handling an unplanned event",
    ),
    EvidenceType.OTHER: ("Coaching record for a new team member", "Roster for {period}"),
}
# How often each kind turns up in a portfolio (out of the sum).
TYPE_WEIGHTS: dict[EvidenceType, int] = {
    EvidenceType.PLAN: 3,
    EvidenceType.COMPLAINT_LOG: 2,
    EvidenceType.REPORT: 3,
    EvidenceType.POLICY_PROCEDURE: 1,
    EvidenceType.MEETING_MINUTES: 2,
    EvidenceType.FEEDBACK_SURVEY: 2,
    EvidenceType.CORRESPONDENCE: 2,
    EvidenceType.PHOTO: 3,
    EvidenceType.WRITTEN_ANSWER: 1,
    EvidenceType.OTHER: 1,
}
MONTH_NAMES = _words(
    "January February March April May June July August September October November December"
)

DESCRIPTIONS = (
    "What I did at {site} and why: {what}.",
    "## Context\n\nAt {site} I {what_past}.\n\n## What it shows\n\n- the steps I followed\n"
    "- who I consulted\n- what changed for the customer",
    "I {what_past} at {site}. The attached file is the document I used with the team.",
    "**Summary:** {what}.\n\nSigned off by my supervisor at {site}.",
)
WORK = (
    ("planning for our largest customers' requirements", "planned for our largest customers"),
    ("handling complaints within 24 hours", "handled complaints within 24 hours"),
    ("coaching a colleague on service standards", "coached a colleague on service standards"),
    ("reporting service performance to management", "reported service performance"),
    ("dealing with a surge in customer enquiries", "dealt with a surge in customer enquiries"),
    ("improving delivery times after feedback", "improved delivery times after feedback"),
)
ANSWERS = (
    "Consumer protection law means we must deliver what was agreed and put it right when we "
    "do not. At {site} that shows in how we log and answer every complaint.",
    "Our quality system sets the standards, we measure against them weekly, and I report the "
    "gaps with what we will change.",
    "When enquiries doubled I moved two people to the phones, told customers the wait, and "
    "reviewed the roster the next week.",
)
NOTES = (
    "{title} shows this: see the section on {topic}.",
    "See page 2: how I {what_past}.",
    "The {kind} covers this directly.",
    "",
    "Shows {ref} in practice at {site}.",
)
REJECTIONS = (
    "This shows the plan, not that it was carried out.",
    "Not enough detail to show this criterion.",
    "This is a template, not your own work for this criterion.",
)
FEEDBACK = (
    "Add evidence that shows you doing this at work, e.g. a report or a supervisor's note.",
    "Your evidence names this but does not show it. Upload a record of when you did it.",
    "Please add a short written answer explaining how you apply this.",
)
NOT_YET = (
    "Not yet shown: the evidence does not cover this criterion.",
    "The evidence is a plan only; it does not show the work being done.",
)
OVERALL = (
    "A good start. A few criteria still need evidence; see the notes against each one.",
    "Please add the evidence asked for below, then submit again.",
    "",
)
SIGNOFF_NOTES: dict[GapMethod, tuple[str, ...]] = {
    GapMethod.COMPETENCY_CONVERSATION: ("Discussed at {site} after the team briefing.",),
    GapMethod.DIRECT_OBSERVATION: (
        "Observed the learner leading the morning briefing at {site} and handling two "
        "customer calls; both met the standard.",
    ),
    GapMethod.THIRD_PARTY_REPORT: (
        "The learner's supervisor at {site} confirmed in writing that they do this routinely.",
    ),
    GapMethod.FURTHER_EVIDENCE: (
        "The learner brought a further record from {site}, attached, which shows this.",
    ),
}
QUESTIONS = (
    (
        "How does your work show this: {text}?",
        "I walked through how our procedures at {site} apply and gave two recent examples.",
    ),
    (
        "What would you do if this went wrong on a busy day?",
        "Tell the customer straight away, fix what I can, log it and raise it at the briefing.",
    ),
)
OLD_WORK = "Work from {date}, more than two years before submission; confirm it is still current."
REASSESSMENT_PLANS = [
    "Show the criteria marked in your portfolio with evidence from your own shifts: a "
    "complaint you handled from first contact to follow-up.",
    "Add a service plan you wrote or revised, and the notes of the meeting where you presented it.",
    "Bring records of two customer contacts you resolved, with what you did and why.",
]
WITHDRAWALS = [
    "Changed jobs and no longer works in customer service.",
    "Withdrew for personal reasons; may re-enrol next year.",
    "Moved interstate; enrolling with another provider.",
]
OTHER_RTOS = [
    "Coastal Skills Institute (RTO 41234)",
    "Metro Training College (RTO 90871)",
    "Northern TAFE (RTO 5511)",
]
OVERRIDES = [
    "The supervisor confirmed by phone that the same procedure is still in use.",
    "The learner still runs this process weekly; a current roster shows it.",
    "The site's complaints procedure has not changed since; checked against the manual.",
]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def usi(rng: random.Random) -> str:
    """A valid Unique Student Identifier: nine characters of the USI alphabet and the check
    character that follows from them."""
    drawn = "".join(rng.choice(USI_ALPHABET) for _ in range(10))  # ten: the same draws as ever
    return drawn[:9] + usi_check_character(drawn[:9])


@dataclass(frozen=True, slots=True)
class FileSpec:
    """A file a learner or assessor uploads, made when it is stored: a kind, a name, a text."""

    name: str
    kind: str  # "pdf", "docx" or "png"
    text: str
    seed: int

    def content(self) -> bytes:
        if self.kind == "pdf":
            return pdf_bytes(_pdf_text(f"{self.text}, ref. {self.seed:x}"))
        if self.kind == "docx":
            return docx_bytes(self.text, self.seed)
        return png_bytes(self.text, self.seed)


def _pdf_text(text: str) -> str:
    # A PDF string literal: parentheses and backslashes would need escaping; ASCII only.
    cleaned = text.translate({ord("("): "[", ord(")"): "]", ord("\\"): "/"})
    return cleaned.encode("ascii", "replace").decode("ascii")


def png_bytes(text: str, seed: int, width: int = 48, height: int = 32) -> bytes:
    """A small photo-like RGB PNG: a gradient in colours of its own, with a text chunk."""
    rng = random.Random(seed)
    top = [rng.randrange(40, 216) for _ in range(3)]
    bottom = [rng.randrange(40, 216) for _ in range(3)]
    rows = []
    for y in range(height):
        mix = y / (height - 1)
        pixel = bytes(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        # A lighter band across the middle, as on a whiteboard.
        band = bytes(min(255, c + 50) for c in pixel)
        edge = width // 4
        line = pixel * edge + band * (width - 2 * edge) + pixel * edge
        rows.append(b"\x00" + line)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    comment = b"Comment\x00" + text.encode("latin-1", "replace")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", comment)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bytes(text: str, seed: int) -> bytes:
    """A small Word document: a bold heading and a few paragraphs (Word and LibreOffice open
    it; a few kilobytes, where one saved by python-docx carries 36 KB of styles)."""
    rng = random.Random(seed)
    lines = [text, *(rng.choice(WORK)[0].capitalize() + "." for _ in range(rng.randint(2, 5)))]
    paragraphs = [
        f'<w:p><w:r><w:rPr><w:b/><w:sz w:val="32"/></w:rPr><w:t>{escape(lines[0])}</w:t>'
        "</w:r></w:p>",
        *(f"<w:p><w:r><w:t>{escape(line)}</w:t></w:r></w:p>" for line in lines[1:]),
        f"<w:p><w:r><w:t>Reference {seed}</w:t></w:r></w:p>",
    ]
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{_W}"><w:body>{"".join(paragraphs)}</w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # [Content_Types].xml first: that is where the upload check looks for what it is. The
        # parts are small enough to store as they are (setting up compression costs more).
        for name, data in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _RELS),
            ("word/document.xml", document),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()
