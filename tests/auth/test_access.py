"""Every route refuses the wrong role and the wrong owner, on the server.

A person outside an object's scope gets 404 (its existence is not confirmed); a person who may
see it but not do that gets 403; someone not logged in is sent to the login page.

The assessor's review routes need the portfolio in a given state (submitted to start a review,
in review to judge, decided to correct); each case brings the world to that state through the
same services the learner and the assessor use, then sends its one request.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from portfolio.assessment import decisions, gaps, matrix, outcome, review, rules, templates
from portfolio.audit.exports import EXPORT_ACTION
from portfolio.auth.services import create_user
from portfolio.cohorts import services as cohorts
from portfolio.enrolments import holds
from portfolio.evidence.services import set_item_mappings, submit
from portfolio.exports.bundle import Selection
from portfolio.exports.jobs import find_bundle, start_bundle
from portfolio.extensions import db
from portfolio.files.uploads import store_upload
from portfolio.models import (
    AccountLink,
    AssessmentState,
    AssessmentTemplate,
    AuditEvent,
    Cohort,
    CohortMember,
    Credential,
    Enrolment,
    EvidenceCheck,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceRule,
    EvidenceVersion,
    Finding,
    GapFeedback,
    GapMethod,
    GapSignoff,
    Job,
    Judgement,
    Mail,
    MailState,
    MappingDecision,
    OutcomeResult,
    RiskReason,
    Role,
    SignoffFile,
    Submission,
    Target,
    TemplateItem,
    TemplateKind,
    UnitOutcome,
    UnitRelease,
    User,
    Validation,
    ValidationAction,
    ValidationFinding,
    ValidationPlan,
    VerificationRequest,
    VerificationState,
)
from portfolio.models.base import utcnow
from portfolio.verification.rules import content_hashes
from tests.conftest import PASSWORD
from tests.dates import TODAY
from tests.files import docx_bytes, png_bytes
from tests.snapshots import Snapshots

PERSONAS = ["anonymous", "owner", "other_learner", "assessor", "other_assessor", "admin"]
VIEWERS = {"owner", "assessor", "admin"}
OWNER = {"owner"}
ADMIN = {"admin"}
EVERYONE = {"owner", "other_learner", "assessor", "other_assessor", "admin"}
ASSESSORS = {"assessor", "other_assessor"}
ASSESSOR = {"assessor"}
REVIEW_VIEWERS = {"assessor", "admin"}
# Logged in, but the owner's enrolment is none of their business: it does not exist for them.
STRANGERS = {"other_learner", "other_assessor"}
# Observation checklists and question banks are the RTO's: any assessor or admin keeps them.
STAFF = {"assessor", "other_assessor", "admin"}


@dataclass
class World:
    users: dict
    ids: dict


@pytest.fixture(autouse=True)
def bundles_at_once(app: Flask) -> None:
    """A bundle is built before its start request returns, so its pages can be checked at once."""
    app.config["JOBS_SYNCHRONOUS"] = True


@pytest.fixture
def world(app, client, make_user, make_enrolment, login) -> World:
    """Two learners, each with an assessor, the first with a Word file in their portfolio."""
    return make_world(app, client, make_user, make_enrolment, login)


def make_world(app, client, make_user, make_enrolment, login) -> World:
    users = {
        "owner": make_user("learner"),
        "other_learner": make_user("learner"),
        "assessor": make_user("assessor"),
        "other_assessor": make_user("assessor"),
        "admin": make_user("admin"),
    }
    mine = make_enrolment(learner=users["owner"], assessor=users["assessor"])
    make_enrolment(learner=users["other_learner"], assessor=users["other_assessor"])
    login(users["owner"])
    client.post(
        f"/enrolments/{mine.id}/evidence/new",
        data={
            "title": "Log",
            "evidence_type": "complaint_log",
            "work_date": "2026-10-01",
            "files": [(io.BytesIO(docx_bytes()), "log.docx")],
        },
        content_type="multipart/form-data",
    )
    client.post("/logout")
    item = db.session.scalar(select(EvidenceItem))
    target = db.session.scalar(select(Target).where(Target.unit_release_id == mine.unit_release_id))
    criteria = db.session.scalars(
        select(Target)
        .where(Target.unit_release_id == mine.unit_release_id, Target.is_group.is_(False))
        .order_by(Target.position)
    ).all()
    ids = {
        "enrolment": mine.id,
        "item": item.id,
        "file": item.current_version.files[0].id,
        "target": target.id,
        "user": users["other_learner"].id,
        "other_assessor": users["other_assessor"].id,
        "assessor_user": users["assessor"].id,
        # For the review: the learner maps the log to every criterion but the last, a gap.
        "mapped": criteria[0].id,
        "gap": criteria[-1].id,
    }
    # A checklist with one line on the gap, for the templates' pages.
    template = templates.create_template(
        db.session,
        actor=users["admin"],
        release=mine.unit_release,
        kind=TemplateKind.OBSERVATION,
        title="Service desk observation",
        lines={criteria[-1].id: ["Escalates a complaint it cannot resolve"]},
    )
    db.session.commit()
    ids["template"], ids["template_item"] = template.id, template.items[0].id
    return World(users, ids)


STAGES = ["draft", "submitted", "in_review", "judged", "decided"]


def reach(world: World, stage: str) -> None:
    """Bring the owner's enrolment to ``stage`` the way its people would, one service at a time.

    submitted: the learner maps the log to every criterion but one and hands it in.
    in_review: the assigned assessor starts the review; the learner's mappings await a decision.
    judged: the assessor accepts the mappings, closes the gap by a competency conversation and
    judges every criterion satisfactory; still in review, ready for the outcome.
    decided: the assessor records Competent with the declaration.
    """
    wanted = STAGES.index(stage)
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    learner, assessor = world.users["owner"], world.users["assessor"]
    item = db.session.get(EvidenceItem, world.ids["item"])
    gap = db.session.get(Target, world.ids["gap"])
    if wanted >= STAGES.index("submitted"):
        criteria = db.session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .where(Target.id != gap.id)
        ).all()
        notes = {t.id: f"The log shows {t.ref} in the callback rows" for t in criteria}
        set_item_mappings(db.session, actor=learner, item=item, notes=notes)
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        db.session.commit()
        world.ids["version"] = item.current_version_id
    if wanted >= STAGES.index("in_review"):
        decisions.start_review(db.session, actor=assessor, enrolment=enrolment)
        db.session.commit()
        sections = matrix.matrix_sections(review.review_view(db.session, enrolment))
        world.ids["section"] = next(
            s.anchor for s in sections if any(t.id == world.ids["mapped"] for t in s.targets)
        )
    if wanted >= STAGES.index("judged"):
        view = review.review_view(db.session, enrolment)
        decisions.accept_learner_mappings(
            db.session, actor=assessor, view=view, targets=view.targets
        )
        view = review.review_view(db.session, enrolment)
        signoff = gaps.sign_off_gap(
            db.session,
            actor=assessor,
            view=view,
            target=gap,
            method=GapMethod.COMPETENCY_CONVERSATION,
            held_on=TODAY,
            notes="Talked it through at the service desk.",
            questions=[rules.Conversation("How do you close a complaint?", "Call back, then log.")],
            files=[store_upload(io.BytesIO(png_bytes()), "notes.png")],
        )
        view = review.review_view(db.session, enrolment)
        for target in view.targets:
            decisions.judge(
                db.session,
                actor=assessor,
                view=view,
                target=target,
                finding=Finding.SATISFACTORY,
                comment="Shown in the log.",
                seen_version=0,
            )
        db.session.commit()
        world.ids["signoff_file"] = signoff.files[0].id
    if wanted >= STAGES.index("decided"):
        outcome.record_outcome(
            db.session,
            actor=assessor,
            view=review.review_view(db.session, enrolment),
            result=OutcomeResult.COMPETENT,
            declared=True,
        )
        db.session.commit()
    db.session.expire_all()
    assert (
        enrolment.state
        is {
            "draft": AssessmentState.DRAFT,
            "submitted": AssessmentState.SUBMITTED,
            "in_review": AssessmentState.IN_REVIEW,
            "judged": AssessmentState.IN_REVIEW,
            "decided": AssessmentState.DECIDED,
        }[stage]
    )


def staged(app: Flask, snapshots: Snapshots, route: Route, make: Callable[[], World]) -> World:
    """The world brought to the route's stage and prepared for it: built by ``reach`` and the
    route's ``prepare`` the first time, then restored from a copy for every later persona."""

    def build() -> tuple[dict[str, int], dict]:
        world = make()
        reach(world, route.stage)
        if route.prepare:
            route.prepare(app, world)
        return {persona: user.id for persona, user in world.users.items()}, dict(world.ids)

    name = f"access {route.stage} {route.prepare.__name__ if route.prepare else ''}"
    users, ids = snapshots.restore(app, name, build)
    return World({persona: db.session.get(User, id) for persona, id in users.items()}, dict(ids))


