"""A workplace supervisor writes a third-party report against chosen criteria through an
emailed link; it arrives in the portfolio as evidence, kept as they wrote it."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.clock import today
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    Enrolment,
    EvidenceItem,
    EvidenceType,
    Target,
    User,
    VerificationRequest,
    VerificationState,
)
from tests.packs import read_pack
from tests.packs import rows as table_rows
from tests.packs import text as pack_text
from tests.verification.drawn import SUPERVISOR, signed


def in_review(enrolment: Enrolment, assessor: User) -> User:
    """The portfolio (one plan) handed in and its review started by ``assessor``."""
    from portfolio.assessment import decisions
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item, submit

    enrolment.assessor_id = assessor.id
    create_item(
        db.session,
        actor=enrolment.learner,
        enrolment=enrolment,
        fields=ItemFields("Roster", EvidenceType.PLAN, date(2026, 10, 1), "The roster."),
        files=[],
    )
    submit(db.session, actor=enrolment.learner, enrolment=enrolment, declared=True)
    decisions.start_review(db.session, actor=assessor, enrolment=enrolment)
    db.session.commit()
    return assessor


def criteria(enrolment: Enrolment) -> list[Target]:
    return list(
        db.session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        )
    )


def ask(client: FlaskClient, enrolment: Enrolment, targets: list[Target], **fields: str):
    return client.post(
        f"/enrolments/{enrolment.id}/reports/new",
        data={**SUPERVISOR, "target": [t.id for t in targets], **fields},
    )


def link_in(inbox) -> str:
    text, _ = inbox.parts(inbox.to(SUPERVISOR["email"])[-1])
    found = re.search(r"https://portfolio\.rto\.example\.org(/report/[\w-]+)", text)
    assert found, text
    return found.group(1)


def report(client: FlaskClient, link: str, answers: dict, **fields: str):
    data = {
        "observed_on": (today() - timedelta(days=3)).isoformat(),
        "comment": "Reliable on every shift.",
        "signer_name": "Sam Supervisor",
        "signature": signed(),
    }
    for target, (seen, note) in answers.items():
        data[f"seen-{target.id}"] = seen
        data[f"note-{target.id}"] = note
    return client.post(link, data={**data, **fields})


def the_request() -> VerificationRequest:
    db.session.expire_all()
    return db.session.scalars(select(VerificationRequest)).one()


def test_a_report_arrives_as_evidence_mapped_to_what_was_seen(
    client, learner_enrolment, smtp, login
):
    """The supervisor sees only the criteria asked about; the signed report becomes the next
    item, of type third-party report, mapped to the criteria seen with their notes."""
    enrolment = learner_enrolment
    first, second, third = criteria(enrolment)[:3]
    response = ask(client, enrolment, [first, second])
    assert response.status_code == 302 and response.location.endswith("#reports")
    [mail] = smtp.to(SUPERVISOR["email"])
    text, _ = smtp.parts(mail)
    assert f"2 points ({first.ref}, {second.ref})" in text
    client.post("/logout")
    link = link_in(smtp)
    page = client.get(link)
    assert page.status_code == 200 and "Report on Lee Learner's work" in html.unescape(page.text)
    assert first.text in html.unescape(page.text) and third.text not in html.unescape(page.text)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    response = report(
        client,
        link,
        {first: ("seen", "Every morning briefing in May"), second: ("not_seen", "")},
    )
    assert response.status_code == 200 and "added to Lee Learner" in response.text
    request = the_request()
    assert request.state is VerificationState.REPORTED
    assert request.observations == {
        str(first.id): {"seen": True, "note": "Every morning briefing in May"},
        str(second.id): {"seen": False, "note": ""},
    }
    item = request.report_item
    version = item.current_version
    assert item.reference == "E1" and version.evidence_type is EvidenceType.THIRD_PARTY_REPORT
    assert version.title == "Third-party report: Sam Supervisor, Depot manager"
    assert version.work_date == today() - timedelta(days=3)
    assert [(m.target_id, m.note) for m in version.mappings] == [
        (first.id, "Every morning briefing in May")
    ]
    assert f"**{second.ref}**" in version.description.split("**Not seen**")[1]
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action.in_(["evidence.created", "verification.reported"])
        )
    ).all()
    assert [(e.action, e.actor_role) for e in events] == [
        ("evidence.created", "verifier"),
        ("verification.reported", "verifier"),
    ]
    assert events[1].after["seen"] == [first.ref] and events[1].after["not_seen"] == [second.ref]
    assert client.get(link).status_code == 410
    learner = enrolment.learner
    assert "sent a report: E1" in smtp.to(learner.email)[-1]["Subject"]
    login(learner)
    page = html.unescape(client.get(f"/evidence/{item.id}").text)
    assert "Third-party report" in page and "Signature of Sam Supervisor" in page
    assert "Kept as they wrote it" in page and ">Edit<" not in page
    portfolio = html.unescape(client.get(f"/enrolments/{enrolment.id}").text)
    assert "Report received" in portfolio and "E1 Third-party report: Sam Supervisor" in portfolio


def test_the_learner_cannot_change_a_report(client, learner_enrolment, smtp, login):
    """Neither its words nor its mappings: refused in words, nothing changed."""
    enrolment = learner_enrolment
    first = criteria(enrolment)[0]
    ask(client, enrolment, [first])
    client.post("/logout")
    report(client, link_in(smtp), {first: ("seen", "")})
    item = the_request().report_item
    login(enrolment.learner)
    response = client.post(
        f"/evidence/{item.id}/edit",
        data={"title": "Better title", "evidence_type": "report", "work_date": "2026-10-01"},
    )
    assert "is Sam Supervisor&#39;s signed third-party report" in response.text
    response = client.post(f"/evidence/{item.id}/mappings", data={"target": []})
    db.session.expire_all()
    assert item.current_version.version == 1 and len(item.current_version.mappings) == 1
    assert item.current_version.title.startswith("Third-party report")


def test_a_report_sent_during_the_review_is_in_the_submission_under_review(
    client, learner_enrolment, smtp, login, make_user
):
    """The assessor decides on it like any other item."""
    enrolment = learner_enrolment
    assessor = in_review(enrolment, make_user("assessor", name="Ash Assessor"))
    login(assessor)
    first = criteria(enrolment)[0]
    assert ask(client, enrolment, [first]).status_code == 302
    client.post("/logout")
    report(client, link_in(smtp), {first: ("seen", "Watched it")})
    version = the_request().report_item.current_version
    assert version.submission_id == enrolment.submissions[-1].id
    login(assessor)
    review = client.get(f"/enrolments/{enrolment.id}/review").text
    assert "E2" in review
    item_page = client.get(f"/enrolments/{enrolment.id}/review/items/{version.id}")
    assert item_page.status_code == 200 and "Third-party report: Sam Supervisor" in item_page.text
    assert "Signature of Sam Supervisor" in item_page.text and "Watched it" in item_page.text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seen-first": ""}, "Say for every criterion whether you saw it"),
        ({"observed_on": ""}, "Give the date you last saw this work."),
        ({"observed_on": "2999-01-01"}, "cannot be in the future"),
        ({"signer_name": ""}, "Type your full name to sign."),
        ({"signature": ""}, "Sign in the box"),
    ],
    ids=["unanswered", "no date", "future date", "no name", "no signature"],
)
def test_an_incomplete_report_is_refused_in_words_and_nothing_is_lost(
    client, learner_enrolment, smtp, fields, message
):
    """The page comes back with the message and everything typed; no item is made."""
    enrolment = learner_enrolment
    first, second = criteria(enrolment)[:2]
    ask(client, enrolment, [first, second])
    client.post("/logout")
    link = link_in(smtp)
    if "seen-first" in fields:
        fields = {f"seen-{first.id}": fields["seen-first"]}
    response = report(
        client, link, {first: ("seen", "A note kept"), second: ("seen", "")}, **fields
    )
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert "A note kept" in response.text
    assert the_request().state is VerificationState.OPEN
    assert db.session.scalars(select(EvidenceItem)).all() == []
    assert report(client, link, {first: ("seen", ""), second: ("seen", "")}).status_code == 200


def test_a_request_for_a_report_must_name_criteria_of_the_unit(
    client, learner_enrolment, smtp, make_enrolment
):
    """No criteria, or one of another unit: refused, nothing sent."""
    enrolment = learner_enrolment
    response = ask(client, enrolment, [])
    assert "Choose at least one criterion" in response.text
    other = make_enrolment(unit="BSBCUS501")
    response = ask(client, enrolment, criteria(other)[:1])
    assert "not one of this unit" in response.text
    assert db.session.scalars(select(VerificationRequest)).all() == []
    assert smtp.messages == []


def test_a_report_link_is_not_a_verification_link(client, learner_enrolment, smtp):
    """Each link opens only its own kind of page."""
    enrolment = learner_enrolment
    ask(client, enrolment, criteria(enrolment)[:1])
    client.post("/logout")
    token = link_in(smtp).rsplit("/", 1)[1]
    assert client.get(f"/verify/{token}").status_code == 410
    assert client.get(f"/report/{token}").status_code == 200


def test_a_report_for_a_finished_assessment_is_refused_kindly(client, learner_enrolment, smtp):
    """The enrolment was withdrawn while the link was open: the supervisor is told, nothing is
    added."""
    from portfolio.models import AssessmentState

    enrolment = learner_enrolment
    first = criteria(enrolment)[0]
    ask(client, enrolment, [first])
    client.post("/logout")
    enrolment.state = AssessmentState.WITHDRAWN
    db.session.commit()
    response = report(client, link_in(smtp), {first: ("seen", "")})
    assert response.status_code == 400
    assert "assessment of this unit is finished" in html.unescape(response.text)
    assert db.session.scalars(select(EvidenceItem)).all() == []


def test_the_pack_shows_the_report_with_its_criteria_and_signature(client, learner_enrolment, smtp):
    """Who wrote it, each criterion seen or not with the note, the signature as a picture."""

    from portfolio.evidence.services import submit

    enrolment = learner_enrolment
    first, second = criteria(enrolment)[:2]
    ask(client, enrolment, [first, second])
    client.post("/logout")
    report(client, link_in(smtp), {first: ("seen", "At the May audit"), second: ("not_seen", "")})
    submit(db.session, actor=enrolment.learner, enrolment=enrolment, declared=True)
    db.session.commit()
    read = read_pack(enrolment)
    rows, text = table_rows(read), pack_text(read)
    assert "Report by Sam Supervisor, report received (E1)" in text
    assert [first.ref, first.text, "Yes", "At the May audit"] in rows
    assert [second.ref, second.text, "No", ""] in rows
    assert "Comment: Reliable on every shift." in text
    assert "Signature of Sam Supervisor" in text
    signature = the_request().signature_png
    assert any(
        r.target_part.blob == signature for r in read.part.rels.values() if "image" in r.reltype
    )


def test_a_gap_is_signed_off_with_a_report_as_the_third_party_method(
    client, learner_enrolment, smtp, login, make_user
):
    """The sign-off page offers the reports that saw the criterion, and fills in the method,
    the date and the notes from the one chosen."""
    from portfolio.models import GapMethod, GapSignoff

    enrolment = learner_enrolment
    assessor = in_review(enrolment, make_user("assessor", name="Ash Assessor"))
    login(assessor)
    first, second = criteria(enrolment)[:2]
    ask(client, enrolment, [first, second])
    client.post("/logout")
    report(client, link_in(smtp), {first: ("seen", "At the May audit"), second: ("not_seen", "")})
    request = the_request()
    login(assessor)
    page = html.unescape(client.get(f"/enrolments/{enrolment.id}/review/gaps/{first.id}").text)
    assert "Third-party reports that saw" in page and "“At the May audit”" in page
    other = client.get(f"/enrolments/{enrolment.id}/review/gaps/{second.id}").text
    assert "Third-party reports that saw" not in other  # they did not see it
    filled = client.get(
        f"/enrolments/{enrolment.id}/review/gaps/{first.id}?report={request.id}"
    ).text
    [method] = re.findall(r'<input[^>]*value="third_party_report"[^>]*>', filled)
    assert " checked " in method
    assert request.observed_on.isoformat() in filled
    notes = "Third-party report by Sam Supervisor (Depot manager, Harbour Freight Depot)"
    assert notes in html.unescape(filled) and "E2. They saw the learner meet" in filled
    response = client.post(
        f"/enrolments/{enrolment.id}/review/gaps/{first.id}",
        data={
            "method": "third_party_report",
            "held_on": request.observed_on.isoformat(),
            "notes": f"{notes}, signed today, evidence item E2.",
        },
    )
    assert response.status_code == 302
    signoff = db.session.scalars(select(GapSignoff)).one()
    assert signoff.method is GapMethod.THIRD_PARTY_REPORT and signoff.target_id == first.id


def test_the_audit_bundle_carries_each_report_with_its_signature(client, learner_enrolment, smtp):
    """Beside the pack: the report as JSON (who, criteria by reference, when signed, the
    signature's SHA-256) and the signature image, both listed in the manifest."""
    import hashlib
    import io
    import json
    import zipfile

    from portfolio.evidence.services import submit
    from portfolio.exports.bundle import Selection, stream_bundle

    enrolment = learner_enrolment
    first = criteria(enrolment)[0]
    ask(client, enrolment, [first])
    client.post("/logout")
    report(client, link_in(smtp), {first: ("seen", "At the May audit")})
    submit(db.session, actor=enrolment.learner, enrolment=enrolment, declared=True)
    db.session.commit()
    request = the_request()
    body = b"".join(stream_bundle(db.session, Selection(enrolment_ids=[enrolment.id])))
    archive = zipfile.ZipFile(io.BytesIO(body))
    [record_name] = [n for n in archive.namelist() if n.endswith(f"/report-{request.id}.json")]
    assert "/third-party/" in record_name
    record = json.loads(archive.read(record_name))
    assert record["signed_by"] == "Sam Supervisor" and record["state"] == "reported"
    assert record["criteria"] == {first.ref: {"seen": True, "note": "At the May audit"}}
    image = archive.read(record_name.replace(".json", "-signature.png"))
    assert image == request.signature_png
    assert record["signature_sha256"] == hashlib.sha256(image).hexdigest()
    listed = {e["path"] for e in json.loads(archive.read("manifest.json"))["files"]}
    assert record_name in listed


def test_a_report_request_withdrawn_leads_back_to_the_portfolio(client, learner_enrolment, smtp):
    """Withdrawn (no "back to" address given): the portfolio's list of reports, and the link
    opened on the verification page is logged as a link of another kind."""
    enrolment = learner_enrolment
    ask(client, enrolment, criteria(enrolment)[:1])
    token = link_in(smtp).rsplit("/", 1)[1]
    client.get(f"/verify/{token}")
    refused = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "verification.link-refused")
    ).one()
    assert refused.after["reason"] == "a link of another kind"
    response = client.post(f"/verifications/{the_request().id}/revoke")
    assert response.location == f"/enrolments/{enrolment.id}#reports"
    assert the_request().state is VerificationState.REVOKED


def test_a_report_sent_twice_makes_one_item(client, learner_enrolment, smtp):
    """A second tab or a double tap: the first report stands, the second is told the link is
    used, and the portfolio has one report."""
    enrolment = learner_enrolment
    first = criteria(enrolment)[0]
    ask(client, enrolment, [first])
    client.post("/logout")
    link = link_in(smtp)
    assert report(client, link, {first: ("seen", "")}).status_code == 200
    again = report(client, link, {first: ("not_seen", "")})
    assert again.status_code == 410 and "This link has been used" in again.text
    assert len(db.session.scalars(select(EvidenceItem)).all()) == 1
