"""An assessor decides a submission's items with the keyboard alone: D opens the first item
still to decide, C ticks "I have checked this item", S saves and opens the next."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_assessment_clicks import Counter, hand_in, open_review
from tests.browser.test_assessment_journey import ASSESSOR, flash


def test_items_are_decided_with_the_keyboard(page: Page, live_app, log_in, accessible) -> None:
    hand_in(live_app, with_gaps=False)  # two items that cover every requirement
    log_in(*ASSESSOR)
    open_review(page, Counter(page))  # opens on E1, the first item to decide

    page.wait_for_load_state()  # the page's scripts, keys.js among them, have run
    page.keyboard.press("r")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lee Learner: TLII5018")
    page.wait_for_load_state()
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
    expect(page.get_by_role("heading", level=1)).to_contain_text("E2 Site observation notes")
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
