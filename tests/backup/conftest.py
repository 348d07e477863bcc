"""Fixtures: a migrated instance full of real work, and empty instances to restore into.

Backups need the migration revision, so these instances are set up by ``flask db upgrade``
(the shared ``app`` fixture creates its tables directly). A second instance has a database of
its own: a second SQLite file, or on PostgreSQL the database ``<test database>_<name>``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import make_url, select, update
from sqlalchemy.sql import null

from portfolio import create_app
from portfolio.extensions import db
from tests.conftest import UNITS_DIR, _worker_database, database_url, reset_database
from tests.dates import TODAY


def invoke(instance: Flask, *args: str) -> Result:
    """Run ``flask <args>`` against ``instance``, as its own command line would."""
    with instance.app_context():
        return instance.test_cli_runner().invoke(args=list(args))


def is_postgresql() -> bool:
    url = os.environ.get("DATABASE_URL", "")
    return url.startswith(("postgres://", "postgresql"))


@pytest.fixture
def source(app: Flask) -> Flask:
    """The test's app, its database set up by the migrations."""
    reset_database()
    upgrade()
    return app


@pytest.fixture
def make_instance(app: Flask, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """``make_instance("restore")``: another app with an empty, migrated database and evidence
    folder of its own. ``sqlite=True`` gives it SQLite whatever the tests run on."""
    made: list[Flask] = []

    def make(name: str = "restore", *, sqlite: bool = False) -> Flask:
        if sqlite or not is_postgresql():
            url = f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        else:
            url = _worker_database(database_url(tmp_path), name)
            assert make_url(url).database.endswith(f"_{name}")
        instance = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "AUDIT_KEY": "test",  # the key travels apart from the backup, but must match
                "AUDIT_HEAD_FILE": str(tmp_path / f"audit-head-{name}.json"),
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "SQLALCHEMY_DATABASE_URI": url,
                "EVIDENCE_DIR": str(tmp_path / f"evidence-{name}"),
            }
        )
        with instance.app_context():
            reset_database()
            upgrade()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        with instance.app_context():
            db.session.remove()
            reset_database()
            db.engine.dispose()


