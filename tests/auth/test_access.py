"""Every route refuses the wrong role and the wrong owner, on the server.

A person outside an object's scope gets 404 (its existence is not confirmed); a person who may
see it but not do that gets 403; someone not logged in is sent to the login page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import EvidenceItem, Target
from tests.files import docx_bytes

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
    }
    return World(users, ids)


ROUTES = [
    ("GET", "/dashboard", EVERYONE),
    ("GET", "/enrolments/{enrolment}", VIEWERS),
    ("GET", "/enrolments/{enrolment}/evidence/new", OWNER),
    ("POST", "/enrolments/{enrolment}/uploads", OWNER),
    ("GET", "/evidence/{item}", VIEWERS),
    ("GET", "/evidence/{item}/edit", OWNER),
    ("GET", "/evidence/{item}/mappings", OWNER),
    ("GET", "/enrolments/{enrolment}/targets/{target}", OWNER),
    ("GET", "/enrolments/{enrolment}/submit", OWNER),
    ("GET", "/files/{file}", VIEWERS),
    ("GET", "/files/{file}/inline", VIEWERS),
    ("GET", "/files/{file}/preview", VIEWERS),
    ("GET", "/admin/users", ADMIN),
    ("GET", "/admin/users/new", ADMIN),
    ("POST", "/admin/users/{user}/active", ADMIN),
    ("GET", "/admin/users/import", ADMIN),
    ("GET", "/admin/enrolments", ADMIN),
    ("POST", "/admin/enrolments/{enrolment}/assessor", ADMIN),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES, ids=[r[1] for r in ROUTES])
def test_route_access(
    world: World, client: FlaskClient, login, persona: str, method: str, path: str, allowed: set
) -> None:
    """Allowed people get the page; everyone else is refused before anything happens."""
    if persona != "anonymous":
        login(world.users[persona])
    url = path.format(**world.ids)
    response = client.open(url, method=method)
    if persona in allowed:
        assert response.status_code not in (401, 403, 404), (persona, url)
        assert "/login" not in (response.location or "")
    elif persona == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
    else:
        assert response.status_code in (403, 404), (persona, url, response.status_code)
    response.close()


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
