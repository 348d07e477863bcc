"""Admins keep each assessor's credential register; the assessor reads their own; entries
about to lapse are listed and emailed to admins."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from portfolio.clock import today
from portfolio.extensions import db
from portfolio.models import AuditEvent, Credential
from tests.files import pdf_bytes


def add(client, user, **fields):
    data = {
        "kind": "training_and_assessment",
        "code": "TAE40122",
        "title": "",
        "basis": "held",
        "reason": "",
        "starts_on": "2024-05-01",
        "ends_on": "",
        **fields,
    }
    return client.post(
        f"/admin/users/{user.id}/credentials", data=data, content_type="multipart/form-data"
    )


def test_an_admin_builds_an_assessors_register_and_sees_what_they_may_assess(
    client, make_user, login, synced
):
    """Each entry with its document, in the audit log; the units authorised today follow."""
    admin = make_user("admin")
    assessor = make_user("assessor", name="Ash Assessor")
    login(admin)
    response = add(client, assessor, files=[(io.BytesIO(pdf_bytes("Certificate")), "tae.pdf")])
    assert response.status_code == 302
    add(client, assessor, kind="vocational", code="TLII5018", starts_on="2019-03-01")
    reviewed = (today() + timedelta(days=300)).isoformat()
    add(
        client,
        assessor,
        kind="industry_currency",
        code="",
        title="Shifts at the Harbour depot",
        starts_on="2026-01-05",
        ends_on=reviewed,
    )
    page = html.unescape(client.get(f"/admin/users/{assessor.id}/credentials").text)
    assert "Certificate IV in Training and Assessment" in page and "tae.pdf" in page
    assert re.search(r"Authorised</span>\s*<strong>TLII5018</strong>", page)
    assert "no vocational competency in BSBCUS501" in page
    entries = db.session.scalars(select(Credential)).all()
    assert len(entries) == 3 and entries[0].files[0].display_name == "tae.pdf"
    matrix = client.get("/admin/credentials").text.split("data-authorised-matrix", 1)[1]
    row = matrix.split("Ash Assessor", 1)[1].split("</tr>", 1)[0]
    assert row.count("Authorised</span>") == 1 and row.count("Not authorised") == 4
    logged = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("credential.%"))
    ).all()
    assert logged == ["credential.added"] * 3


def test_a_wrong_entry_is_refused_on_its_field_and_nothing_is_kept(
    client, make_user, login, synced
):
    admin = make_user("admin")
    assessor = make_user("assessor")
    login(admin)
    response = add(client, assessor, code="BSB50120")
    assert response.status_code == 200
    assert "record it as an equivalent" in html.unescape(response.text)
    response = add(client, assessor, kind="vocational", code="NOPE99")
    assert "is not a unit here" in html.unescape(response.text)
    assert db.session.scalars(select(Credential)).all() == []
    learner = make_user("learner")
    refused = add(client, learner)
    assert "is not an assessor" in html.unescape(refused.text)


def test_an_entry_is_ended_with_a_reason_and_stays_on_record(client, make_user, login, synced):
    admin = make_user("admin")
    assessor = make_user("assessor")
    login(admin)
    add(client, assessor)
    entry = db.session.scalars(select(Credential)).one()
    refused = client.post(f"/admin/credentials/{entry.id}/end", data={"reason": " "})
    assert refused.status_code == 302
    assert "Say why the entry no longer stands" in html.unescape(client.get(refused.location).text)
    client.post(f"/admin/credentials/{entry.id}/end", data={"reason": "Certificate not genuine"})
    db.session.expire_all()
    assert entry.ended_at is not None and entry.end_reason == "Certificate not genuine"
    page = client.get(f"/admin/users/{assessor.id}/credentials").text
    assert "Ended" in page and "Certificate not genuine" in page


def test_the_assessor_reads_their_own_register(client, make_user, login, synced):
    admin = make_user("admin")
    assessor = make_user("assessor", name="Ash Assessor")
    login(admin)
    add(client, assessor)
    login(assessor)
    page = html.unescape(client.get("/account/credentials").text)
    assert "Certificate IV in Training and Assessment" in page
    assert "Not authorised" in page and "add or correct an entry" in page
    assert "End this entry" not in page
    assert "Your credentials" in client.get("/account").text


def test_entries_lapsing_soon_are_listed_and_emailed_to_admins(
    app, client, make_user, login, synced, smtp
):
    admin = make_user("admin", email="ada@rto.example.org")
    assessor = make_user("assessor", name="Ash Assessor")
    login(admin)
    soon = today() + timedelta(days=20)
    add(
        client,
        assessor,
        kind="industry_currency",
        code="TLII5018",
        title="Depot shifts",
        starts_on="2026-01-05",
        ends_on=soon.isoformat(),
    )
    add(
        client,
        assessor,
        kind="industry_currency",
        code="",
        title="Conference",
        starts_on="2026-01-05",
        ends_on=(today() + timedelta(days=200)).isoformat(),
    )
    page = client.get("/admin/credentials").text
    listed = page.split("data-expiring", 1)[1]
    assert "Depot shifts" in listed and "Conference" not in listed
    result = CliRunner().invoke(app.cli, ["credentials", "expiring"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Ash Assessor: Industry currency TLII5018 Depot shifts, until {soon:%d/%m/%Y}" in (
        result.output
    )
    assert "1 entry lapsing; 1 admin told by email" in result.output
    [mail] = smtp.to("ada@rto.example.org")
    text, _ = smtp.parts(mail)
    assert "Ash Assessor" in text and "Depot shifts" in text


def test_the_credentials_page_says_whether_the_register_is_enforced(
    app, client, make_user, login, synced
):
    login(make_user("admin"))
    page = html.unescape(client.get("/admin/credentials").text)
    assert "not checked at decision time yet" in page and "CREDENTIALS_ENFORCED=1" in page
    app.config["CREDENTIALS_ENFORCED"] = True
    page = html.unescape(client.get("/admin/credentials").text)
    assert "checked at every judgement, gap sign-off and outcome" in page
