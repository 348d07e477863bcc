"""Each service logs its change in its own transaction: who, in what role, what changed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from portfolio.audit.log import verify
from portfolio.auth.importing import import_learners
from portfolio.auth.services import create_user, set_active
from portfolio.enrolments.services import assign_assessor, enrol
from portfolio.enrolments.workflow import transition
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import (
    attach_to_target,
    create_item,
    set_item_mappings,
    submit,
    update_item,
)
from portfolio.extensions import db
from portfolio.files.uploads import NewFile
from portfolio.models import AssessmentState, EvidenceType, Role, Target
from tests.audit.conftest import events


def test_accounts_are_logged_without_their_passwords(app, make_user) -> None:
    """Created by an admin, deactivated, reactivated; the CLI without a user is "system"."""
    admin = make_user("admin")
    user = create_user(
        db.session,
        actor=admin,
        name="Pat Both",
        email="Pat@Example.org",
        roles={Role.LEARNER, Role.ASSESSOR},
        student_id="S100",
        password="a secret password",
    )
    db.session.commit()
    created = events("user.created")
    assert created[0].actor_id is None and created[0].actor_role == "system"  # the fixture
    event = created[-1]
    assert (event.actor_id, event.actor_role) == (admin.id, "admin")
    assert event.subject == f"user:{user.id}"
    assert event.before is None
    assert event.after == {
        "name": "Pat Both",
        "email": "pat@example.org",
        "roles": ["assessor", "learner"],
        "student_id": "S100",
        "usi": None,
        "active": True,
    }
    stored = json.dumps([e.after for e in events()])
    assert "a secret password" not in stored and user.password_hash not in stored
    assert "password" not in stored

    set_active(db.session, actor=admin, user=user, active=False)
    set_active(db.session, actor=admin, user=user, active=False)  # no change, no event
    set_active(db.session, actor=None, user=user, active=True)
    db.session.commit()
    changes = [
        (e.action, e.actor_id, e.actor_role, e.before, e.after)
        for e in events()
        if e.action.startswith("user.") and e.action != "user.created"
    ]
    assert changes == [
        ("user.deactivated", admin.id, "admin", {"active": True}, {"active": False}),
        ("user.activated", None, "system", {"active": False}, {"active": True}),
    ]
    assert verify(db.session).ok


def test_import_logs_one_event_per_learner_and_none_when_refused(app, make_user) -> None:
    """A clean file logs each account; a file with one bad row logs nothing."""
    admin = make_user("admin")
    before = len(events())
    bad = b"name,email\nAl One,al@example.org\nNo Email,\n"
    assert import_learners(db.session, actor=admin, data=bad).problems
    db.session.rollback()
    assert len(events()) == before

    good = b"name,email,student_id\nAl One,al@example.org,S1\nBo Two,bo@example.org,S2\n"
    result = import_learners(db.session, actor=admin, data=good)
    db.session.commit()
    logged = events()[before:]
    assert [e.action for e in logged] == ["user.created", "user.created"]
    assert [e.after["email"] for e in logged] == ["al@example.org", "bo@example.org"]
    assert [e.subject for e in logged] == [f"user:{u.id}" for u in result.created]
    assert {(e.actor_id, e.actor_role) for e in logged} == {(admin.id, "admin")}
    assert all(e.after["roles"] == ["learner"] for e in logged)


def test_enrolment_and_assessor_changes_are_logged(app, synced, make_user) -> None:
    """Enrolling names unit, release, RPL and assessor; reassigning says from whom to whom."""
    admin, learner = make_user("admin"), make_user("learner")
    first, second = make_user("assessor"), make_user("assessor")
    enrolment = enrol(
        db.session,
        actor=admin,
        learner=learner,
        unit_code="TLII5018",
        is_rpl=True,
        assessor=first,
    )
    db.session.commit()
    assign_assessor(db.session, actor=admin, enrolment=enrolment, assessor=second)
    assign_assessor(db.session, actor=admin, enrolment=enrolment, assessor=second)  # no change
    assign_assessor(db.session, actor=None, enrolment=enrolment, assessor=None)
    db.session.commit()

    created, *assigned = [e for e in events() if e.enrolment_id == enrolment.id]
    assert created.action == "enrolment.created"
    assert (created.actor_id, created.actor_role) == (admin.id, "admin")
    assert created.subject == f"enrolment:{enrolment.id}"
    assert created.after == {
        "learner_id": learner.id,
        "unit": "TLII5018",
        "release": enrolment.unit_release.release,
        "is_rpl": True,
        "assessor_id": first.id,
    }
    assert [(e.action, e.actor_role, e.before, e.after) for e in assigned] == [
        ("enrolment.assessor", "admin", {"assessor_id": first.id}, {"assessor_id": second.id}),
        ("enrolment.assessor", "system", {"assessor_id": second.id}, {"assessor_id": None}),
    ]


def test_a_refused_enrolment_logs_nothing(app, synced, make_user) -> None:
    """The service refuses before writing, and the caller's rollback leaves the log as it was."""
    admin = make_user("admin")
    before = len(events())
    with pytest.raises(Exception, match="not a learner"):
        enrol(db.session, actor=admin, learner=admin, unit_code="TLII5018")
    db.session.rollback()
    assert len(events()) == before


