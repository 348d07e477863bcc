"""A workplace supervisor verifies an item through the link emailed to them: they see that item
only, answer and sign once, and their answer stays with the bytes they saw."""

from __future__ import annotations

import hashlib
import html
import io
import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.files.uploads import storage
from portfolio.models import (
    AuditEvent,
    EvidenceItem,
    Target,
    VerificationRequest,
    VerificationState,
)
from portfolio.models.base import utcnow
from portfolio.verification.rules import content_hashes
from tests.files import docx_bytes, pdf_bytes, png_bytes
from tests.packs import pictures, read_pack
from tests.packs import text as pack_text
from tests.verification.drawn import SUPERVISOR, signed

YES = {"own_work": "yes", "normal_performance": "yes", "dates_right": "yes"}


@pytest.fixture
def item(app: Flask, client: FlaskClient, learner_enrolment) -> EvidenceItem:
    """The learner's complaint log (a Word file and a PDF), mapped to the unit's first criterion,
    and a second item the verifier is never to see."""
    enrolment = learner_enrolment
    for title, files in (
        (
            "Complaint log March",
            [(io.BytesIO(docx_bytes()), "log.docx"), (io.BytesIO(pdf_bytes()), "callbacks.pdf")],
        ),
        ("Private reflection journal", [(io.BytesIO(png_bytes()), "journal.png")]),
    ):
        response = client.post(
            f"/enrolments/{enrolment.id}/evidence/new",
            data={
                "title": title,
                "evidence_type": "complaint_log",
                "work_date": "2026-10-01",
                "description": "Calls I took and how each was closed.",
                "files": files,
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.text
    first = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).first()
    target = db.session.scalars(
        select(Target)
        .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
        .order_by(Target.position)
    ).first()
    response = client.post(
        f"/evidence/{first.id}/mappings",
        data={"target": [target.id], f"note-{target.id}": "Row 3 records the callback"},
    )
    assert response.status_code == 302
    return first


def ask(client: FlaskClient, item: EvidenceItem, **fields: str):
    return client.post(f"/evidence/{item.id}/verifications/new", data={**SUPERVISOR, **fields})


def link_in(inbox, address: str = SUPERVISOR["email"]) -> str:
    """The verification link in the newest email to ``address``, as a path."""
    text, html = inbox.parts(inbox.to(address)[-1])
    found = re.search(r"https://portfolio\.rto\.example\.org(/verify/[\w-]+)", text)
    assert found, text
    assert found.group(1) in html
    return found.group(1)


def answer(client: FlaskClient, link: str, **fields: str):
    page = client.get(link)
    shown = re.search(r'name="shown" type="hidden" value="([0-9a-f]{64})"', page.text)
    assert shown, page.text
    data = {**YES, "comment": "", "signer_name": "Sam Supervisor", "signature": signed()}
    return client.post(link, data={**data, "shown": shown.group(1), **fields})


def actions(enrolment_id: int | None = None) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("verification.%"))
            .order_by(AuditEvent.seq)
        )
    )


def only_request() -> VerificationRequest:
    db.session.expire_all()
    return db.session.scalars(select(VerificationRequest)).one()


def test_the_learner_asks_and_the_supervisor_gets_a_link_by_email(client, item, smtp):
    """The email names the learner, the unit and the item; the token is stored only hashed."""
    response = ask(client, item)
    assert response.status_code == 302
    assert "on its way to Sam Supervisor" in client.get(response.location).text
    [mail] = smtp.to(SUPERVISOR["email"])
    assert mail["Subject"].startswith("Please verify Lee Learner's work - ")
    text, _ = smtp.parts(mail)
    assert "Complaint log March" in text and "TLII5018" in text
    assert "You need no account" in text and "have an account" not in text
    link = link_in(smtp)
    token = link.rsplit("/", 1)[-1]
    request = only_request()
    assert request.state is VerificationState.OPEN and request.version.version == 1
    assert request.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert request.expires_at - utcnow() > timedelta(days=13, hours=23)
    assert actions() == ["verification.requested"]


def test_the_supervisor_sees_that_item_and_nothing_else_of_the_learner(client, item, smtp):
    """The page shows the item, its files and the criterion it is mapped to; not the learner's
    other evidence; it is kept in no cache and sends no referrer."""
    ask(client, item)
    client.post("/logout")
    link = link_in(smtp)
    page = client.get(link)
    assert page.status_code == 200
    assert "Verify Lee Learner's work" in page.text
    for shown in ("Complaint log March", "log.docx", "callbacks.pdf", "Row 3 records the callback"):
        assert shown in page.text
    assert "Private reflection journal" not in page.text and "journal.png" not in page.text
    assert "Log in" not in page.text  # no menu for someone without an account
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    pdf = next(f for f in item.current_version.files if f.display_name == "callbacks.pdf")
    shown_pdf = client.get(f"{link}/files/{pdf.id}/inline")
    assert shown_pdf.status_code == 200 and shown_pdf.data == pdf_bytes()
    shown_pdf.close()
    other = db.session.scalars(select(EvidenceItem).where(EvidenceItem.id != item.id)).one()
    assert client.get(f"{link}/files/{other.current_version.files[0].id}").status_code == 404
    assert client.get(f"/files/{pdf.id}").status_code == 302  # the app's own address: log in
    assert actions() == ["verification.requested", "verification.viewed"]
    assert only_request().first_viewed_at is not None


