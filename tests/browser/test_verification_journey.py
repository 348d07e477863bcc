"""A workplace supervisor verifies a learner's evidence on a phone, through the link emailed to
them (read from a real SMTP server), and the assessor sees exactly what they vouched for."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item
from portfolio.extensions import db
from portfolio.files.uploads import store_upload
from portfolio.models import Enrolment, EvidenceType, User, VerificationRequest
from tests.files import docx_bytes, png_bytes
from tests.smtpserver import Inbox, start

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def inbox(live_app: Flask, live_url: str) -> Iterator[Inbox]:
    """Mail on, through a real SMTP server; links in emails point at the live app."""
    received = Inbox()
    controller = start(received)
    live_app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        PUBLIC_URL=live_url,
        JOBS_SYNCHRONOUS=True,
    )
    try:
        yield received
    finally:
        controller.stop()


def lees_items(live_app: Flask) -> tuple[int, int]:
    """Lee's complaint log (a Word file), and a private item the verifier must not see."""
    with live_app.app_context():
        lee = db.session.scalar(select(User).where(User.email == "learner@example.org"))
        enrolment = db.session.scalars(
            select(Enrolment).where(Enrolment.learner_id == lee.id).order_by(Enrolment.id)
        ).first()
        made = []
        for title, name, content in (
            ("Complaint log, August", "complaint-log.docx", docx_bytes("Complaint log")),
            ("My private study notes", "notes.png", png_bytes()),
        ):
            item = create_item(
                db.session,
                actor=lee,
                enrolment=enrolment,
                fields=ItemFields(title, EvidenceType.COMPLAINT_LOG, enrolment.activity_start),
                files=[store_upload(io.BytesIO(content), name)],
            )
            made.append(item.id)
        db.session.commit()
        return made[0], enrolment.id