@pytest.fixture
def portfolio(make_user, make_enrolment):
    learner, assessor = make_user("learner"), make_user("assessor")
    return make_enrolment(learner=learner, assessor=assessor)


def targets(enrolment, *anchors: str) -> list[Target]:
    found = {
        t.anchor: t
        for t in db.session.scalars(
            select(Target).where(Target.unit_release_id == enrolment.unit_release_id)
        )
    }
    return [found[a] for a in anchors]


def fields(title: str = "Toolbox talk notes", description: str = "What we covered") -> ItemFields:
    return ItemFields(title, EvidenceType.MEETING_MINUTES, date(2026, 2, 3), description)


def stored_file(name: str) -> NewFile:
    return NewFile(name, "text/plain", 5, "0" * 64, f"key-{name}")


def test_evidence_changes_are_logged_as_the_learners(app, portfolio) -> None:
    """Adding, changing and mapping evidence: learner's role, the item's reference, the diff."""
    learner = portfolio.learner
    pc11, pc12, pc21 = targets(portfolio, "pc-1.1", "pc-1.2", "pc-2.1")
    item = create_item(
        db.session,
        actor=learner,
        enrolment=portfolio,
        fields=fields(),
        files=[stored_file("notes.txt")],
    )
    db.session.commit()
    (added,) = events("evidence.created")
    assert (added.actor_id, added.actor_role) == (learner.id, "learner")
    assert (added.subject, added.enrolment_id) == (f"evidence:{item.reference}", portfolio.id)
    assert added.after == {
        "version": 1,
        "title": "Toolbox talk notes",
        "evidence_type": "meeting_minutes",
        "work_date": "2026-02-03",
        "description": "What we covered",
        "files": ["notes.txt"],
    }

    update_item(db.session, actor=learner, item=item, fields=fields("Toolbox talk"), add_files=[])
    update_item(db.session, actor=learner, item=item, fields=fields("Toolbox talk"), add_files=[])
    db.session.commit()
    (changed,) = events("evidence.changed")  # the second save changed nothing
    assert changed.before == {"version": 1, "title": "Toolbox talk notes"}
    assert changed.after == {"version": 1, "new_version": False, "title": "Toolbox talk"}

    set_item_mappings(db.session, actor=learner, item=item, notes={pc12.id: "", pc11.id: "I led"})
    db.session.commit()
    (mapped,) = events("evidence.mapped")
    assert (mapped.actor_role, mapped.subject) == ("learner", "evidence:E1")
    assert mapped.before == {"version": 1, "targets": []}
    assert mapped.after == {
        "version": 1,
        "new_version": False,
        "targets": [pc11.ref, pc12.ref],
        "notes": {pc11.ref: "I led"},
    }

    attach_to_target(db.session, actor=learner, target=pc21, items={item: ""}, among=[item])
    db.session.commit()
    attached = events("evidence.mapped")[-1]
    assert attached.before == {"version": 1, "targets": [pc11.ref, pc12.ref]}
    assert attached.after["targets"] == [pc11.ref, pc12.ref, pc21.ref]
    assert verify(db.session).ok


def test_a_change_after_submission_logs_its_new_version(app, portfolio) -> None:
    """A submitted version is kept; the change and the mapping name the new version's number."""
    learner, assessor = portfolio.learner, portfolio.assessor
    (pc11,) = targets(portfolio, "pc-1.1")
    item = create_item(db.session, actor=learner, enrolment=portfolio, fields=fields(), files=[])
    submit(db.session, actor=learner, enrolment=portfolio, declared=True)
    transition(db.session, portfolio, AssessmentState.IN_REVIEW, actor=assessor, role=Role.ASSESSOR)
    transition(db.session, portfolio, AssessmentState.RETURNED, actor=assessor, role=Role.ASSESSOR)
    db.session.commit()

    update_item(
        db.session,
        actor=learner,
        item=item,
        fields=fields(),
        add_files=[stored_file("photo.txt")],
    )
    db.session.commit()
    (changed,) = events("evidence.changed")
    assert changed.before == {"version": 1, "files": []}
    assert changed.after == {"version": 2, "new_version": True, "files": ["photo.txt"]}

    submit(db.session, actor=learner, enrolment=portfolio, declared=True)
    for state in (AssessmentState.IN_REVIEW, AssessmentState.RETURNED):
        transition(db.session, portfolio, state, actor=assessor, role=Role.ASSESSOR)
    attach_to_target(db.session, actor=learner, target=pc11, items={item: "shows it"})
    db.session.commit()
    (mapped,) = events("evidence.mapped")
    assert mapped.before == {"version": 2, "targets": []}
    assert mapped.after == {
        "version": 3,
        "new_version": True,
        "targets": [pc11.ref],
        "notes": {pc11.ref: "shows it"},
    }
    assert [e.action for e in events() if e.enrolment_id == portfolio.id] == [
        "enrolment.created",
        "evidence.created",
        "enrolment.state",
        "enrolment.state",
        "enrolment.state",
        "evidence.changed",
        "enrolment.state",
        "enrolment.state",
        "enrolment.state",
        "evidence.mapped",
    ]