Body = Callable[[World], dict]
Prepare = Callable[[Flask, World], None]


@dataclass(frozen=True)
class Route:
    """One request in the matrix; a POST carries a body that changes something when allowed."""

    method: str
    path: str
    allowed: set[str]
    body: Body | None = None
    # The state the owner's enrolment is brought to first (see ``reach``).
    stage: str = "draft"
    # Tells apart several bodies sent to one route.
    label: str = ""
    # Run after ``reach`` and before the request, to make what the route needs (a bundle job).
    prepare: Prepare | None = None
    # The kind of export an allowed request records ("pack", "bundle", ...): its one change.
    export: str | None = None
    # False for a POST that only shows something (a file checked before it is imported).
    changes: bool = True
    # Mail on, through the test SMTP server (a route that sends a link refuses without it).
    mail: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.label}]" if self.label else "")

    @property
    def scoped(self) -> bool:
        """Whether the route is about the owner's enrolment (so strangers get 404, not 403)."""
        return self.path.startswith(
            ("/enrolments/{", "/evidence/{", "/files/{", "/verifications/{")
        )

    def refusal(self, persona: str) -> int:
        """The status a logged-in persona not allowed here gets."""
        if self.path.startswith("/dashboard/"):
            return 404
        if self.path.startswith(("/validations/{", "/validation-actions/{")):
            # Staff not named on the validation (or not the action's owner) are not told it
            # exists; learners are refused by role; the validators and admins see it.
            return 404 if persona == "assessor" else 403
        return 404 if self.scoped and persona in STRANGERS else 403


def item_body(world: World) -> dict:
    return {
        "title": "Rota for the weekend",
        "evidence_type": "plan",
        "work_date": "2026-10-02",
        "description": "Who covered the front desk.",
    }


def edit_body(world: World) -> dict:
    return {"title": "Log (revised)", "evidence_type": "complaint_log", "work_date": "2026-10-01"}


def map_body(world: World) -> dict:
    target = world.ids["target"]
    return {"target": [target], f"note-{target}": "Row 3 records the callback"}


def attach_body(world: World) -> dict:
    item = world.ids["item"]
    return {"item": [item], f"note-{item}": "Row 3 records the callback"}


def upload_body(world: World) -> dict:
    return {"file": (io.BytesIO(png_bytes()), "rota.png")}


def new_user_body(world: World) -> dict:
    return {
        "name": "Nina New",
        "email": "nina.new@example.org",
        "roles": ["assessor"],
        "password": "a long enough password",
    }


def import_body(world: World) -> dict:
    """The checked file, confirmed: it creates the account (sending the file only shows it)."""
    return {"data": "Name,Email,Student ID,USI\nAlex Nguyen,alex@example.org,S1001,\n"}


def preview_body(world: World) -> dict:
    csv = b"name,email,student_id,usi\nAlex Nguyen,alex@example.org,S1001,\n"
    return {"file": (io.BytesIO(csv), "learners.csv")}


def account_body(world: World) -> dict:
    return {"name": "Other Learner (renamed)", "email": "renamed@example.org", "roles": ["learner"]}


def not_set_up(app: Flask, world: World) -> None:
    """An account made without a password, waiting for its holder to choose one."""
    user = create_user(
        db.session, actor=None, name="Newly Made", email="newly@example.org", roles={Role.LEARNER}
    )
    db.session.commit()
    world.ids["user"] = user.id


def failed_mail(app: Flask, world: World) -> None:
    """An email the server refused, for an admin to send again."""
    mail = Mail(
        user_id=world.users["owner"].id,
        to_address=world.users["owner"].email,
        kind="digest",
        subject="Updates",
        text_body="-",
        html_body="-",
        state=MailState.FAILED,
        error="SMTPRecipientsRefused",
    )
    db.session.add(mail)
    db.session.commit()
    world.ids["mail"] = mail.id


def a_cohort(app: Flask, world: World) -> None:
    """A cohort with the other learner in it."""
    cohort = cohorts.create_cohort(
        db.session, actor=world.users["admin"], name="Intake", description=""
    )
    cohorts.add_members(
        db.session,
        actor=world.users["admin"],
        cohort=cohort,
        keys=[world.users["other_learner"].email],
    )
    db.session.commit()
    world.ids["cohort"] = cohort.id


def password_body(world: World) -> dict:
    return {
        "current_password": PASSWORD,
        "new_password": "violet tram 4 harbour",
        "confirm": "violet tram 4 harbour",
    }