def draw_with_a_finger(page: Page, selector: str) -> None:
    """A stroke across the box by touch, as a phone sends it (touch, not mouse, events)."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None
    cdp = page.context.new_cdp_session(page)
    points = [
        (box["x"] + box["width"] * (0.1 + 0.8 * step / 12), box["y"] + box["height"] * y)
        for step, y in enumerate([0.7, 0.3, 0.6, 0.2, 0.8, 0.4, 0.5, 0.3, 0.7, 0.4, 0.6, 0.5, 0.4])
    ]
    x, y = points[0]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in points[1:]:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_supervisor_verifies_on_a_phone_and_the_assessor_sees_it(
    page: Page, browser: Browser, live_app, live_url: str, inbox: Inbox, log_in, accessible
) -> None:
    item_id, enrolment_id = lees_items(live_app)

    # The learner asks their supervisor.
    log_in("learner@example.org", "learner-demo-pass")
    page.goto(f"{live_url}/evidence/{item_id}")
    expect(page.get_by_text("No one has been asked to verify it.")).to_be_visible()
    page.get_by_role("link", name="Ask someone to verify E1").click()
    accessible(page)
    page.get_by_label("Verifier's full name").fill("Sam Supervisor")
    page.get_by_label("Their email").fill("sam@depot.example.com")
    page.get_by_label("Their position").fill("Depot manager")
    page.get_by_label("Organisation").fill("Harbour Freight Depot")
    page.get_by_label("How they know the learner's work").fill("Direct supervisor since 2024")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("is on its way to Sam Supervisor")).to_be_visible()
    expect(page.locator("[data-verification='open']")).to_contain_text("not opened yet")
    accessible(page)

    [mail] = inbox.to("sam@depot.example.com")
    text, _ = inbox.parts(mail)
    link = re.search(rf"{re.escape(live_url)}/verify/[\w-]+", text).group(0)

    # The supervisor, on a phone, with no account.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    supervisor = phone.new_page()
    supervisor.goto(link)
    expect(supervisor.get_by_role("heading", name="Verify Lee Learner's work")).to_be_visible()
    expect(supervisor.get_by_role("link", name="complaint-log.docx", exact=True)).to_be_visible()
    assert "My private study notes" not in supervisor.content()
    # Nothing overflows the phone's width.
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    accessible(supervisor)
    supervisor.get_by_role("group", name="This is Lee Learner's own work.").get_by_label(
        "Yes"
    ).check()
    supervisor.get_by_role("group", name=re.compile("normally performs")).get_by_label(
        "Yes"
    ).check()
    supervisor.get_by_role("group", name=re.compile("The dates are right")).get_by_label(
        "Yes"
    ).check()
    supervisor.get_by_label("Comment").fill("Lee handled every one of these calls.")
    expect(supervisor.get_by_label("Your full name")).to_have_value("Sam Supervisor")

    # Sent unsigned: refused in words, and nothing typed is lost.
    supervisor.get_by_role("button", name="Sign and send").click()
    expect(supervisor.get_by_text("Sign in the box")).to_be_visible()
    expect(supervisor.get_by_label("Comment")).to_have_value(
        "Lee handled every one of these calls."
    )
    expect(
        supervisor.get_by_role("group", name="This is Lee Learner's own work.").get_by_label("Yes")
    ).to_be_checked()
    accessible(supervisor)

    draw_with_a_finger(supervisor, "#signature-pad")
    supervisor.get_by_role("button", name="Sign and send").click()
    expect(supervisor.get_by_role("heading", name="Thank you, Sam Supervisor")).to_be_visible()
    accessible(supervisor)
    supervisor.goto(link)
    expect(supervisor.get_by_role("heading", name="This link does not work")).to_be_visible()
    assert "Complaint log" not in supervisor.content()
    phone.close()

    with live_app.app_context():
        answered = db.session.scalars(select(VerificationRequest)).one()
        assert answered.state.value == "confirmed" and len(answered.signature_png) > 500
        version_id = answered.version_id

    # The learner sees the answer, and submits.
    page.goto(f"{live_url}/evidence/{item_id}")
    expect(page.locator("[data-verified]")).to_contain_text("Version 1 was confirmed by")
    expect(page.get_by_role("img", name="Signature of Sam Supervisor")).to_be_visible()
    page.goto(f"{live_url}/enrolments/{enrolment_id}/submit")
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Submit for assessment").click()

    # The assessor, beside the authenticity rule, records their check on the verifier.
    page.get_by_role("button", name="Log out").click()
    log_in("assessor@example.org", "assessor-demo-pass")
    page.goto(f"{live_url}/enrolments/{enrolment_id}/review")
    page.get_by_role("button", name="Start review").click()
    page.goto(f"{live_url}/enrolments/{enrolment_id}/review/items/{version_id}")
    verification = page.locator("[data-verifications]")
    expect(verification).to_contain_text("Verified")
    expect(verification).to_contain_text("Lee handled every one of these calls.")
    expect(verification).to_contain_text("not checked yet")
    accessible(page)
    verification.get_by_label("How you checked who the verifier is").select_option(
        label="Phone call to the workplace's listed number"
    )
    verification.get_by_label("Note").fill("Rang the depot, 02 5550 1234")
    verification.get_by_role("button", name="Record the check").click()
    expect(page.locator("[data-verifier-check]")).to_contain_text("Rang the depot, 02 5550 1234")


def test_a_supervisor_writes_a_report_on_a_phone_and_it_arrives_as_evidence(
    page: Page, browser: Browser, live_app, live_url: str, inbox: Inbox, log_in, accessible
) -> None:
    _, enrolment_id = lees_items(live_app)
    log_in("learner@example.org", "learner-demo-pass")
    page.goto(f"{live_url}/enrolments/{enrolment_id}")
    page.get_by_role("link", name="Ask for a third-party report").click()
    accessible(page)
    page.get_by_label("Verifier's full name").fill("Sam Supervisor")
    page.get_by_label("Their email").fill("sam@depot.example.com")
    page.get_by_label("Their position").fill("Depot manager")
    page.get_by_label("Organisation", exact=True).fill("Harbour Freight Depot")
    page.get_by_label("How they know the learner's work").fill("Direct supervisor since 2024")
    page.get_by_label(re.compile(r"^1\.1 ")).check()
    page.get_by_label(re.compile(r"^1\.2 ")).check()
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("A link to write a report is on its way")).to_be_visible()
    expect(page.locator("[data-reports]")).to_contain_text("About 2 criteria")
    accessible(page)

    text, _ = inbox.parts(inbox.to("sam@depot.example.com")[-1])
    link = re.search(rf"{re.escape(live_url)}/report/[\w-]+", text).group(0)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    supervisor = phone.new_page()
    supervisor.goto(link)
    expect(supervisor.get_by_role("heading", name="Report on Lee Learner's work")).to_be_visible()
    assert supervisor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    accessible(supervisor)
    supervisor.get_by_role("group", name=re.compile(r"^1\.1 ")).get_by_label(
        "Seen", exact=True
    ).check()
    supervisor.get_by_label("Note on 1.1").fill("Every Monday briefing in May")
    supervisor.get_by_role("group", name=re.compile(r"^1\.2 ")).get_by_label("Not seen").check()
    supervisor.get_by_label("The date you last saw this work").fill("2026-11-20")
    draw_with_a_finger(supervisor, "#signature-pad")
    supervisor.get_by_role("button", name="Sign and send").click()
    expect(supervisor.get_by_role("heading", name="Thank you, Sam Supervisor")).to_be_visible()
    accessible(supervisor)
    phone.close()

    page.reload()
    reports = page.locator("[data-reports]")
    expect(reports).to_contain_text("Report received")
    reports.get_by_role("link", name=re.compile("Third-party report: Sam Supervisor")).click()
    expect(page.locator("[data-report]")).to_contain_text("Every Monday briefing in May")
    expect(page.get_by_role("img", name="Signature of Sam Supervisor")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    accessible(page)