def test_a_confirmation_keeps_the_hashes_of_what_was_seen_and_the_link_then_dies(
    client, item, smtp, login
):
    """Signed once: the answer holds each file's SHA-256 and the text's; the learner is told;
    the link, opened again, says it does not work and shows nothing."""
    learner = item.enrolment.learner
    ask(client, item)
    client.post("/logout")
    link = link_in(smtp)
    response = answer(client, link, comment="Sam saw every call.")
    assert response.status_code == 200 and "Thank you, Sam Supervisor" in response.text
    request = only_request()
    assert request.state is VerificationState.CONFIRMED
    assert request.statements == {"own_work": True, "normal_performance": True, "dates_right": True}
    assert request.confirmed_hashes == content_hashes(request.version)
    stored = set()
    for evidence_file in request.version.files:
        with storage().open(evidence_file.storage_key) as kept:
            stored.add(hashlib.sha256(kept.read()).hexdigest())
    assert {f["sha256"] for f in request.confirmed_hashes["files"]} == stored
    assert len(stored) == 2
    assert request.signature_png.startswith(b"\x89PNG")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "verification.confirmed")
    ).one()
    assert event.actor_role == "verifier" and event.after["signer"] == "Sam Supervisor"
    assert sorted(f["sha256"] for f in event.after["files"]) == sorted(
        f["sha256"] for f in request.confirmed_hashes["files"]
    )
    assert smtp.to(learner.email)[-1]["Subject"].startswith("Sam Supervisor answered about E1 - ")
    again = client.get(link)
    assert again.status_code == 410 and "does not work" in again.text
    assert "Complaint log March" not in again.text
    assert client.get(f"{link}/files/{item.current_version.files[0].id}").status_code == 410
    login(learner)
    page = client.get(f"/evidence/{item.id}").text
    assert "Verified" in page and "Signature of Sam Supervisor" in page
    portfolio = client.get(f"/enrolments/{item.enrolment_id}").text
    assert portfolio.count("verified by a third party") == 1


def test_a_second_send_of_the_same_answer_changes_nothing(client, item, smtp):
    """A double submit: the first answer stands, the second is told the link is used."""
    ask(client, item)
    client.post("/logout")
    link = link_in(smtp)
    page = client.get(link)
    shown = re.search(r'name="shown" type="hidden" value="([0-9a-f]{64})"', page.text).group(1)
    data = {**YES, "signer_name": "Sam Supervisor", "signature": signed(), "shown": shown}
    assert client.post(link, data=data).status_code == 200
    second = client.post(link, data={**data, "own_work": "no", "comment": "Changed my mind"})
    assert second.status_code == 410
    assert only_request().state is VerificationState.CONFIRMED
    assert actions().count("verification.confirmed") == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"own_work": ""}, "Answer every statement"),
        ({"dates_right": "no", "comment": ""}, "Say in the comment what is not so"),
        ({"signer_name": "  "}, "Type your full name to sign"),
        ({"signature": ""}, "Sign in the box"),
        ({"signature": "data:image/svg+xml;base64,PHN2Zz4="}, "must be a PNG"),
        ({"shown": "0" * 64}, "The evidence changed while the page was open"),
    ],
    ids=["unanswered", "declined without comment", "no name", "no signature", "svg", "stale"],
)
def test_an_incomplete_answer_is_refused_in_words_and_the_link_still_works(
    client, item, smtp, fields, message
):
    """The page comes back with the message and what was typed; nothing is recorded."""
    ask(client, item)
    client.post("/logout")
    link = link_in(smtp)
    response = answer(client, link, **{"comment": "Typed words stay", **fields})
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    if "comment" not in fields:
        assert "Typed words stay" in response.text
    assert only_request().state is VerificationState.OPEN
    assert answer(client, link).status_code == 200


