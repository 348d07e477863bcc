"""Every route refuses the wrong role and the wrong owner, on the server.

A person outside an object's scope gets 404 (its existence is not confirmed); a person who may
see it but not do that gets 403; someone not logged in is sent to the login page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import (
    Enrolment,
    EvidenceFile,
    EvidenceItem,
    EvidenceMapping,
    EvidenceVersion,
    Submission,
    Target,
    User,
)
from tests.files import docx_bytes, png_bytes

PERSONAS = ["anonymous", "owner", "other_learner", "assessor", "other_assessor", "admin"]
VIEWERS = {"owner", "assessor", "admin"}
OWNER = {"owner"}
ADMIN = {"admin"}
EVERYONE = {"owner", "other_learner", "assessor", "other_assessor", "admin"}


@dataclass
class World:
    users: dict
    ids: dict


@pytest.fixture
def world(app, client, make_user, make_enrolment, login) -> World:
    """Two learners, each with an assessor, the first with a Word file in their portfolio."""
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
    ids = {
        "enrolment": mine.id,
        "item": item.id,
        "file": item.current_version.files[0].id,
        "target": target.id,
        "user": users["other_learner"].id,
        "other_assessor": users["other_assessor"].id,
    }
    return World(users, ids)


Body = Callable[[World], dict]


@dataclass(frozen=True)
class Route:
    """One request in the matrix; a POST carries a body that changes something when allowed."""

    method: str
    path: str
    allowed: set[str]
    body: Body | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


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
    csv = b"name,email,student_id,usi\nAlex Nguyen,alex@example.org,S1001,\n"
    return {"file": (io.BytesIO(csv), "learners.csv")}


def enrol_body(world: World) -> dict:
    return {"learner": world.users["other_learner"].email, "unit": "BSBCUS501", "assessor": "0"}


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
    Route("GET", "/admin/users", ADMIN),
    Route("GET", "/admin/users/new", ADMIN),
    Route("POST", "/admin/users/new", ADMIN, new_user_body),
    Route("POST", "/admin/users/{user}/active", ADMIN, lambda w: {"confirm": "y"}),
    Route("GET", "/admin/users/import", ADMIN),
    Route("POST", "/admin/users/import", ADMIN, import_body),
    Route("GET", "/admin/enrolments", ADMIN),
    Route("POST", "/admin/enrolments", ADMIN, enrol_body),
    Route(
        "POST",
        "/admin/enrolments/{enrolment}/assessor",
        ADMIN,
        lambda w: {"assessor": w.ids["other_assessor"]},
    ),
]


def database_state(app: Flask) -> dict[str, list]:
    """What a request could change: accounts, enrolments, evidence, submissions, stored files."""
    db.session.expire_all()

    def rows(*columns) -> list:
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(columns[0]))]

    evidence_dir = Path(app.config["EVIDENCE_DIR"])
    return {
        "users": rows(User.id, User.email, User.active),
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
        "submissions": rows(Submission.id, Submission.enrolment_id, Submission.round),
        "stored": sorted(str(p) for p in evidence_dir.rglob("*") if p.is_file()),
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_access(
    app: Flask, world: World, client: FlaskClient, login, persona: str, route: Route
) -> None:
    """Allowed people get the page or make the change; everyone else is refused, changing nothing.

    Every POST carries a body that really changes something when an allowed person sends it, so
    "nothing changed" for everyone else is a real check and not the result of an empty form.
    """
    if persona != "anonymous":
        login(world.users[persona])
    url = route.path.format(**world.ids)
    before = database_state(app)
    data = route.body(world) if route.body else None
    response = client.open(url, method=route.method, data=data)
    status, location = response.status_code, response.location or ""
    response.close()
    after = database_state(app)
    if persona in route.allowed:
        assert status < 400, (persona, url, status)
        assert "/login" not in location
        if route.method == "POST":
            assert after != before, f"{persona}'s POST to {url} changed nothing"
        else:
            assert after == before
        return
    if persona == "anonymous":
        assert status == 302 and "/login" in location
    else:
        assert status in (403, 404), (persona, url, status)
    assert after == before, f"{persona}'s refused {route.method} to {url} changed the database"


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