def unit_import_body(world: World) -> dict:
    text = (Path(__file__).resolve().parents[1] / "units" / "texts" / "TAEASS301.txt").read_text()
    return {
        "text": text,
        "code": "TAEASS301",
        "title": "Contribute to assessment",
        "release": "1",
        "save": "1",
    }


def enrol_body(world: World) -> dict:
    return {"learner": world.users["other_learner"].email, "unit": "BSBCUS501", "assessor": "0"}


def decision_body(decision: str) -> Body:
    """Accept or reject the learner's mapping of the log, or map it to the gap yourself."""

    def body(world: World) -> dict:
        target = world.ids["gap" if decision == "add" else "mapped"]
        note = {"accept": "Row 3 shows it", "reject": "Not this row", "add": "Row 7 shows it"}
        return {
            "version": world.ids["version"],
            "target": target,
            "decision": decision,
            "note": note[decision],
        }

    return body


def judgement_body(world: World) -> dict:
    return {
        "target": world.ids["gap"],
        "seen": 0,
        "finding": "not_yet_satisfactory",
        "comment": "Nothing in the portfolio shows this yet.",
    }


def check_body(world: World) -> dict:
    return {
        "version": world.ids["version"],
        "rule": "authentic",
        "seen": 0,
        "confirmed": "yes",
        "note": "Signed by the supervisor.",
    }


def flag_authentic(app: Flask, world: World) -> None:
    """The assessor flags the log's authenticity, so there is a flag to override."""
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    version = db.session.get(EvidenceVersion, world.ids["version"])
    check = decisions.check_evidence(
        db.session,
        actor=world.users["assessor"],
        enrolment=enrolment,
        version=version,
        rule=EvidenceRule.AUTHENTIC,
        confirmed=False,
        note="Unsigned",
        seen_version=0,
    )
    db.session.commit()
    world.ids["flag_seen"] = check.lock_version


def override_body(world: World) -> dict:
    return {"rule": "authentic", "seen": world.ids["flag_seen"], "reason": "Supervisor phoned."}


def not_yet_competent(app: Flask, world: World) -> None:
    """The assessor corrects the outcome to Not yet competent, so another attempt can open."""
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    outcome.correct_outcome(
        db.session,
        actor=world.users["assessor"],
        view=review.review_view(db.session, enrolment),
        result=OutcomeResult.NOT_YET_COMPETENT,
        reason="The log was a colleague's.",
    )
    db.session.commit()


def on_hold(app: Flask, world: World) -> None:
    """An admin has placed a legal hold, so there is one to lift."""
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    holds.place_hold(
        db.session, actor=world.users["admin"], enrolment=enrolment, reason="Complaint C-14"
    )
    db.session.commit()


def reassessment_body(world: World) -> dict:
    return {"plan": "Show escalating a complaint.", "due_on": TODAY.isoformat()}


def withdraw_body(world: World) -> dict:
    return {"w-closed_on": TODAY.isoformat(), "w-reason": "Left the job."}


def credit_body(world: World) -> dict:
    return {
        "c-issuing_rto": "Another RTO (91234)",
        "c-document_number": "ST-2231",
        "c-document_date": TODAY.isoformat(),
        "c-closed_on": TODAY.isoformat(),
        "c-files": (io.BytesIO(png_bytes()), "transcript.png"),
    }


def signoff_body(world: World) -> dict:
    return {
        "method": "competency_conversation",
        "held_on": TODAY.isoformat(),
        "notes": "Talked it through at the service desk.",
        "questions-0-question": "How do you escalate a complaint you cannot resolve?",
        "questions-0-answer": "To the team leader, the same day, and I log it.",
    }


def return_body(world: World) -> dict:
    return {
        f"feedback-{world.ids['gap']}": "Add evidence of escalating a complaint.",
        "overall": "Nearly there: one criterion to go.",
    }


def correct_judgement_body(world: World) -> dict:
    return {
        "finding": "satisfactory",
        "comment": "Rows 3 and 9 show it.",
        "reason": "The comment named the wrong row.",
    }


def correct_signoff_body(world: World) -> dict:
    return {
        "method": "competency_conversation",
        "held_on": TODAY.isoformat(),
        "notes": "Talked it through at the service desk, with the team leader present.",
        "questions-0-question": "How do you close a complaint?",
        "questions-0-answer": "Call back, then log.",
        "keep": [str(world.ids["signoff_file"])],
        "reason": "The team leader was there too.",
    }


def template_body(world: World) -> dict:
    return {"title": "Complaints desk", f"lines-{world.ids['gap']}": "Logs the complaint"}


def fill_body(world: World) -> dict:
    return {
        "version": "1",
        "held_on": TODAY.isoformat(),
        f"seen-{world.ids['template_item']}": "y",
        f"note-{world.ids['template_item']}": "Escalated to the team leader by phone.",
    }


def correct_outcome_body(world: World) -> dict:
    return {"result": "not_yet_competent", "reason": "The log turned out to be a colleague's."}


def bundle_body(world: World) -> dict:
    return {"b-unit": "TLII5018"}


def finished_bundle(app: Flask, world: World) -> None:
    """A bundle of the owner's decided enrolment, built by the admin through the real job."""
    job = start_bundle(app, Selection(unit_code="TLII5018"), world.users["admin"])
    db.session.expire_all()
    built = find_bundle(db.session, job)
    assert built is not None and built.state.value == "done", built
    world.ids["job"] = job


def verifier_body(world: World) -> dict:
    return {
        "name": "Sam Supervisor",
        "email": "sam@depot.example.com",
        "position": "Depot manager",
        "organisation": "Harbour Depot",
        "relationship": "Direct supervisor",
    }


def a_verification(app: Flask, world: World, *, answered: bool = False) -> None:
    """A link sent to a supervisor about the log (answered: confirmed and signed), as the
    service keeps it; the email itself is not needed here."""
    from tests.verification.drawn import png

    item = db.session.get(EvidenceItem, world.ids["item"])
    request = VerificationRequest(
        enrolment_id=world.ids["enrolment"],
        version_id=item.current_version_id,
        requested_by_id=world.users["owner"].id,
        verifier_name="Sam Supervisor",
        verifier_email="sam@depot.example.com",
        verifier_position="Depot manager",
        verifier_organisation="Harbour Depot",
        relationship_to_learner="Direct supervisor",
        token_hash="0" * 64,
        expires_at=utcnow() + timedelta(days=14),
    )
    if answered:
        request.state = VerificationState.CONFIRMED
        request.closed_at = utcnow()
        request.statements = {"own_work": True, "normal_performance": True, "dates_right": True}
        request.signer_name = "Sam Supervisor"
        request.signature_png = png()
        request.confirmed_hashes = content_hashes(item.current_version)
    db.session.add(request)
    db.session.commit()
    world.ids["verification"] = request.id