def test_a_declined_statement_is_recorded_as_not_confirmed(client, item, smtp, login):
    """The assessor and the learner see which statement was declined and why."""
    ask(client, item)
    client.post("/logout")
    response = answer(
        client, link_in(smtp), normal_performance="no", comment="Only on the days I watched."
    )
    assert response.status_code == 200
    request = only_request()
    assert request.state is VerificationState.DECLINED
    assert request.statements["normal_performance"] is False
    assert actions()[-1] == "verification.declined"
    login(item.enrolment.learner)
    page = client.get(f"/evidence/{item.id}").text
    assert "Not confirmed" in page and "Only on the days I watched." in page


def test_a_change_after_asking_makes_a_new_version_which_is_not_verified(client, item, smtp, login):
    """The version the verifier was shown never changes; the learner's edit is version 2,
    shown "not verified" with the verifier's answer kept on version 1."""
    ask(client, item)
    response = client.post(
        f"/evidence/{item.id}/edit",
        data={
            "title": "Complaint log March (tidied)",
            "evidence_type": "complaint_log",
            "work_date": "2026-10-01",
            "description": "Calls I took.",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert item.current_version.version == 2
    assert only_request().version.title == "Complaint log March"
    client.post("/logout")
    assert "Complaint log March (tidied)" not in client.get(link_in(smtp)).text
    answer(client, link_in(smtp))
    login(item.enrolment.learner)
    assert "verified by a third party" not in client.get(f"/enrolments/{item.enrolment_id}").text
    page = client.get(f"/evidence/{item.id}").text
    assert "Not verified" in page and "A verifier confirmed version 1" in page
    first = client.get(f"/evidence/{item.id}?version=1").text
    assert "Version 1 was confirmed by Sam Supervisor" in first


def test_a_withdrawn_link_stops_working_at_once(client, item, smtp):
    """Withdrawn by the learner: the link says it does not work, and the log says why."""
    ask(client, item)
    request = only_request()
    response = client.post(f"/verifications/{request.id}/revoke")
    assert response.status_code == 302
    assert only_request().state is VerificationState.REVOKED
    client.post("/logout")
    assert client.get(link_in(smtp)).status_code == 410
    refused = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "verification.link-refused")
    ).one()
    assert refused.after["reason"] == "withdrawn"
    assert actions() == [
        "verification.requested",
        "verification.revoked",
        "verification.link-refused",
    ]


def test_an_expired_link_is_dead_and_its_expiry_logged_once(app, client, item, smtp):
    """Past its days, the link shows nothing; the expiry is logged once, whether the link is
    opened or ``flask verifications expire`` finds it first."""
    ask(client, item)
    ask(client, item, email="other.supervisor@depot.example.com")
    client.post("/logout")
    for request in db.session.scalars(select(VerificationRequest)):
        request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = client.get(link_in(smtp))
    assert expired.status_code == 410 and "This link expired on" in expired.text
    result = CliRunner().invoke(app.cli, ["verifications", "expire"], catch_exceptions=False)
    assert result.exit_code == 0 and "1 link expired" in result.output
    assert actions().count("verification.expired") == 2
    result = CliRunner().invoke(app.cli, ["verifications", "expire"], catch_exceptions=False)
    assert "0 links expired" in result.output and actions().count("verification.expired") == 2


def test_an_unknown_link_shows_nothing_and_is_logged(client, app):
    """A guessed token: the same words as any dead link."""
    response = client.get("/verify/not-a-real-token")
    assert response.status_code == 410 and "does not work" in response.text
    assert actions() == ["verification.link-refused"]


