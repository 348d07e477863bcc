"""An admin keeps an assessor's credential register in the browser: the units it authorises
follow each change, a refused judgement says what is missing, and the assessor reads their own
register."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portfolio.clock import today
from portfolio.extensions import db
from portfolio.models import Enrolment, User


def sams_enrolment(live_app) -> int:
    """Sam Learner's TLII5018, assessed Competent in the demo data."""
    with live_app.app_context():
        sam = db.session.scalar(select(User).where(User.email == "learner2@example.org"))
        return db.session.scalar(select(Enrolment.id).where(Enrolment.learner_id == sam.id))


def test_an_admin_keeps_the_register_and_enforcement_follows_it(
    page: Page, live_app, live_url: str, log_in, accessible
) -> None:
    live_app.config["CREDENTIALS_ENFORCED"] = True
    log_in("admin@example.org", "admin-demo-pass")
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="Alex Assessor").click()
    page.get_by_role("link", name="Credential register").click()
    expect(page.get_by_role("heading", name="Credentials of Alex Assessor")).to_be_visible()
    authorised = page.locator("[data-authorised]")
    expect(authorised.get_by_text("TLII5018")).to_be_visible()
    expect(authorised).not_to_contain_text("no industry currency")
    accessible(page)

    # The currency turns out to be recorded in error: ended, with the reason, and kept.
    currency = page.locator("tr", has_text="Weekend shifts as dispatch supervisor")
    currency.locator("summary").click()
    currency.get_by_label("Why it no longer stands").fill("The shifts were in another industry")
    currency.get_by_role("button", name="End this entry").click()
    expect(page.get_by_text("It stays on record.")).to_be_visible()
    expect(authorised).to_contain_text("no industry currency for TLII5018")
    expect(page.locator("tr", has_text="Weekend shifts")).to_contain_text("Ended")
    accessible(page)
    page.get_by_role("button", name="Log out").click()

    # The assessor is refused a judgement, in words, and reads why on their own page.
    log_in("assessor@example.org", "assessor-demo-pass")
    page.goto(f"{live_url}/enrolments/{sams_enrolment(live_app)}/review")
    page.get_by_role("link", name=re.compile("^Correct the judgement of")).first.click()
    page.get_by_label("Not yet satisfactory").check()
    page.get_by_label("Why this is corrected").fill("Seen again: the log is a colleague's")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.get_by_text(re.compile("Not authorised for TLII5018 on"))).to_be_visible()
    expect(page.get_by_text("no industry currency for TLII5018").first).to_be_visible()
    accessible(page)
    page.goto(f"{live_url}/account/credentials")
    expect(page.get_by_role("heading", name="Your credentials")).to_be_visible()
    expect(page.locator("[data-authorised]")).to_contain_text("no industry currency for TLII5018")
    accessible(page)
    page.get_by_role("button", name="Log out").click()

    # A renewed activity: the admin adds it, and the units are authorised again.
    log_in("admin@example.org", "admin-demo-pass")
    page.goto(f"{live_url}/admin/credentials")
    accessible(page)
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="Alex Assessor").click()
    page.get_by_role("link", name="Credential register").click()
    page.get_by_label("Kind").select_option(label="Industry currency")
    page.get_by_label("Title or activity").fill("Relief dispatch supervisor, Harbour depot")
    page.get_by_label("Issued on, or the activity began").fill(
        (today() - timedelta(days=10)).isoformat()
    )
    page.get_by_label("Expires or is reviewed on").fill((today() + timedelta(days=40)).isoformat())
    page.get_by_role("button", name="Add to the register").click()
    expect(page.get_by_text(re.compile("Added to Alex Assessor's register"))).to_be_visible()
    expect(authorised).not_to_contain_text("no industry currency")
    accessible(page)
    # It lapses within 60 days: on the admins' list.
    page.goto(f"{live_url}/admin/credentials")
    expect(page.locator("[data-expiring]")).to_contain_text("Relief dispatch supervisor")


def test_a_judgement_under_direction_waits_for_a_countersignature(
    page: Page, live_app, live_url: str, log_in, accessible
) -> None:
    """Alex's TAE credential is ended and an arrangement to work under Val's direction added;
    Alex's correction waits, and Val countersigns it from the Countersign page."""
    live_app.config["CREDENTIALS_ENFORCED"] = True
    log_in("admin@example.org", "admin-demo-pass")
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="Alex Assessor").click()
    page.get_by_role("link", name="Credential register").click()
    tae = page.locator("tr", has_text="TAE40122")
    tae.locator("summary").click()
    tae.get_by_label("Why it no longer stands").fill("Statement of attainment not yet verified")
    tae.get_by_role("button", name="End this entry").click()
    expect(page.get_by_text("It stays on record.")).to_be_visible()
    page.get_by_label("Kind").select_option(label="Working under direction")
    page.get_by_label("Code").fill("TLII5018")
    page.get_by_label("Title or activity").fill("Under the direction of Val Validator")
    page.get_by_label("Issued on, or the activity began").fill(today().isoformat())
    page.get_by_label("Expires or is reviewed on").fill((today() + timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Add to the register").click()
    authorised = page.locator("[data-authorised]")
    expect(authorised.locator("li", has_text="TLII5018")).to_contain_text("Under direction")
    accessible(page)
    page.get_by_role("button", name="Log out").click()

    log_in("assessor@example.org", "assessor-demo-pass")
    page.goto(f"{live_url}/enrolments/{sams_enrolment(live_app)}/review")
    page.get_by_role("link", name=re.compile("^Correct the judgement of")).first.click()
    page.get_by_label("Satisfactory", exact=True).check()
    page.get_by_label("Comment").fill("Seen again in the Q3 plan, section 2.")
    page.get_by_label("Why this is corrected").fill("The comment named the wrong section")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.locator("[data-awaiting-countersign]")).to_contain_text("1.1")
    accessible(page)
    page.get_by_role("button", name="Log out").click()

    log_in("validator@example.org", "validator-demo-pass")
    page.get_by_role("link", name="Countersign").first.click()
    expect(page.get_by_role("heading", name="Countersign")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Sam Learner").click()
    expect(page.locator("[data-waiting]")).to_contain_text("Judgement of 1.1")
    accessible(page)
    page.get_by_role("button", name="Countersign 1 record").click()
    expect(
        page.get_by_text(re.compile("Countersigned 1 record of Sam Learner's TLII5018"))
    ).to_be_visible()
    expect(page.get_by_text("Nothing waits for your countersignature.")).to_be_visible()