def open_verification(app: Flask, world: World) -> None:
    a_verification(app, world)


def answered_verification(app: Flask, world: World) -> None:
    a_verification(app, world, answered=True)


def a_credential(app: Flask, world: World) -> None:
    """The assessor's TAE40122 on the register, with its certificate."""
    from portfolio.credentials.rules import Entry
    from portfolio.credentials.services import add_entry
    from portfolio.models import CredentialBasis, CredentialKind

    entry = add_entry(
        db.session,
        actor=world.users["admin"],
        user=world.users["assessor"],
        entry=Entry(
            CredentialKind.TRAINING_AND_ASSESSMENT,
            "TAE40122",
            "",
            CredentialBasis.HELD,
            "",
            TODAY - timedelta(days=400),
            None,
        ),
        files=[store_upload(io.BytesIO(png_bytes()), "certificate.png")],
    )
    db.session.commit()
    world.ids["credential"] = entry.id
    world.ids["credential_file"] = entry.files[0].id


def credential_body(world: World) -> dict:
    return {
        "kind": "vocational",
        "code": "TLII5018",
        "basis": "held",
        "starts_on": "2019-03-01",
    }


def a_validation(app: Flask, world: World, *, reviewed: bool = False) -> None:
    """The owner's decided enrolment drawn for a validation of its unit; the other assessor
    (with a TAE credential) its validator, and the owner of an action."""
    from portfolio.clock import today
    from portfolio.credentials.rules import Entry
    from portfolio.credentials.services import add_entry
    from portfolio.models import CredentialBasis, CredentialKind, Unit
    from portfolio.validation import services as validation

    admin, validator = world.users["admin"], world.users["other_assessor"]
    add_entry(
        db.session,
        actor=admin,
        user=validator,
        entry=Entry(
            CredentialKind.TRAINING_AND_ASSESSMENT,
            "TAE40122",
            "",
            CredentialBasis.HELD,
            "",
            today() - timedelta(days=400),
            None,
        ),
        files=[],
    )
    reason = validation.add_reason(db.session, actor=admin, label="New assessor")
    unit = db.session.scalar(select(Unit).where(Unit.code == "TLII5018"))
    plan = validation.save_plan(
        db.session, actor=admin, unit=unit, risk="low", reasons=["New assessor"], notes=""
    )
    drawn = validation.draw_sample(
        db.session,
        actor=admin,
        plan=plan,
        decided_from=today() - timedelta(days=30),
        decided_to=today(),
        size=1,
        seed="access",
        validator_ids=[validator.id],
    )
    action = validation.open_action(
        db.session,
        actor=admin,
        validation=drawn,
        what="Add a second plan to task 3",
        owner=validator,
        due_on=today() + timedelta(days=30),
    )
    if reviewed:
        sample = drawn.samples[0]
        targets = [(t.id, t.ref) for t in review.review_view(db.session, sample.enrolment).targets]
        validation.record_findings(
            db.session,
            actor=validator,
            sample=sample,
            targets=targets,
            answers={t: (True, "") for t, _ in targets},
        )
        validation.review_tool(
            db.session,
            actor=validator,
            validation=drawn,
            answers={"consistent": True, "sufficient": True, "valid": True},
            note="",
        )
    db.session.commit()
    world.ids.update(
        validation=drawn.id, sample=drawn.samples[0].id, reason=reason.id, action=action.id
    )


def reviewed_validation(app: Flask, world: World) -> None:
    a_validation(app, world, reviewed=True)


def findings_body(world: World) -> dict:
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    body = {}
    for target in review.review_view(db.session, enrolment).targets:
        body[f"agree-{target.id}"] = "yes"
    return body


def draw_body(world: World) -> dict:
    from portfolio.clock import today

    return {
        # Another period than the validation already drawn (a period is sampled once).
        "decided_from": (today() - timedelta(days=60)).isoformat(),
        "decided_to": today().isoformat(),
        "size": "1",
        "validators": [str(world.users["other_assessor"].id)],
    }


def action_body(world: World) -> dict:
    from portfolio.clock import today

    return {
        "what": "Reword task 2",
        "owner": str(world.users["admin"].id),
        "due_on": (today() + timedelta(days=10)).isoformat(),
    }


TOOL = {"consistent": "yes", "sufficient": "yes", "valid": "no", "note": "Task 4 is off the unit."}
#: A validation is seen by its validators (the other assessor here) and admins.
VALIDATION_VIEWERS = {"other_assessor", "admin"}
VALIDATOR = {"other_assessor"}
V = {"stage": "decided", "prepare": a_validation}


def under_direction(app: Flask, world: World) -> None:
    """The assigned assessor works under direction (no TAE credential, an arrangement); the
    other assessor holds every credential for TLII5018; one judgement waits for them."""
    from portfolio.clock import today
    from portfolio.credentials.rules import Entry
    from portfolio.credentials.services import add_entry
    from portfolio.models import CredentialBasis, CredentialKind

    held, admin = CredentialBasis.HELD, world.users["admin"]
    start, review_on = today() - timedelta(days=400), today() + timedelta(days=100)
    common = [
        Entry(CredentialKind.VOCATIONAL, "TLII5018", "", held, "", start, None),
        Entry(CredentialKind.INDUSTRY_CURRENCY, "", "Depot shifts", held, "", start, review_on),
    ]
    directed = Entry(
        CredentialKind.UNDER_DIRECTION, "", "Under direction", held, "", start, review_on
    )
    tae = Entry(CredentialKind.TRAINING_AND_ASSESSMENT, "TAE40122", "", held, "", start, None)
    for person, entries in (("assessor", [*common, directed]), ("other_assessor", [*common, tae])):
        for entry in entries:
            add_entry(db.session, actor=admin, user=world.users[person], entry=entry, files=[])
    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    view = review.review_view(db.session, enrolment)
    target = view.targets[0]
    app.config["CREDENTIALS_ENFORCED"] = True
    try:
        decisions.judge(
            db.session,
            actor=world.users["assessor"],
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="Seen again in the log.",
            seen_version=view.judgements[target.id].lock_version,
        )
    finally:
        app.config["CREDENTIALS_ENFORCED"] = False
    db.session.commit()


def countersign_body(world: World) -> dict:
    """What the countersigning page listed, as its form sends it back."""
    from portfolio.assessment import countersign

    enrolment = db.session.get(Enrolment, world.ids["enrolment"])
    view = review.review_view(db.session, enrolment)
    return {"seen": countersign.shown(countersign.waiting(view))}


REVIEW = "/enrolments/{enrolment}/review"