def test_the_link_pages_are_rate_limited_by_address(client, item, smtp, app):
    """Many requests from one address are turned away with a message."""
    ask(client, item)
    client.post("/logout")
    app.config["VERIFY_ADDRESS_LIMIT"] = "3 per minute"
    link = link_in(smtp)
    codes = [client.get(link).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Too many requests from your network" in client.get(link).text


@pytest.mark.parametrize(
    ("fields", "message", "status"),
    [
        ({"name": ""}, "Give the verifier's full name.", 200),
        ({"email": "not-an-address"}, "is not an email address", 200),
        ({"relationship": ""}, "Say how the verifier knows the learner", 200),
        ({"email": "LEE@example.org"}, "A verifier is someone else", 200),
    ],
    ids=["no name", "bad email", "no relationship", "own email"],
)
def test_a_request_without_what_an_auditor_needs_is_refused(
    client, item, smtp, fields, message, status
):
    """Each refusal is on its field, nothing is sent, nothing is kept."""
    learner = item.enrolment.learner
    learner.email = "lee@example.org"
    db.session.commit()
    response = ask(client, item, **fields)
    assert response.status_code == status and message in html.unescape(response.text)
    assert db.session.scalars(select(VerificationRequest)).all() == []
    assert smtp.messages == []


def test_with_mail_off_the_learner_is_told_no_link_can_be_sent(client, item):
    """`make run` has no mail server: the request is refused in words, nothing kept."""
    response = ask(client, item)
    assert "Email is not set up here" in response.text
    assert db.session.scalars(select(VerificationRequest)).all() == []


def test_the_assessor_records_their_check_on_the_verifier(client, item, smtp, login, make_user):
    """Beside the authenticity rule: the verification, and the assessor's check, logged."""
    from portfolio.assessment import decisions
    from portfolio.evidence.services import submit

    enrolment = item.enrolment
    assessor = make_user("assessor", name="Ash Assessor")
    enrolment.assessor_id = assessor.id
    db.session.commit()
    ask(client, item)
    client.post("/logout")
    answer(client, link_in(smtp))
    submit(db.session, actor=enrolment.learner, enrolment=enrolment, declared=True)
    decisions.start_review(db.session, actor=assessor, enrolment=enrolment)
    db.session.commit()
    login(assessor)
    request = only_request()
    page = client.get(f"/enrolments/{enrolment.id}/review/items/{request.version_id}").text
    assert "Verified by a third party" in page and "not checked yet" in page
    response = client.post(
        f"/verifications/{request.id}/check",
        data={"method": "phone_call", "note": "Rang the depot on 02 5550 1234"},
    )
    assert response.status_code == 302
    page = html.unescape(client.get(response.location).text)
    assert "Phone call to the workplace's listed number (Rang the depot on 02 5550 1234)" in page
    assert actions()[-1] == "verification.verifier-checked"
    refused = client.post(f"/verifications/{request.id}/check", data={"method": "other"})
    assert refused.status_code == 302
    assert "Say how you checked the verifier." in client.get(refused.location).text


def test_the_pack_shows_the_verification_with_its_hashes_and_signature(client, item, smtp, login):
    """Signer, position, contact, each statement, the SHA-256 of what was seen, the drawn
    signature as a picture; the register says the submitted version is verified."""
    from portfolio.evidence.services import submit

    enrolment = item.enrolment
    ask(client, item)
    client.post("/logout")
    answer(client, link_in(smtp), comment="Watched every call.")
    submit(db.session, actor=enrolment.learner, enrolment=enrolment, declared=True)
    db.session.commit()
    read = read_pack(enrolment)
    text = pack_text(read)
    request = only_request()
    for shown in (
        "E1: Sam Supervisor, confirmed",
        "Depot manager",
        "Harbour Freight Depot",
        "sam.supervisor@depot.example.com",
        "Direct supervisor since March 2024",
        "Yes: This is Lee Learner's own work.",
        "Comment: Watched every call.",
        request.confirmed_hashes["text_sha256"],
        *(f["sha256"] for f in request.confirmed_hashes["files"]),
        "Signature of Sam Supervisor",
        "Verified by Sam Supervisor, Depot manager",
        "Evidence verified by the third party, signed",
    ):
        assert shown in text, shown
    assert request.signature_png in pictures(read)


@pytest.mark.parametrize(
    "next_",
    ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com/", "javascript:x"],
)
def test_withdrawing_never_leads_to_another_site(client, item, smtp, next_):
    """A "back to" address that leaves the site is ignored: the item page it is."""
    ask(client, item)
    request = only_request()
    response = client.post(f"/verifications/{request.id}/revoke", data={"next": next_})
    assert response.status_code == 302
    assert response.location == f"/evidence/{item.id}"


def test_an_answer_that_is_not_yes_or_no_is_refused_on_its_statement(client, item, smtp):
    """Not "the form had expired": the statement says what is wrong."""
    ask(client, item)
    client.post("/logout")
    response = answer(client, link_in(smtp), own_work="perhaps")
    assert response.status_code == 400
    assert "expired" not in response.text and "Not a valid choice" in response.text
    assert only_request().state is VerificationState.OPEN


def test_a_dead_link_says_why_to_its_holder_and_nothing_to_a_guesser(client, item, smtp):
    """Used: when the answer came. Withdrawn: when. A made-up address: only that it does not
    work. None of them shows the evidence."""
    ask(client, item)
    ask(client, item, email="second.supervisor@depot.example.com")
    client.post("/logout")
    used = link_in(smtp)
    answer(client, used)
    page = client.get(used).text
    assert "This link has been used: your answer was received on" in page
    assert "Complaint log March" not in page
    second = db.session.scalars(
        select(VerificationRequest).where(VerificationRequest.state == VerificationState.OPEN)
    ).one()
    second.state = VerificationState.REVOKED
    second.closed_at = utcnow()
    db.session.commit()
    withdrawn = client.get(link_in(smtp, "second.supervisor@depot.example.com")).text
    assert "This link was withdrawn on" in withdrawn
    guessed = client.get("/verify/" + "x" * 43).text
    assert "it has been used already, has expired, or was withdrawn" in guessed
