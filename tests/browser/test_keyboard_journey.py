"""An assessor decides a submission's items with the keyboard alone: D opens the first item
still to decide, C ticks "I have checked this item", S saves and opens the next."""

from __future__ import annotations

from datetime import date

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceType, Target, Unit, UnitRelease, User
from tests.browser.test_assessment_journey import ASSESSOR, LEARNER_NAME, flash


def hand_in_two_items(app: Flask) -> None:
    """The demo learner's TLII5018 portfolio with two mapped items, submitted."""
    with app.app_context():
        learner = db.session.scalar(select(User).where(User.email == "learner@example.org"))
        enrolment = db.session.scalar(
            select(Enrolment)
            .join(UnitRelease, UnitRelease.id == Enrolment.unit_release_id)
            .join(Unit, Unit.id == UnitRelease.unit_id)
            .where(Enrolment.learner_id == learner.id, Unit.code == "TLII5018")
        )
        for title, anchor in (("Service plan", "pc-1.1"), ("Coaching log", "pc-1.2")):
            item = create_item(
                db.session,
                actor=learner,
                enrolment=enrolment,
                fields=ItemFields(title, EvidenceType.PLAN, date(2026, 9, 1), f"My {title}."),
                files=[],
            )
            target = db.session.scalar(
                select(Target).where(
                    Target.unit_release_id == enrolment.unit_release_id, Target.anchor == anchor
                )
            )
            set_item_mappings(db.session, actor=learner, item=item, notes={target.id: "Shown."})
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        db.session.commit()
        db.session.remove()


def test_items_are_decided_with_the_keyboard(page: Page, live_app, log_in, accessible) -> None:
    hand_in_two_items(live_app)
    log_in(*ASSESSOR)
    page.get_by_role("link", name="Review queue").click()
    page.get_by_role("row").filter(has_text=LEARNER_NAME).get_by_role(
        "button", name=LEARNER_NAME
    ).click()
    expect(flash(page, "Review started.")).to_be_visible()

    page.wait_for_load_state()  # the page's scripts, keys.js among them, have run
    page.keyboard.press("d")
    expect(page.get_by_role("heading", level=1)).to_contain_text("E1 Service plan")
    expect(page.locator("[data-keys]")).to_contain_text("S save and go on")
    accessible(page)
    checked = page.get_by_label("I have checked this item")
    page.wait_for_load_state()
    page.keyboard.press("c")
    expect(checked).to_be_checked()
    page.keyboard.press("s")
    expect(flash(page, "E1: decided.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("E2 Coaching log")
    page.wait_for_load_state()

    # Typing in a note is typing, not a key: nothing is ticked or sent.
    note = page.get_by_label("Why authentic is flagged")
    note.click()
    note.press_sequentially("cs")
    expect(note).to_have_value("cs")
    expect(page.get_by_label("I have checked this item")).not_to_be_checked()
    note.fill("")

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("c")
    page.keyboard.press("s")
    expect(
        flash(page, "Every item of this submission is decided: judge the criteria.")
    ).to_be_visible()
    expect(page.locator("[data-next-item]")).to_have_count(0)
    accessible(page)