ROUTES = [
    Route("GET", "/dashboard", EVERYONE),
    Route("GET", "/enrolments/{enrolment}", VIEWERS),
    Route("GET", "/enrolments/{enrolment}/evidence/new", OWNER),
    Route("POST", "/enrolments/{enrolment}/evidence/new", OWNER, item_body),
    Route("POST", "/enrolments/{enrolment}/uploads", OWNER, upload_body),
    Route("GET", "/evidence/{item}", VIEWERS),
    Route("GET", "/evidence/{item}/edit", OWNER),
    Route("POST", "/evidence/{item}/edit", OWNER, edit_body),
    Route("GET", "/evidence/{item}/mappings", OWNER),
    Route("POST", "/evidence/{item}/mappings", OWNER, map_body),
    Route("GET", "/enrolments/{enrolment}/targets/{target}", OWNER),
    Route("POST", "/enrolments/{enrolment}/targets/{target}", OWNER, attach_body),
    Route("GET", "/enrolments/{enrolment}/submit", OWNER),
    Route("POST", "/enrolments/{enrolment}/submit", OWNER, lambda w: {"declared": "y"}),
    Route("GET", "/files/{file}", VIEWERS),
    Route("GET", "/files/{file}/inline", VIEWERS),
    Route("GET", "/files/{file}/preview", VIEWERS),
    # The credential register: kept by admins, read by each assessor for themselves.
    Route("GET", "/admin/users/{assessor_user}/credentials", ADMIN),
    Route("POST", "/admin/users/{assessor_user}/credentials", ADMIN, credential_body),
    Route(
        "POST",
        "/admin/credentials/{credential}/end",
        ADMIN,
        lambda w: {"reason": "Entered against the wrong person"},
        prepare=a_credential,
    ),
    Route("GET", "/admin/credentials", ADMIN),
    Route("GET", "/admin/credential-files/{credential_file}", ADMIN, prepare=a_credential),
    Route("GET", "/account/credentials", ASSESSORS),
    # Dashboards: the RTO's figures are the admin's; your own figures are yours (a figure that
    # is not yours does not exist for you).
    Route("GET", "/admin/reports", ADMIN),
    Route("POST", "/admin/reports/states.csv?unit=TLII5018", ADMIN, export="report"),
    Route("POST", "/dashboard/my-queue.csv", ASSESSORS, export="report"),
    Route("POST", "/dashboard/progress.csv", {"owner", "other_learner"}, export="report"),
    # Countersigning: a credentialed assessor of the unit (here the other assessor), never the
    # person under direction whose records wait.
    Route("GET", "/countersign", ASSESSORS),
    Route(
        "GET",
        "/enrolments/{enrolment}/countersign",
        {"other_assessor"},
        stage="judged",
        prepare=under_direction,
    ),
    Route(
        "POST",
        "/enrolments/{enrolment}/countersign",
        {"other_assessor"},
        countersign_body,
        stage="judged",
        prepare=under_direction,
    ),
    Route(
        "GET",
        "/enrolments/{enrolment}/countersign/files/{file}",
        {"other_assessor"},
        stage="judged",
        prepare=under_direction,
    ),
    # Validation: admins keep the reasons and plans, draw and complete; the named validators
    # review the sample; an action's owner closes it.
    Route("GET", "/admin/validation", ADMIN),
    Route("POST", "/admin/validation/reasons", ADMIN, lambda w: {"label": "Complaints"}),
    Route("POST", "/admin/validation/reasons/{reason}/retire", ADMIN, lambda w: {}, **V),
    Route("GET", "/admin/validation/TLII5018/plan", ADMIN),
    Route(
        "POST",
        "/admin/validation/TLII5018/plan",
        ADMIN,
        lambda w: {"risk": "high", "reasons": ["New assessor"]},
        **V,
    ),
    Route("GET", "/admin/validation/TLII5018/draw", ADMIN, **V),
    Route("POST", "/admin/validation/TLII5018/draw", ADMIN, draw_body, **V),
    Route("GET", "/validations", STAFF),
    Route("GET", "/validations/{validation}", VALIDATION_VIEWERS, **V),
    Route("POST", "/validations/{validation}/tool", VALIDATOR, lambda w: dict(TOOL), **V),
    Route("POST", "/validations/{validation}/actions", ADMIN, action_body, **V),
    Route(
        "POST",
        "/validation-actions/{action}/close",
        VALIDATION_VIEWERS,
        lambda w: {"changed": "Task 3 rewritten."},
        **V,
    ),
    Route(
        "POST",
        "/validations/{validation}/complete",
        ADMIN,
        lambda w: {},
        stage="decided",
        prepare=reviewed_validation,
    ),
    Route("GET", "/validations/{validation}/samples/{sample}", VALIDATION_VIEWERS, **V),
    Route("POST", "/validations/{validation}/samples/{sample}", VALIDATOR, findings_body, **V),
    Route(
        "GET", "/validations/{validation}/samples/{sample}/files/{file}", VALIDATION_VIEWERS, **V
    ),
    Route(
        "POST",
        "/validations/{validation}/report.docx",
        VALIDATION_VIEWERS,
        export="validation-report",
        **V,
    ),
    Route("POST", "/validations/{validation}/bundle", ADMIN, export="bundle", **V),
    # Asking a workplace supervisor to verify the log: its learner, or its assessor.
    Route("GET", "/evidence/{item}/verifications/new", OWNER | ASSESSOR),
    Route("POST", "/evidence/{item}/verifications/new", OWNER | ASSESSOR, verifier_body, mail=True),
    Route("GET", "/enrolments/{enrolment}/reports/new", OWNER | ASSESSOR),
    Route(
        "POST",
        "/enrolments/{enrolment}/reports/new",
        OWNER | ASSESSOR,
        lambda w: {**verifier_body(w), "target": [w.ids["gap"]]},
        mail=True,
    ),
    Route(
        "POST",
        "/verifications/{verification}/revoke",
        OWNER | ASSESSOR,
        lambda w: {},
        prepare=open_verification,
    ),
    Route(
        "POST",
        "/verifications/{verification}/check",
        ASSESSOR,
        lambda w: {"method": "phone_call", "note": "Rang the depot"},
        stage="in_review",
        prepare=answered_verification,
    ),
    Route("GET", "/admin/users", ADMIN),
    Route("GET", "/admin/users/new", ADMIN),
    Route("POST", "/admin/users/new", ADMIN, new_user_body),
    Route("POST", "/admin/users/{user}/active", ADMIN, lambda w: {"confirm": "y"}),
    Route("GET", "/admin/users/{user}", ADMIN),
    Route("POST", "/admin/users/{user}", ADMIN, account_body),
    Route("POST", "/admin/users/{user}/link", ADMIN, lambda w: {"confirm": "y"}),
    Route(
        "POST",
        "/admin/users/setup-links.csv",
        ADMIN,
        lambda w: {"confirm": "y", "user": [w.ids["user"]]},
        prepare=not_set_up,
    ),
    Route("GET", "/admin/users/import", ADMIN),
    Route("POST", "/admin/users/import", ADMIN, import_body),
    Route("POST", "/admin/users/import", ADMIN, preview_body, label="preview", changes=False),
    Route("GET", "/admin/mail", ADMIN),
    Route(
        "POST",
        "/admin/mail/again",
        ADMIN,
        lambda w: {"confirm": "y", "mail": [w.ids["mail"]]},
        prepare=failed_mail,
    ),
    # Cohorts: admins only.
    Route("GET", "/admin/cohorts", ADMIN),
    Route("POST", "/admin/cohorts", ADMIN, lambda w: {"name": "Night class"}),
    Route("GET", "/admin/cohorts/{cohort}", ADMIN, prepare=a_cohort),
    Route(
        "POST",
        "/admin/cohorts/{cohort}/members",
        ADMIN,
        lambda w: {"a-members": w.users["owner"].email},
        prepare=a_cohort,
    ),
    Route(
        "POST",
        "/admin/cohorts/{cohort}/members/{user}/remove",
        ADMIN,
        lambda w: {"confirm": "y"},
        prepare=a_cohort,
    ),
    Route(
        "POST",
        "/admin/cohorts/{cohort}/enrol",
        ADMIN,
        lambda w: {"e-units": ["BSBCUS501"], "e-assessor": 0},
        prepare=a_cohort,
    ),
    # One's own account: anyone logged in, for themselves only.
    Route("GET", "/account", EVERYONE),
    Route("POST", "/account", EVERYONE, lambda w: {"notify": "digest"}),
    Route("GET", "/account/password", EVERYONE),
    Route("POST", "/account/password", EVERYONE, password_body),
    Route("GET", "/admin/enrolments", ADMIN),
    Route("POST", "/admin/enrolments", ADMIN, enrol_body),
    Route("GET", "/admin/units/import", ADMIN),
    Route("POST", "/admin/units/import", ADMIN, unit_import_body),
    Route(
        "POST",
        "/admin/enrolments/{enrolment}/assessor",
        ADMIN,
        lambda w: {"assessor": w.ids["other_assessor"]},
    ),
    # The assessor's review: only the assigned assessor judges; an admin may look at it.
    Route("GET", "/review", ASSESSORS, stage="submitted"),
    Route("POST", f"{REVIEW}/start", ASSESSOR, lambda w: {}, stage="submitted"),
    Route("GET", REVIEW, REVIEW_VIEWERS, stage="in_review"),
    *(
        Route("POST", f"{REVIEW}/mappings", ASSESSOR, decision_body(d), stage="in_review", label=d)
        for d in ("accept", "reject", "add")
    ),
    Route("POST", f"{REVIEW}/judgements", ASSESSOR, judgement_body, stage="in_review"),
    Route(
        "POST",
        f"{REVIEW}/sections/{{section}}/satisfactory",
        ASSESSOR,
        lambda w: {},
        stage="in_review",
    ),
    Route("GET", f"{REVIEW}/items/{{version}}", REVIEW_VIEWERS, stage="in_review"),
    Route("POST", f"{REVIEW}/items/{{version}}", ASSESSOR, check_body, stage="in_review"),
    Route(
        "POST",
        f"{REVIEW}/items/{{version}}/decide",
        ASSESSOR,
        lambda w: {"checked": "y"},
        stage="in_review",
    ),
    Route(
        "POST",
        f"{REVIEW}/items/{{version}}/override",
        ASSESSOR,
        override_body,
        stage="in_review",
        prepare=flag_authentic,
    ),
    Route(
        "POST",
        f"{REVIEW}/items/{{version}}/reject",
        ASSESSOR,
        lambda w: {"note": "Not this log"},
        stage="in_review",
    ),
    Route("GET", f"{REVIEW}/gaps/{{gap}}", ASSESSOR, stage="in_review"),
    Route("POST", f"{REVIEW}/gaps/{{gap}}", ASSESSOR, signoff_body, stage="in_review"),
    Route("GET", f"{REVIEW}/signoff-files/{{signoff_file}}", REVIEW_VIEWERS, stage="judged"),
    Route("GET", f"{REVIEW}/return", ASSESSOR, stage="in_review"),
    Route("POST", f"{REVIEW}/return", ASSESSOR, return_body, stage="in_review"),
    Route("GET", f"{REVIEW}/outcome", ASSESSOR, stage="judged"),
    Route(
        "POST",
        f"{REVIEW}/outcome",
        ASSESSOR,
        lambda w: {"result": "competent", "declared": "y"},
        stage="judged",
    ),
    Route("GET", f"{REVIEW}/judgements/{{mapped}}/correct", ASSESSOR, stage="decided"),
    Route(
        "POST",
        f"{REVIEW}/judgements/{{mapped}}/correct",
        ASSESSOR,
        correct_judgement_body,
        stage="decided",
    ),
    Route("GET", f"{REVIEW}/gaps/{{gap}}/correct", ASSESSOR, stage="decided"),
    Route(
        "POST",
        f"{REVIEW}/gaps/{{gap}}/correct",
        ASSESSOR,
        correct_signoff_body,
        stage="decided",
    ),
    Route("GET", f"{REVIEW}/outcome/correct", ASSESSOR, stage="decided"),
    # Another attempt after Not yet competent: the assessor or an admin opens it.
    Route("GET", f"{REVIEW}/reassessment", REVIEW_VIEWERS, stage="decided"),
    Route(
        "POST",
        f"{REVIEW}/reassessment",
        REVIEW_VIEWERS,
        reassessment_body,
        stage="decided",
        prepare=not_yet_competent,
    ),
    # Checklists and question banks: any assessor or admin keeps them; only the enrolment's
    # assessor fills one in for its review.
    Route("GET", "/units/TLII5018/releases/1/templates", STAFF),
    Route("GET", "/units/TLII5018/releases/1/templates/new?kind=questions", STAFF),
    Route(
        "POST", "/units/TLII5018/releases/1/templates/new?kind=observation", STAFF, template_body
    ),
    Route("GET", "/templates/{template}/edit", STAFF),
    Route(
        "POST",
        "/templates/{template}/edit",
        STAFF,
        lambda w: {**template_body(w), "seen": "1"},
    ),
    Route("POST", "/templates/{template}/archive", STAFF, lambda w: {"seen": "1"}),
    Route("GET", f"{REVIEW}/templates/{{template}}", ASSESSOR, stage="in_review"),
    Route("POST", f"{REVIEW}/templates/{{template}}", ASSESSOR, fill_body, stage="in_review"),
    # Closing an enrolment other than by a judgement: admins only.
    Route("GET", "/admin/enrolments/{enrolment}/close", ADMIN),
    Route("POST", "/admin/enrolments/{enrolment}/withdraw", ADMIN, withdraw_body),
    Route("POST", "/admin/enrolments/{enrolment}/credit-transfer", ADMIN, credit_body),
    # Legal holds: admins only.
    Route("GET", "/admin/enrolments/{enrolment}/hold", ADMIN),
    Route(
        "POST",
        "/admin/enrolments/{enrolment}/hold",
        ADMIN,
        lambda w: {"p-reason": "Complaint C-14 lodged."},
    ),
    Route(
        "POST",
        "/admin/enrolments/{enrolment}/hold/lift",
        ADMIN,
        lambda w: {"l-lift_reason": "Complaint closed."},
        prepare=on_hold,
    ),
    Route("POST", f"{REVIEW}/outcome/correct", ASSESSOR, correct_outcome_body, stage="decided"),
    # The audit trail: an enrolment's history for its people, the whole log for admins.
    Route("GET", "/enrolments/{enrolment}/history", VIEWERS, stage="decided"),
    Route("GET", "/admin/audit", ADMIN, stage="decided"),
    # Exports: an evidence pack for those who see the review, everything else for admins only.
    # Each allowed download records who took a copy ("export.created"), and nothing else.
    Route(
        "POST",
        "/enrolments/{enrolment}/evidence-pack.docx",
        REVIEW_VIEWERS,
        stage="decided",
        export="pack",
    ),
    Route(
        "POST",
        "/enrolments/{enrolment}/evidence-pack.pdf",
        REVIEW_VIEWERS,
        stage="decided",
        export="pack",
    ),
    Route("GET", "/admin/exports", ADMIN, stage="decided"),
    Route(
        "POST",
        "/admin/exports/matrix.docx?m-unit=TLII5018",
        ADMIN,
        stage="decided",
        export="matrix",
    ),
    *(
        Route(
            "POST",
            f"/admin/exports/register?r-format={format}",
            ADMIN,
            stage="decided",
            export="register",
        )
        for format in ("csv", "xlsx")
    ),
    Route("POST", "/admin/exports/bundles", ADMIN, bundle_body, stage="decided", export="bundle"),
    # A unit's framework for Moodle or Mahara: the unit page is public, the exports are not.
    Route("POST", "/units/TLII5018/releases/1/moodle.csv", ADMIN, export="moodle-framework"),
    Route("POST", "/units/TLII5018/releases/1/mahara.matrix", ADMIN, export="mahara-framework"),
    # The progress page, its JSON and the ZIP, of a bundle the admin has already built;
    # taking the ZIP is itself a copy, recorded.
    *(
        Route(
            method,
            f"/admin/exports/bundles/{{job}}{page}",
            ADMIN,
            stage="decided",
            prepare=finished_bundle,
            export=kind,
        )
        for method, page, kind in (
            ("GET", "", None),
            ("GET", "/status", None),
            ("POST", "/download", "bundle-download"),
        )
    ),
]

