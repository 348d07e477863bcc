"""Each person's picture on their first page, in the browser with the demo data: charts drawn
from the tables, axe clean, readable on a phone."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

PHONE = {"width": 390, "height": 844}


def charts_drawn(page: Page) -> int:
    """How many canvases Chart.js drew a chart on (once the page's scripts have run)."""
    page.wait_for_load_state()
    return page.evaluate(
        "Array.from(document.querySelectorAll('[data-figure] canvas'))"
        ".filter(c => window.Chart && Chart.getChart(c)).length"
    )


def test_each_person_sees_their_picture(
    page: Page, browser: Browser, live_url: str, log_in, accessible
) -> None:
    log_in("admin@example.org", "admin-demo-pass")
    expect(page.get_by_role("heading", name="The RTO at a glance")).to_be_visible()
    states = page.locator("section[aria-labelledby='fig-states']")
    # Sam's TLII5018 decided Competent; Lee's TLII5018 and BSBCUS501 in draft.
    expect(states.get_by_role("row", name="TLII5018 1 0 0 0 0 0 1 0 0 0 0 0 2")).to_be_visible()
    expect(states.get_by_role("row", name="BSBCUS501")).to_be_visible()
    assert charts_drawn(page) >= 5
    accessible(page)
    page.get_by_role("link", name="Filter by unit, assessor and period").click()
    page.get_by_label("Unit", exact=True).select_option("TLII5018")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="The RTO at a glance")).to_be_visible()
    assert "unit=TLII5018" in page.url
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as CSV Learners by state, per unit").click()
    assert download.value.suggested_filename.startswith("states-")
    page.get_by_role("button", name="Log out").click()

    for email, password, heading in (
        ("assessor@example.org", "assessor-demo-pass", "Your queue and decisions"),
        ("learner@example.org", "learner-demo-pass", "My units"),
    ):
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        small = phone.new_page()
        small.goto(f"{live_url}/login")
        small.get_by_label("Email").fill(email)
        small.get_by_label("Password").fill(password)
        small.get_by_role("button", name="Log in").click()
        expect(small.get_by_role("heading", name=heading)).to_be_visible()
        assert charts_drawn(small) >= 1
        if email.startswith("learner"):
            # Each unit over time, beside the progress in each unit: lines, drawn too.
            expect(small.get_by_role("heading", name="TLII5018 over time")).to_be_visible()
            assert charts_drawn(small) >= 2
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        accessible(small)
        phone.close()
