"""The history of an enrolment for the people in it, and the whole log for admins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portfolio.audit.exports import record_export
from portfolio.audit.history import action_label, logged_actions
from portfolio.audit.log import record
from portfolio.enrolments.services import assign_assessor
from portfolio.enrolments.workflow import transition
from portfolio.extensions import db
from portfolio.models import AssessmentState, AuditEvent, Role

PERSONAS = ["anonymous", "owner", "other_learner", "assessor", "other_assessor", "admin"]


@pytest.fixture
def world(app, make_user, make_enrolment) -> dict:
    """Two learners, each with their own assessor, and an admin."""
    users = {
        "owner": make_user("learner", name="Lee Learner"),
        "other_learner": make_user("learner"),
        "assessor": make_user("assessor", name="Alex Assessor"),
        "other_assessor": make_user("assessor", name="Other Assessor"),
        "admin": make_user("admin", name="Ada Admin"),
    }
    users["enrolment"] = make_enrolment(learner=users["owner"], assessor=users["assessor"])
    make_enrolment(learner=users["other_learner"], assessor=users["other_assessor"])
    return users


def as_(persona: str, world: dict, login) -> None:
    if persona != "anonymous":
        login(world[persona])


HISTORY = {
    "anonymous": 302,
    "owner": 200,
    "other_learner": 404,
    "assessor": 200,
    "other_assessor": 404,
    "admin": 200,
}
LOG = {
    "anonymous": 302,
    "owner": 403,
    "other_learner": 403,
    "assessor": 403,
    "other_assessor": 403,
    "admin": 200,
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sees_an_enrolments_history(client, world, login, persona) -> None:
    """The learner, their assessor and admins; to anyone else it does not exist."""
    as_(persona, world, login)
    response = client.get(f"/enrolments/{world['enrolment'].id}/history")
    assert response.status_code == HISTORY[persona]
    if persona == "anonymous":
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_sees_the_whole_log(client, world, login, persona) -> None:
    """Only admins; everyone else who is logged in is refused."""
    as_(persona, world, login)
    response = client.get("/admin/audit")
    assert response.status_code == LOG[persona]
    if persona == "anonymous":
        assert response.headers["Location"].startswith("/login")


def test_history_of_an_unknown_enrolment_is_404(client, world, login) -> None:
    login(world["admin"])
    assert client.get("/enrolments/9999/history").status_code == 404


def test_history_reads_oldest_first_in_plain_words(app, client, world, login) -> None:
    """Who, in which role, what happened and what changed, at the RTO's local time."""
    enrolment, admin = world["enrolment"], world["admin"]
    assign_assessor(db.session, actor=admin, enrolment=enrolment, assessor=world["other_assessor"])
    db.session.commit()
    assign_assessor(db.session, actor=admin, enrolment=enrolment, assessor=world["assessor"])
    transition(
        db.session,
        enrolment,
        AssessmentState.SUBMITTED,
        actor=world["owner"],
        role=Role.LEARNER,
    )
    db.session.commit()
    login(world["owner"])
    page = client.get(f"/enrolments/{enrolment.id}/history").text
    order = [
        page.index(words)
        for words in ("Enrolled in the unit", "Assessor assigned", "Portfolio moved to a new stage")
    ]
    assert order == sorted(order)
    assert "The system" in page  # the fixture enrolled without a named user
    assert "Ada Admin" in page and "RTO admin" in page
    assert re.search(r"Alex Assessor</del>\s*.*\s*<ins[^>]*>Other Assessor</ins>", page)
    assert re.search(r"Draft</del>\s*.*\s*<ins[^>]*>Submitted</ins>", page)
    assert "Australia/Sydney" in page
    # 22/11/2026 14:05 style: the app's own filter, in the RTO's time zone
    assert re.search(r"<time datetime=\"[^\"]+\+00:00\">\d\d/\d\d/\d{4} \d\d:\d\d</time>", page)
    # Other people's accounts are not part of this enrolment's history.
    assert "Account created" not in page


def test_the_log_filters_by_action_and_enrolment(client, world, login) -> None:
    """Admins narrow the log to one action or one enrolment; a typo in the number is explained."""
    login(world["admin"])
    everything = client.get("/admin/audit").text
    assert "Account created" in everything and "Enrolled in the unit" in everything
    assert '<label class="form-label" for="action">Action</label>' in everything

    accounts = client.get("/admin/audit?action=user.created").text
    assert accounts.count("Account created") == 1 + 5  # the filter's option and five rows
    assert "Lee Learner, TLII5018" not in accounts

    enrolment = world["enrolment"]
    one = client.get(f"/admin/audit?enrolment={enrolment.id}").text
    assert "1 event matching the filter" in one
    assert f"/enrolments/{enrolment.id}/history" in one

    record_export(
        db.session,
        actor=world["admin"],
        role=Role.ADMIN,
        kind="register",
        description="Outcomes register",
        count=0,
    )
    db.session.commit()
    exports = client.get("/admin/audit?action=export.created").text
    assert exports.count("Copy exported (pack, matrix, register, bundle or framework)") == 2
    assert "export.created<" not in exports  # its label, never the bare action name

    typo = client.get("/admin/audit?enrolment=abc").text
    assert "Type an enrolment number." in typo
    assert 'aria-invalid="true"' in typo


def add_events(world: dict, n: int) -> None:
    """``n`` assessor changes by the admin on the owner's enrolment: names to look up, links."""
    enrolment, admin = world["enrolment"], world["admin"]
    a, b = world["assessor"].id, world["other_assessor"].id
    for i in range(n):
        record(
            db.session,
            actor=admin,
            role=Role.ADMIN,
            action="enrolment.assessor",
            subject=f"enrolment:{enrolment.id}",
            enrolment=enrolment,
            before={"assessor_id": a if i % 2 else b},
            after={"assessor_id": b if i % 2 else a},
        )
    db.session.commit()


def test_history_runs_a_fixed_number_of_queries(client, world, login, count_queries) -> None:
    """Sixty events cost the history page no more queries than five."""
    login(world["owner"])
    url = f"/enrolments/{world['enrolment'].id}/history"
    add_events(world, 5)
    with count_queries() as few:
        assert client.get(url).status_code == 200
    add_events(world, 55)
    with count_queries() as many:
        page = client.get(url)
    assert page.text.count("Assessor assigned") == 60
    assert many.count == few.count, many.statements


def test_the_log_runs_a_fixed_number_of_queries(client, world, login, count_queries) -> None:
    """A full page of fifty costs no more queries than a page of a few."""
    login(world["admin"])
    add_events(world, 5)
    with count_queries() as few:
        assert client.get("/admin/audit").status_code == 200
    add_events(world, 55)
    with count_queries() as many:
        page = client.get("/admin/audit")
    assert page.text.count("<tr>") == 1 + 50  # the header row and one page
    assert re.search(r'href="\s*/admin/audit\?page=2"', page.text)
    assert many.count == few.count, many.statements


def test_the_action_filter_lists_each_logged_action_once(world) -> None:
    """Every kind of action in the log, once, in the order of their labels; none that is not."""
    add_events(world, 3)
    logged = logged_actions(db.session)
    every = set(db.session.scalars(select(AuditEvent.action)))
    assert [action for action, _ in logged] == sorted(every, key=action_label)
    assert ("enrolment.assessor", "Assessor assigned") in logged
    assert "outcome.recorded" not in dict(logged)