# Reachable without logging in, or about one's own session: not part of the matrix.
PUBLIC = {
    "static",
    "bootstrap.static",
    "home",
    "auth.login",
    "auth.logout",
    # Asking for a reset link, and the one-time links themselves (tests/auth/test_links.py).
    "auth.forgot_password",
    "auth.setup",
    "auth.reset",
    # Single sign-on: the way to the provider and back (tests/auth/test_sso.py).
    "auth.sso_start",
    "auth.sso_callback",
    "units.index",
    "units.show",
    # A verifier's emailed link and the files it shows (tests/verification/).
    "verify.page",
    "verify.download",
    "verify.inline",
    "verify.preview",
    "report.third_party_report",
}


def endpoint_of(app: Flask, route: Route) -> str | None:
    """The endpoint the app serves the route's path and method with, or None if none."""
    path = route.path.format_map(defaultdict(lambda: "1")).partition("?")[0]
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=route.method)
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint


def database_state(app: Flask) -> dict[str, list]:
    """What a request could change: accounts, enrolments, evidence, submissions, the assessor's
    records, the audit log, stored files, bundles built or building."""
    db.session.expire_all()

    def rows(*columns) -> list:
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(columns[0]))]

    evidence_dir = Path(app.config["EVIDENCE_DIR"])
    return {
        "users": rows(
            User.id,
            User.email,
            User.name,
            User.active,
            User.notify,
            User.session_version,
            User.must_change_password,
        ),
        "account_links": rows(AccountLink.id, AccountLink.user_id, AccountLink.used_at),
        "mail": rows(Mail.id, Mail.state, Mail.attempts),
        "cohorts": rows(Cohort.id, Cohort.name),
        "cohort_members": rows(CohortMember.id, CohortMember.cohort_id, CohortMember.user_id),
        "enrolments": rows(
            Enrolment.id,
            Enrolment.learner_id,
            Enrolment.unit_release_id,
            Enrolment.assessor_id,
            Enrolment.is_rpl,
            Enrolment.state,
        ),
        "items": rows(EvidenceItem.id, EvidenceItem.current_version_id),
        "versions": rows(
            EvidenceVersion.id,
            EvidenceVersion.title,
            EvidenceVersion.evidence_type,
            EvidenceVersion.work_date,
            EvidenceVersion.description,
            EvidenceVersion.submission_id,
        ),
        "files": rows(EvidenceFile.id, EvidenceFile.version_id, EvidenceFile.storage_key),
        "mappings": rows(
            EvidenceMapping.id,
            EvidenceMapping.version_id,
            EvidenceMapping.target_id,
            EvidenceMapping.note,
        ),
        "submissions": rows(
            Submission.id,
            Submission.enrolment_id,
            Submission.round,
            Submission.review_started_at,
            Submission.returned_at,
            Submission.return_feedback,
        ),
        "decisions": rows(
            MappingDecision.id,
            MappingDecision.version_id,
            MappingDecision.target_id,
            MappingDecision.accepted,
            MappingDecision.note,
            MappingDecision.lock_version,
        ),
        "checks": rows(
            EvidenceCheck.id,
            EvidenceCheck.version_id,
            EvidenceCheck.rule,
            EvidenceCheck.confirmed,
            EvidenceCheck.note,
            EvidenceCheck.lock_version,
        ),
        "judgements": rows(
            Judgement.id,
            Judgement.target_id,
            Judgement.finding,
            Judgement.comment,
            Judgement.replaces_id,
            Judgement.lock_version,
            Judgement.countersigned_at,
        ),
        "signoffs": rows(GapSignoff.id, GapSignoff.target_id, GapSignoff.method, GapSignoff.notes),
        "templates": rows(
            AssessmentTemplate.id, AssessmentTemplate.title, AssessmentTemplate.archived_at
        ),
        "template_items": rows(TemplateItem.id, TemplateItem.template_id, TemplateItem.text),
        "signoff_files": rows(SignoffFile.id, SignoffFile.signoff_id, SignoffFile.storage_key),
        "gap_feedback": rows(GapFeedback.id, GapFeedback.submission_id, GapFeedback.target_id),
        "outcomes": rows(UnitOutcome.id, UnitOutcome.result, UnitOutcome.replaces_id),
        "audit": rows(AuditEvent.id, AuditEvent.action, AuditEvent.subject),
        "unit_releases": rows(UnitRelease.id, UnitRelease.release, UnitRelease.content_sha256),
        "stored": sorted(str(p) for p in evidence_dir.rglob("*") if p.is_file()),
        "jobs": rows(Job.id, Job.state, Job.result_key),
        "credentials": rows(Credential.id, Credential.code, Credential.ended_at),
        "validation": rows(Validation.id, Validation.tool_reviewed_at, Validation.completed_at),
        "validation_findings": rows(ValidationFinding.id, ValidationFinding.agrees),
        "validation_actions": rows(ValidationAction.id, ValidationAction.closed_at),
        "validation_plans": rows(ValidationPlan.id, ValidationPlan.risk),
        "risk_reasons": rows(RiskReason.id, RiskReason.retired_at),
        "verifications": rows(
            VerificationRequest.id,
            VerificationRequest.version_id,
            VerificationRequest.state,
            VerificationRequest.check_method,
            VerificationRequest.check_note,
        ),
    }


