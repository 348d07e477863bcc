"""In their own portfolio a learner touches only their own evidence and their unit's criteria.

The route matrix in ``tests/auth/test_access.py`` checks who may open each page; these check the
ids a permitted learner sends: targets of another unit, items of another learner, ids that are
not numbers at all.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item
from portfolio.extensions import db
from portfolio.models import (
    Enrolment,
    EvidenceItem,
    EvidenceMapping,
    EvidenceType,
    EvidenceVersion,
    Target,
    TargetKind,
)


def add_item(enrolment: Enrolment, title: str) -> EvidenceItem:
    """An item in the enrolment, added as its learner would (description only, no files)."""
    item = create_item(
        db.session,
        actor=enrolment.learner,
        enrolment=enrolment,
        fields=ItemFields(title, EvidenceType.REPORT, date(2026, 10, 1), "What I did."),
        files=[],
    )
    db.session.commit()
    return item


def target(enrolment: Enrolment, anchor: str) -> Target:
    found = db.session.scalar(
        select(Target).where(
            Target.unit_release_id == enrolment.unit_release_id, Target.anchor == anchor
        )
    )
    assert found is not None, anchor
    return found


def mapped_targets(item: EvidenceItem) -> set[int]:
    db.session.expire_all()
    return {m.target_id for m in db.session.get(EvidenceItem, item.id).current_version.mappings}


def mapping_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceMapping))


def shown_coverage(page: str) -> tuple[int, int]:
    """The "N / M covered" figure the learner reads on a page."""
    found = re.search(r"data-coverage>(\d+) / (\d+) covered<", page)
    assert found, "no coverage figure on the page"
    return int(found[1]), int(found[2])


@pytest.fixture
def mine(make_user, make_enrolment, login) -> Enrolment:
    """A logged-in learner's TLII5018 enrolment with one item, E1."""
    learner = make_user("learner", name="Lee Learner")
    enrolment = make_enrolment(learner=learner)
    add_item(enrolment, "My complaint log")
    login(learner)
    return enrolment


@pytest.fixture
def theirs(make_user, make_enrolment) -> Enrolment:
    """Another learner in the same unit (so the same criteria), with one item of their own."""
    enrolment = make_enrolment(learner=make_user("learner", name="Other Learner"))
    add_item(enrolment, "Their service plan")
    return enrolment


def my_item(enrolment: Enrolment) -> EvidenceItem:
    return db.session.scalar(select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id))


def test_target_of_another_unit_in_my_attach_url_is_not_found(
    client: FlaskClient, mine: Enrolment, make_enrolment
) -> None:
    """A criterion id from another unit, put in the address of my own portfolio, is a 404."""
    elsewhere = make_enrolment(unit="BSBCUS501")
    foreign = target(elsewhere, "pc-1.1")
    url = f"/enrolments/{mine.id}/targets/{foreign.id}"
    assert client.get(url).status_code == 404
    item = my_item(mine)
    response = client.post(url, data={"item": [item.id], f"note-{item.id}": "sneaky"})
    assert response.status_code == 404
    assert mapped_targets(item) == set()
    # The same item does attach to a criterion of my own unit, so the POST above was sound.
    own = target(mine, "pc-1.1")
    client.post(f"/enrolments/{mine.id}/targets/{own.id}", data={"item": [item.id]})
    assert mapped_targets(item) == {own.id}