def populate() -> None:
    """Work of every kind, through the services, in the current app's database.

    The demo accounts with Sam Learner's portfolio assessed Competent (evidence files, mapping
    decisions, rules of evidence, a signed-off gap, judgements, outcome); a judgement corrected
    after the outcome; Lee Learner's portfolio returned with feedback, changed (a new version of
    an item) and resubmitted, and a gap signed off by observation with two files, one of them
    identical to a file of Sam's; Lee's BSBCUS501 closed by a credit transfer with its
    transcript; Kim's MEM16003 decided not yet competent and reassessed, and Kim's SITXCCS008
    withdrawn; a unit release with no foundation skills at all (SQL NULL).
    """
    from portfolio.assessment import attempts, decisions, gaps, review, templates
    from portfolio.assessment import outcome as outcomes
    from portfolio.auth import links
    from portfolio.auth.services import create_user
    from portfolio.cohorts import services as cohorts
    from portfolio.credentials.rules import Entry
    from portfolio.credentials.services import add_entry, end_entry
    from portfolio.demo.samples import pdf_bytes, png_bytes
    from portfolio.enrolments import closing, holds
    from portfolio.enrolments.rules import CreditDocument
    from portfolio.enrolments.services import enrol
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item, set_item_mappings, submit, update_item
    from portfolio.files.uploads import hold_upload, store_upload
    from portfolio.models import (
        CredentialBasis,
        CredentialKind,
        Enrolment,
        EvidenceType,
        Finding,
        GapMethod,
        Job,
        JobState,
        LinkPurpose,
        Mail,
        MailState,
        OutcomeResult,
        Role,
        Target,
        TemplateKind,
        Unit,
        UnitRelease,
        User,
        VerificationRequest,
        VerificationState,
    )
    from portfolio.units.loader import load_directory
    from portfolio.units.sync import sync_units
    from portfolio.verification.rules import content_hashes

    session = db.session
    loaded = load_directory(UNITS_DIR)
    assert loaded.ok, loaded.problems
    sync_units(session, loaded.units)
    session.commit()
    outcome = current_app.test_cli_runner().invoke(args=["demo", "accounts"])
    assert outcome.exit_code == 0, outcome.output

    def user(email: str) -> User:
        return session.scalars(select(User).where(User.email == email)).one()

    def enrolment(email: str, code: str) -> Enrolment:
        return session.scalars(
            select(Enrolment)
            .join(Enrolment.unit_release)
            .join(UnitRelease.unit)
            .where(Enrolment.learner_id == user(email).id, Unit.code == code)
        ).one()

    assessor = user("assessor@example.org")

    # A correction after the outcome: a judgement that replaces an earlier one.
    sam = enrolment("learner2@example.org", "TLII5018")
    view = review.review_view(session, sam)
    first = view.targets[0]
    outcomes.correct_judgement(
        session,
        actor=assessor,
        view=view,
        target=first,
        finding=Finding.SATISFACTORY,
        comment="Seen again in the Q3 plan.",
        reason="Comment was missing.",
    )
    session.commit()

    # Lee: returned with feedback, a new version, resubmitted, a gap signed off with files.
    lee = user("learner@example.org")
    lee_tlii = enrolment("learner@example.org", "TLII5018")
    targets = list(
        session.scalars(
            select(Target)
            .where(Target.unit_release_id == lee_tlii.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        )
    )
    fields = ItemFields("Delivery schedule", EvidenceType.PLAN, date(2026, 8, 3), "First draft.")
    item = create_item(
        session,
        actor=lee,
        enrolment=lee_tlii,
        fields=fields,
        files=[store_upload(io.BytesIO(pdf_bytes("Delivery schedule")), "schedule.pdf")],
    )
    set_item_mappings(session, actor=lee, item=item, notes={targets[0].id: "The schedule."})
    submit(session, actor=lee, enrolment=lee_tlii, declared=True)
    decisions.start_review(session, actor=assessor, enrolment=lee_tlii)
    view = review.review_view(session, lee_tlii)
    gaps.return_to_learner(
        session,
        actor=assessor,
        view=view,
        feedback={targets[1].id: "Show how you monitor the schedule."},
        overall="Nearly there.",
    )
    session.commit()
    update_item(
        session,
        actor=lee,
        item=item,
        fields=ItemFields(
            "Delivery schedule", EvidenceType.PLAN, date(2026, 8, 3), "With weekly checks."
        ),
        add_files=[],
    )
    submit(session, actor=lee, enrolment=lee_tlii, declared=True)
    decisions.start_review(session, actor=assessor, enrolment=lee_tlii)
    view = review.review_view(session, lee_tlii)
    gaps.sign_off_gap(
        session,
        actor=assessor,
        view=view,
        target=targets[1],
        method=GapMethod.DIRECT_OBSERVATION,
        held_on=date(2026, 11, 2),
        notes="Watched Lee run the Monday schedule check.",
        files=[
            store_upload(io.BytesIO(pdf_bytes("Observation checklist")), "checklist.pdf"),
            store_upload(io.BytesIO(png_bytes(64, 48)), "board.png"),  # as Sam's photo
        ],
    )
    # A checklist filled in for another gap: the template and the record as ticked.
    gap = next(t for t in view.targets if view.is_gap(t))
    checklist = templates.create_template(
        session,
        actor=assessor,
        release=lee_tlii.unit_release,
        kind=TemplateKind.OBSERVATION,
        title="Depot observation",
        lines={gap.id: ["Checks the schedule against the board"]},
    )
    templates.record_with_template(
        session,
        actor=assessor,
        view=view,
        template=checklist,
        seen_version=checklist.lock_version,
        filled={checklist.items[0].id: templates.Filled(seen=True, note="Before the 7:00 start.")},
        held_on=date(2026, 11, 2),
        notes="",
    )
    session.commit()

    # Lee's BSBCUS501: credit transfer on a verified transcript (a closure with its file).
    admin = user("admin@example.org")
    # The assessor's register: a credential with its certificate, and an entry since ended.
    add_entry(
        session,
        actor=admin,
        user=assessor,
        entry=Entry(
            CredentialKind.TRAINING_AND_ASSESSMENT,
            "TAE40122",
            "",
            CredentialBasis.HELD,
            "",
            date(2024, 5, 1),
            None,
        ),
        files=[store_upload(io.BytesIO(pdf_bytes("TAE40122 certificate")), "tae.pdf")],
    )
    mistaken = add_entry(
        session,
        actor=admin,
        user=assessor,
        entry=Entry(
            CredentialKind.VOCATIONAL, "BSBCUS501", "", CredentialBasis.HELD, "", TODAY, None
        ),
        files=[],
    )
    end_entry(session, actor=admin, credential=mistaken, reason="Entered in error.")
    closing.credit_transfer(
        session,
        actor=admin,
        enrolment=enrolment("learner@example.org", "BSBCUS501"),
        closed_on=TODAY,
        document=CreditDocument("Another RTO (91234)", "T-22", date(2025, 6, 1)),
        files=[store_upload(io.BytesIO(pdf_bytes("Transcript")), "transcript.pdf")],
    )
    # A new learner: MEM16003 decided not yet competent, then a second attempt opened; and a
    # withdrawal from SITXCCS008.
    kim = create_user(
        session, actor=admin, name="Kim Learner", email="kim@example.org", roles={Role.LEARNER}
    )
    kim_mem = enrol(session, actor=admin, learner=kim, unit_code="MEM16003", assessor=assessor)
    notes = create_item(
        session,
        actor=kim,
        enrolment=kim_mem,
        fields=ItemFields("Customer notes", EvidenceType.REPORT, date(2026, 9, 1), "Notes."),
        files=[],
    )
    # Kim's supervisor confirmed the notes and signed (a drawing kept as bytes, the hashes
    # seen as JSON), as the verification service records an answer; the email is not needed.
    session.add(
        VerificationRequest(
            enrolment_id=kim_mem.id,
            version_id=notes.current_version.id,
            requested_by_id=kim.id,
            verifier_name="Pat Supervisor",
            verifier_email="pat@works.example.com",
            verifier_position="Shift lead",
            verifier_organisation="Works Ltd",
            relationship_to_learner="Supervisor",
            token_hash="1" * 64,
            expires_at=datetime(2026, 12, 1, tzinfo=UTC),
            state=VerificationState.CONFIRMED,
            closed_at=datetime(2026, 11, 20, tzinfo=UTC),
            statements={"own_work": True, "normal_performance": True, "dates_right": True},
            signer_name="Pat Supervisor",
            signature_png=png_bytes(120, 40),
            confirmed_hashes=content_hashes(notes.current_version),
        )
    )
    # A photo Kim uploaded ahead of a form she has not sent yet.
    hold_upload(
        session,
        store_upload(io.BytesIO(png_bytes(32, 24)), "site.png"),
        enrolment=kim_mem,
        user=kim,
    )
    submit(session, actor=kim, enrolment=kim_mem, declared=True)
    decisions.start_review(session, actor=assessor, enrolment=kim_mem)
    view = review.review_view(session, kim_mem)
    for target in view.targets:
        decisions.judge(
            session,
            actor=assessor,
            view=view,
            target=target,
            finding=Finding.NOT_YET_SATISFACTORY,
            comment="Not shown yet.",
            seen_version=0,
        )
    outcomes.record_outcome(
        session,
        actor=assessor,
        view=review.review_view(session, kim_mem),
        result=OutcomeResult.NOT_YET_COMPETENT,
        declared=True,
    )
    attempts.open_reassessment(
        session,
        actor=assessor,
        view=review.review_view(session, kim_mem),
        plan="Show the customer contacts.",
        due_on=TODAY,
        allowed=2,
    )
    kim_sitx = enrol(session, actor=admin, learner=kim, unit_code="SITXCCS008")
    closing.withdraw(
        session, actor=admin, enrolment=kim_sitx, closed_on=TODAY, reason="Changed jobs."
    )
    # Kept past its retention dates: a hold placed and lifted, and one in place.
    holds.place_hold(session, actor=admin, enrolment=kim_sitx, reason="Complaint C-1.")
    holds.lift_hold(session, actor=admin, enrolment=kim_sitx, reason="Complaint resolved.")
    holds.place_hold(session, actor=admin, enrolment=kim_sitx, reason="Appeal A-2.")
    # A bundle that could not be built: its job stays on record with the reason.
    session.add(
        Job(
            id="bundle1",
            kind="bundle",
            params={"unit_code": "TLII5018"},
            description="TLII5018",
            state=JobState.FAILED,
            total=1,
            attempts=3,
            message="An evidence file is missing from the store.",
            requested_by_id=admin.id,
        )
    )
    # A set-up link not used yet, an email the server refused, and a cohort.
    links.issue(session, actor=admin, user=kim, purpose=LinkPurpose.SETUP)
    session.add(
        Mail(
            user_id=kim.id,
            to_address=kim.email,
            kind="enrolment.decided",
            subject="The outcome of MEM16003 is recorded",
            text_body="Hello Kim",
            html_body="<p>Hello Kim</p>",
            state=MailState.FAILED,
            attempts=3,
            error="SMTPRecipientsRefused: 550",
        )
    )
    intake = cohorts.create_cohort(session, actor=admin, name="Intake 2027", description="")
    cohorts.add_members(session, actor=admin, cohort=intake, keys=["kim@example.org"])
    session.commit()

    # A validation of TLII5018 with its draw, a finding, the tool review and an action.
    from portfolio.clock import today
    from portfolio.validation import services as validation

    plan = validation.save_plan(
        session,
        actor=admin,
        unit=sam.unit_release.unit,
        risk="medium",
        reasons=["New assessor"],
        notes="First year on scope.",
    )
    validator = user("validator@example.org")
    drawn = validation.draw_sample(
        session,
        actor=admin,
        plan=plan,
        decided_from=today() - timedelta(days=400),
        decided_to=today(),
        size=1,
        seed="backup",
        validator_ids=[validator.id],
    )
    sampled = drawn.samples[0]
    targets = [(t.id, t.ref) for t in review.review_view(session, sampled.enrolment).targets]
    validation.record_findings(
        session,
        actor=validator,
        sample=sampled,
        targets=targets,
        answers={
            t: (i > 0, "" if i else "Not shown in the plan.") for i, (t, _) in enumerate(targets)
        },
    )
    validation.review_tool(
        session,
        actor=validator,
        validation=drawn,
        answers={"consistent": True, "sufficient": True, "valid": True},
        note="",
    )
    validation.open_action(
        session,
        actor=admin,
        validation=drawn,
        what="Rewrite task 1",
        owner=validator,
        due_on=today() + timedelta(days=20),
    )
    session.commit()

    session.execute(update(UnitRelease).where(UnitRelease.id == 1).values(foundation_skills=null()))
    session.commit()
