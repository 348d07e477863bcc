"""An assessor writes a question bank for a unit at a desk, then asks its questions with a
phone in hand: the answers typed on the phone are the record that signs off the gaps."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_assessment_clicks import Counter, hand_in, open_review
from tests.browser.test_assessment_journey import ASSESSOR, flash

PHONE = {"width": 390, "height": 844}


def starting_with(ref: str) -> re.Pattern[str]:
    """A row heading that begins with this ref, not a longer one ("KE 6" and not "KE 6.1")."""
    return re.compile(rf"^\s*{re.escape(ref)}(?![.\d])")


def fits_the_screen(page: Page) -> bool:
    """Nothing sticks out sideways: the page reads without scrolling left and right."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_question_bank_is_written_at_a_desk_and_filled_in_on_a_phone(
    page: Page, live_app, live_url, log_in, accessible
) -> None:
    first, second = hand_in(live_app)  # two knowledge evidence lines left as gaps
    log_in(*ASSESSOR)

    page.goto(f"{live_url}/units/TLII5018")
    page.get_by_role("link", name="Observation checklists and question banks").click()
    # The demo's checklist is there already; the assessor adds a question bank beside it.
    expect(
        page.get_by_role("row").filter(has_text="Observation at the workplace, TLII5018")
    ).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="New question bank").click()
    page.get_by_label("Title").fill("Knowledge questions, TLII5018")
    page.get_by_label(f"{first} ").fill("What do you check before a site visit?")
    page.get_by_label(f"{second} ").fill(
        "Who do you tell when a plan changes?\nHow do you record it?"
    )
    accessible(page)
    page.get_by_role("button", name="Save the template").click()
    expect(flash(page, "Question bank “Knowledge questions, TLII5018” is saved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Knowledge questions")).to_contain_text("3")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/dashboard")
    # On a phone the navigation folds away behind its button.
    page.get_by_role("button", name="Toggle navigation").click()
    open_review(page, Counter(page))
    page.get_by_role("link", name="Lee Learner, TLII5018").click()  # from E1 to the review
    page.get_by_role("link", name="Knowledge questions, TLII5018").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Knowledge questions, TLII5018")
    assert fits_the_screen(page)
    accessible(page)

    # Saved with nothing answered: refused, the note typed so far stays.
    page.get_by_label("Notes").fill("Asked at the depot, after the toolbox talk.")
    page.get_by_role("button", name="Save the record").click()
    expect(flash(page, "No question has an answer")).to_be_visible()
    expect(page.get_by_label("Notes")).to_have_value("Asked at the depot, after the toolbox talk.")

    page.get_by_label("What do you check before a site visit?").fill(
        "The permit, the traffic plan and who is on site."
    )
    page.get_by_label("Who do you tell when a plan changes?").fill("The site supervisor, first.")
    page.get_by_role("button", name="Save the record").click()
    expect(
        flash(
            page,
            f"Competency conversation recorded: {first}, {second} signed off and judged "
            "satisfactory.",
        )
    ).to_be_visible()
    for ref in (first, second):  # no longer gaps: signed off
        row = page.locator("tr").filter(has=page.locator("th", has_text=starting_with(ref)))
        expect(row).to_have_count(1)
        expect(row).not_to_have_attribute("data-gap", "")
        expect(row).to_contain_text("Signed off")
    row.get_by_text("details").click()
    expect(row).to_contain_text("The site supervisor, first.")
    expect(row).not_to_contain_text("How do you record it?")  # not asked, not recorded
    accessible(page)