def test_other_learners_items_posted_to_my_attach_form_are_left_alone(
    client: FlaskClient, mine: Enrolment, theirs: Enrolment
) -> None:
    """Their item ids in my attach form do nothing to their evidence; mine is attached."""
    own_item, their_item = my_item(mine), my_item(theirs)
    pc = target(mine, "pc-2.1")
    assert pc.unit_release_id == theirs.unit_release_id  # same unit: only ownership stands guard
    versions_before = db.session.scalar(
        select(func.count()).where(EvidenceVersion.item_id == their_item.id)
    )
    response = client.post(
        f"/enrolments/{mine.id}/targets/{pc.id}",
        data={
            "item": [their_item.id, own_item.id],
            f"note-{their_item.id}": "not mine to map",
            f"note-{own_item.id}": "page 2",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert mapped_targets(their_item) == set()
    assert mapped_targets(own_item) == {pc.id}
    versions_after = db.session.scalar(
        select(func.count()).where(EvidenceVersion.item_id == their_item.id)
    )
    assert versions_after == versions_before


def test_mapping_to_criteria_of_another_unit_is_refused(
    client: FlaskClient, mine: Enrolment, make_enrolment
) -> None:
    """Naming another unit's criteria in my mapping form says so and saves no mapping at all."""
    elsewhere = make_enrolment(unit="BSBCUS501")
    foreign, own = target(elsewhere, "pc-1.1"), target(mine, "pc-1.1")
    item = my_item(mine)
    response = client.post(
        f"/evidence/{item.id}/mappings",
        data={"target": [own.id, foreign.id], f"note-{foreign.id}": "elsewhere"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Some of those criteria are not in this unit." in response.text
    assert mapped_targets(item) == set()  # not even the one of my own unit
    assert mapping_count() == 0
    page = client.get(f"/enrolments/{mine.id}").text
    assert shown_coverage(page)[0] == 0


NON_NUMERIC = [
    pytest.param("/evidence/{item}/mappings", "target", "abc", id="mapping-target=abc"),
    pytest.param("/evidence/{item}/mappings", "target", "", id="mapping-target=empty"),
    pytest.param("/enrolments/{enrolment}/targets/{pc}", "item", "abc", id="attach-item=abc"),
    pytest.param("/enrolments/{enrolment}/targets/{pc}", "item", "", id="attach-item=empty"),
]


def post_non_numeric(app: Flask, client: FlaskClient, mine: Enrolment, path, field, value):
    """Map E1 to pc-1.1 properly, then send the tampered form; answer as the live site would."""
    item, pc = my_item(mine), target(mine, "pc-1.1")
    client.post(f"/evidence/{item.id}/mappings", data={"target": [pc.id]})
    assert mapped_targets(item) == {pc.id}
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an exception becomes the 500 page, not a raise
    url = path.format(item=item.id, enrolment=mine.id, pc=pc.id)
    return client.post(url, data={field: value, f"note-{value}": "x"}), item, pc


@pytest.mark.parametrize(("path", "field", "value"), NON_NUMERIC)
def test_non_numeric_ids_never_give_a_server_error(
    app: Flask, client: FlaskClient, mine: Enrolment, path: str, field: str, value: str
) -> None:
    """A tampered form never gets the "something went wrong" page."""
    response, _, _ = post_non_numeric(app, client, mine, path, field, value)
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize(("path", "field", "value"), NON_NUMERIC)
def test_non_numeric_ids_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, mine: Enrolment, path: str, field: str, value: str
) -> None:
    """A tampered form gets a 4xx or the form back, and the mapping already made is kept."""
    response, item, pc = post_non_numeric(app, client, mine, path, field, value)
    if response.status_code == 200:
        assert '<form method="post"' in response.text  # the form, re-rendered
    else:
        assert 400 <= response.status_code < 500, response.status_code
    assert mapped_targets(item) == {pc.id}
    assert mapping_count() == 1


def test_admin_enrols_a_learner_as_rpl_through_the_form(
    client: FlaskClient, make_user, make_enrolment, login
) -> None:
    """Ticking RPL on the enrol form makes an RPL enrolment, and the learner's page says so."""
    learner = make_user("learner", name="Riley Prior", email="riley@example.org")
    ordinary = make_enrolment(learner=learner, unit="TLII5018")
    login(make_user("admin"))
    page = client.post(
        "/admin/enrolments",
        data={"learner": "riley@example.org", "unit": "BSBCUS501", "is_rpl": "y", "assessor": "0"},
        follow_redirects=True,
    )
    assert "Enrolled Riley Prior in BSBCUS501 release 1." in page.text
    db.session.expire_all()
    rpl = db.session.scalar(
        select(Enrolment).where(Enrolment.learner_id == learner.id, Enrolment.id != ordinary.id)
    )
    assert rpl.is_rpl is True and rpl.assessor_id is None
    assert rpl.kind_label == "Recognition of prior learning (RPL)"

    login(learner)
    rpl_page = client.get(f"/enrolments/{rpl.id}").text
    assert "BSBCUS501" in rpl_page
    assert "Riley Prior · Recognition of prior learning (RPL) · release 1" in rpl_page
    ordinary_page = client.get(f"/enrolments/{ordinary.id}").text
    assert "Riley Prior · Assessment · release 1" in ordinary_page
    assert "Recognition of prior learning" not in ordinary_page
    dashboard = client.get("/dashboard").text
    assert dashboard.count("Recognition of prior learning (RPL) · release 1") == 1


def test_unit_with_elements_only_maps_evidence_to_an_element(
    client: FlaskClient, make_user, make_enrolment, login
) -> None:
    """SITXCCS008 has no performance criteria: its elements are what evidence is mapped to."""
    learner = make_user("learner")
    enrolment = make_enrolment(learner=learner, unit="SITXCCS008")
    item = add_item(enrolment, "Service standards")
    login(learner)
    element = target(enrolment, "el-2")
    assert element.kind is TargetKind.ELEMENT and not element.is_group

    form = client.get(f"/evidence/{item.id}/mappings").text
    assert f'name="target" value="{element.id}"' in form
    assert "Manage delivery of quality service." in form

    covered, total = shown_coverage(client.get(f"/enrolments/{enrolment.id}").text)
    assert covered == 0 and total > 3  # three elements and the evidence lists
    response = client.post(
        f"/evidence/{item.id}/mappings",
        data={"target": [element.id], f"note-{element.id}": "Section 4 is the service roster"},
    )
    assert response.status_code == 302
    page = client.get(f"/enrolments/{enrolment.id}").text
    assert shown_coverage(page) == (covered + 1, total)
    assert "Section 4 is the service roster" in page
    assert re.search(r'<li id="el-2" class="list-group-item"\s+data-covered', page)
    assert shown_coverage(client.get("/dashboard").text) == (covered + 1, total)