def assert_security_headers(response, *, signed_in: bool) -> None:
    """Whatever the answer (a page, a download, a refusal, a redirect), it carries a content
    security policy that no other site may frame, no sniffing, no referrer for other sites and,
    sent to someone logged in, no copy kept by the browser unless it says otherwise."""
    headers = response.headers
    policy = dict(
        d.strip().partition(" ")[::2] for d in headers["Content-Security-Policy"].split(";")
    )
    if "sandbox" in policy or policy["frame-ancestors"] == "'self'":
        # A stored file: it runs no script, and only our own item page may frame it.
        assert policy["frame-ancestors"] == "'self'"
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
    else:
        assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    if signed_in:
        assert "no-store" in headers["Cache-Control"] or "max-age=0" in headers["Cache-Control"]


def assert_one_export(before: dict, after: dict, kind: str, new_jobs: set[str]) -> None:
    """The request recorded one "export.created" event of ``kind`` and changed nothing else
    (but for ``new_jobs``, the job and stored ZIP of a bundle it built)."""
    old, new = before["audit"], after["audit"]
    assert new[: len(old)] == old, "an export changed an earlier audit event"
    assert [(action, subject) for _, action, subject in new[len(old) :]] == [
        (EXPORT_ACTION, f"export:{kind}")
    ]
    added = set(after["jobs"]) - set(before["jobs"])
    assert {job_id for job_id, _, _ in added} == new_jobs
    assert set(before["jobs"]) <= set(after["jobs"])
    files = set(after["stored"]) - set(before["stored"])
    assert sorted(Path(p).name for p in files) == sorted(
        key.rsplit("/", 1)[-1] for _, _, key in added
    )
    unchanged = set(before) - {"audit", "jobs", "stored"}
    assert set(before["stored"]) <= set(after["stored"])
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_access(
    request: pytest.FixtureRequest,
    app: Flask,
    snapshots: Snapshots,
    client: FlaskClient,
    make_user,
    make_enrolment,
    login,
    persona: str,
    route: Route,
) -> None:
    """Allowed people get the page or make the change; everyone else is refused, changing nothing.

    Every POST carries a body that really changes something when an allowed person sends it, so
    "nothing changed" for everyone else is a real check and not the result of an empty form.
    """
    world = staged(
        app, snapshots, route, lambda: make_world(app, client, make_user, make_enrolment, login)
    )
    if route.mail:
        request.getfixturevalue("smtp")
    if persona != "anonymous":
        login(world.users[persona])
    url = route.path.format(**world.ids)
    before = database_state(app)
    data = route.body(world) if route.body else None
    if route.method == "POST" and "?" in url:
        # A download's form fields, written as a query for brevity, are sent as its form does.
        url, _, query = url.partition("?")
        data = {**dict(parse_qsl(query)), **(data or {})}
    response = client.open(url, method=route.method, data=data)
    status, location = response.status_code, response.location or ""
    assert_security_headers(response, signed_in=persona != "anonymous")
    response.close()
    after = database_state(app)
    if persona in route.allowed:
        assert status < 400, (persona, url, status)
        assert "/login" not in location
        if route.export == "bundle":
            # Built at once (JOBS_SYNCHRONOUS); the next page follows its progress.
            assert status == 302, (persona, url, status)
            job = location.rsplit("/", 1)[-1]
            assert location.endswith(f"/admin/exports/bundles/{job}"), location
            assert_one_export(before, after, "bundle", {job})
        elif route.export:
            assert status == 200, (persona, url, status)
            assert_one_export(before, after, route.export, set())
        elif route.method == "POST" and route.changes:
            assert after != before, f"{persona}'s POST to {url} changed nothing"
        else:
            assert after == before
            if route.path.startswith("/admin/exports/"):  # a bundle's page, status and ZIP
                assert status == 200, (persona, url, status)
        return
    if persona == "anonymous":
        assert status == 302 and "/login" in location
    else:
        assert status == route.refusal(persona), (persona, url, status)
    assert after == before, f"{persona}'s refused {route.method} to {url} changed the database"


def test_matrix_covers_every_route(app: Flask) -> None:
    """Every method of every route that needs a login is in the matrix; a new one must join it."""
    unserved = [r.id for r in ROUTES if endpoint_of(app, r) is None]
    assert not unserved, f"in the matrix but not served by the app: {unserved}"
    covered = {(endpoint_of(app, r), r.method) for r in ROUTES}
    missing = sorted(
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (rule.endpoint, method) not in covered
    )
    assert not missing, missing


@pytest.mark.parametrize("persona", ["owner", "assessor", "admin"])
def test_guessed_file_ids_find_nothing(world: World, client: FlaskClient, login, persona) -> None:
    """Ids that do not exist are a plain 404 for everyone."""
    login(world.users[persona])
    for url in ("/files/999999", "/evidence/999999", "/enrolments/999999"):
        assert client.get(url).status_code == 404


def test_other_learners_file_by_id_is_not_found(world: World, client: FlaskClient, login):
    """A learner who guesses another learner's file id learns nothing about it."""
    login(world.users["other_learner"])
    response = client.get(f"/files/{world.ids['file']}")
    assert response.status_code == 404
    assert "log.docx" not in response.text
