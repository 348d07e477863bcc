"""Demo accounts, and a portfolio taken through the whole assessment, so every page and export
has something real to show on a fresh install. Built only through the services, like real work.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.assessment import decisions, gaps, outcome, review, rules, templates
from portfolio.auth.services import create_user, find_user_by_email
from portfolio.clock import today
from portfolio.credentials.rules import Entry
from portfolio.credentials.services import add_entry
from portfolio.demo.samples import docx_bytes, pdf_bytes, png_bytes
from portfolio.enrolments.services import enrol
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.files.uploads import store_upload
from portfolio.models import (
    CredentialBasis,
    CredentialKind,
    Enrolment,
    EvidenceRule,
    EvidenceType,
    Finding,
    GapMethod,
    OutcomeResult,
    Role,
    Target,
    TemplateKind,
    User,
)
from portfolio.validation import services as validation

DEMO_ACCOUNTS = [
    ("Ada Admin", "admin@example.org", "admin-demo-pass", {Role.ADMIN}),
    ("Alex Assessor", "assessor@example.org", "assessor-demo-pass", {Role.ASSESSOR}),
    ("Lee Learner", "learner@example.org", "learner-demo-pass", {Role.LEARNER}),
    ("Sam Learner", "learner2@example.org", "learner2-demo-pass", {Role.LEARNER}),
    # An assessor who assessed none of the demo's portfolios: a validator, a countersigner.
    ("Val Validator", "validator@example.org", "validator-demo-pass", {Role.ASSESSOR}),
]


def create_demo_accounts(session: Session) -> bool | None:
    """The demo accounts and enrolments, on a database with no accounts yet.

    True when they were created now; False when they exist already; None when the database
    has accounts of its own (a real instance), which are left alone.
    """
    if session.scalar(select(func.count()).select_from(User)):
        if find_user_by_email(session, DEMO_ACCOUNTS[0][1]) is None:
            return None
        return False
    users = {}
    for name, email, password, roles in DEMO_ACCOUNTS:
        users[email] = create_user(
            session, actor=None, name=name, email=email, roles=roles, password=password
        )
    assessor = users["assessor@example.org"]
    # A register that authorises the assessor for the demo's units (CREDENTIALS_ENFORCED=1).
    for entry in demo_register(today()):
        add_entry(session, actor=users["admin@example.org"], user=assessor, entry=entry, files=[])
    # The validator holds the same credentials: they may validate, and countersign what
    # someone working under direction records.
    for entry in demo_register(today()):
        add_entry(
            session,
            actor=users["admin@example.org"],
            user=users["validator@example.org"],
            entry=entry,
            files=[],
        )
    validation.add_usual_reasons(session, actor=users["admin@example.org"])
    enrolments = {
        learner.email: enrol(
            session, actor=None, learner=learner, unit_code="TLII5018", assessor=assessor
        )
        for learner in (users["learner@example.org"], users["learner2@example.org"])
    }
    # One portfolio already assessed, so the review, history and exports have content.
    assessed_portfolio(
        session,
        enrolment=enrolments["learner2@example.org"],
        learner=users["learner2@example.org"],
        assessor=assessor,
    )
    enrol(
        session,
        actor=None,
        learner=users["learner@example.org"],
        unit_code="BSBCUS501",
        assessor=assessor,
    )
    # An observation checklist, as an assessor starts one: a line for each criterion and
    # performance evidence item, in the unit's words.
    release = enrolments["learner@example.org"].unit_release
    templates.create_template(
        session,
        actor=assessor,
        release=release,
        kind=TemplateKind.OBSERVATION,
        title=f"Observation at the workplace, {release.unit.code}",
        lines=templates.starting_lines(TemplateKind.OBSERVATION, templates.criteria(release)),
    )
    return True


def demo_register(on: date) -> list[Entry]:
    """The demo assessor's credentials: TAE40122, vocational competency in both demo units,
    and industry currency reviewed some months from ``on``."""
    held = CredentialBasis.HELD
    return [
        Entry(
            CredentialKind.TRAINING_AND_ASSESSMENT, "TAE40122", "", held, "", date(2023, 3, 1), None
        ),
        *(
            Entry(CredentialKind.VOCATIONAL, code, "", held, "", date(2019, 6, 1), None)
            for code in ("TLII5018", "BSBCUS501")
        ),
        Entry(
            CredentialKind.INDUSTRY_CURRENCY,
            "",
            "Weekend shifts as dispatch supervisor at a freight depot",
            held,
            "",
            on - timedelta(days=240),
            on + timedelta(days=180),
        ),
    ]


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
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.judged_alone)
            .order_by(Target.position)
        )
    )
    gap, covered = targets[-1], targets[:-1]
    work_done = today() - timedelta(days=60)
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
    decisions.start_review(session, actor=assessor, enrolment=enrolment)
    view = review.review_view(session, enrolment)
    decisions.accept_learner_mappings(session, actor=assessor, view=view, targets=covered)
    for submitted in view.items:
        for rule in EvidenceRule:
            decisions.check_evidence(
                session,
                actor=assessor,
                enrolment=enrolment,
                version=submitted.version,
                rule=rule,
                confirmed=True,
                note="",
                seen_version=0,
            )
    view = review.review_view(session, enrolment)
    gaps.sign_off_gap(
        session,
        actor=assessor,
        view=view,
        target=gap,
        method=GapMethod.COMPETENCY_CONVERSATION,
        held_on=today() - timedelta(days=2),
        notes="Discussed at the depot after the Monday briefing.",
        questions=[
            rules.Conversation(
                f"How does your work show this: {gap.text[:120]}?",
                "I walked through how the depot's procedures apply and gave two recent examples.",
            )
        ],
    )
    view = review.review_view(session, enrolment)
    for target in targets:
        decisions.judge(
            session,
            actor=assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="",
            seen_version=0,
        )
    view = review.review_view(session, enrolment)
    outcome.record_outcome(
        session, actor=assessor, view=view, result=OutcomeResult.COMPETENT, declared=True
    )
