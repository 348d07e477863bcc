"""Not yet competent, and a second attempt, in the browser.

The learner maps one plan to every criterion but 2.3 and submits. The assessor flags the plan
as possibly not the learner's own work: the per-element action then leaves it alone and says
why. After overriding the flag with the supervisor's word, the assessor marks the sections,
judges 2.3 not yet satisfactory and records Not yet competent. The learner reads the reason at
2.3. The assessor opens attempt 2 with a plan; the learner adds a coaching record for 2.3 and
submits again; the assessor accepts it and records Competent.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.test_assessment_journey import (
    ASSESSOR,
    LEARNER,
    SECTION_BUTTON,
    TOTAL,
    add_evidence,
    flash,
    log_out,
    map_all_but,
    map_coaching_record,
    mark_section,
    open_from_queue,
    open_portfolio,
    pdfs,
    row,
    start_review,
)
from tests.browser.test_assessment_journey import submit as submit_portfolio
from tests.dates import TODAY

WHY = "Nothing shows you checking delivery against the service standard."
PLAN = "Show how you coach a colleague to the service standard, with a record of it."
ELEMENT_1 = "Element 1 Plan to meet internal and external customer requirements"
# The sections with how many targets each judges satisfactory in attempt 1 (2.3 is left out).
SECTIONS = {
    ELEMENT_1: 2,
    "Element 2 Ensure delivery of quality products/services": 3,
    "Element 3 Monitor, adjust and report customer service": 4,
    "Performance evidence": 7,
    "Knowledge evidence": 7,
}


def on_dashboard(page: Page) -> Locator:
    """Where the dashboard says the TLII5018 enrolment stands."""
    return page.locator(".card", has_text="TLII5018").locator("[data-standing]")


def standing_panel(page: Page) -> Locator:
    """The portfolio's panel saying where the learner stands and what to do next."""
    return page.get_by_role("status").filter(has=page.locator("#standing-heading"))


def test_not_yet_competent_then_a_second_attempt_reaches_competent(
    page: Page, live_url: str, log_in, accessible, tmp_path: Path
) -> None:
    plan, coaching = pdfs(tmp_path)

    # 1. The learner maps the plan to everything but 2.3 and submits.
    log_in(*LEARNER)
    open_portfolio(page, accessible)
    add_evidence(page, accessible, title="Customer service plan", pdf=plan, number=1)
    map_all_but(page, ("2.3",))
    submit_portfolio(page, accessible, round_number=1)
    log_out(page)

    # 2. The assessor flags the plan's authenticity; the section action leaves it alone.
    log_in(*ASSESSOR)
    open_from_queue(page, accessible, round_label="First submission")
    review_url = page.url.split("#")[0]
    page.get_by_role("link", name="E1 Customer service plan").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("E1 Customer service plan")
    authentic = page.locator(".border", has=page.get_by_role("heading", name="Authentic"))
    authentic.get_by_label("Flagged").check()
    authentic.get_by_label("Note on authentic").fill("Not signed by the supervisor.")
    authentic.get_by_role("button", name="Save authentic").click()
    expect(flash(page, "Authentic: recorded for E1.")).to_be_visible()
    expect(page.locator("[data-blocking]")).to_be_visible()
    accessible(page)

    page.goto(review_url)
    pattern = re.escape(SECTION_BUTTON) + r"\s*: " + re.escape(ELEMENT_1) + "$"
    page.get_by_role("button", name=re.compile(pattern)).click()
    expect(flash(page, f"{ELEMENT_1}: 0 judged satisfactory;")).to_be_visible()
    expect(flash(page, "Left for you: not accepted, flagged: E1")).to_be_visible()
    expect(row(page, "pc-1.1").locator(".badge", has_text="Satisfactory")).to_have_count(0)
    accessible(page)

    # The supervisor vouches for the plan by phone: the assessor records an override.
    page.get_by_role("link", name="E1 Customer service plan").first.click()
    authentic = page.locator(".border", has=page.get_by_role("heading", name="Authentic"))
    authentic.get_by_text("Override this flag").click()
    authentic.get_by_label(re.compile("^Why the decisions may go past")).fill(
        "The supervisor confirmed by phone that the plan is the learner's own."
    )
    authentic.get_by_role("button", name="Record the override").click()
    expect(flash(page, "Authentic: the flag on E1 is overridden.")).to_be_visible()
    expect(authentic.get_by_text("Overridden")).to_be_visible()
    expect(page.locator("[data-blocking]")).to_have_count(0)
    accessible(page)

    page.goto(review_url)
    for title, judged in SECTIONS.items():
        mark_section(page, accessible, title, judged)
    gap = row(page, "pc-2.3")
    gap.get_by_role("radio", name="Not yet satisfactory").check()
    gap.get_by_label("Comment on 2.3").fill(WHY)
    gap.get_by_role("button", name="Save judgement of 2.3").click()
    expect(flash(page, "2.3: not yet satisfactory.")).to_be_visible()

    page.get_by_role("link", name="Record the outcome").click()
    blockers = page.locator("[data-blockers]")
    expect(blockers).to_contain_text("2.3: no accepted evidence or sign-off")
    expect(blockers.get_by_role("link", name="2.3")).to_have_attribute(
        "href", re.compile("#pc-2.3$")
    )
    accessible(page)
    page.get_by_role("radio", name="Not yet competent").check()
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Record the outcome").click()
    expect(flash(page, "Outcome recorded: Not yet competent.")).to_be_visible()
    log_out(page)

    # 3. The learner reads where they stand and why.
    log_in(*LEARNER)
    expect(on_dashboard(page)).to_have_text("Not yet competent")
    open_portfolio(page, accessible)
    standing = standing_panel(page)
    expect(standing.locator("[data-standing]")).to_have_text("Not yet competent")
    expect(standing).to_contain_text("Your assessor can open another attempt for you.")
    expect(standing.get_by_role("link", name="2.3")).to_be_visible()
    expect(page.locator("li#pc-2\\.3")).to_contain_text("To work on")
    expect(page.locator("li#pc-2\\.3")).to_contain_text(WHY)
    expect(page.locator("li#pc-1\\.1")).to_contain_text("Satisfactory")
    expect(page.locator("[data-judged]")).to_have_text(
        f"{TOTAL - 1} of {TOTAL} criteria judged satisfactory by your assessor."
    )
    expect(page.get_by_role("link", name="Add evidence")).to_have_count(0)
    log_out(page)

    # 4. The assessor opens attempt 2 with a plan and a date.
    due = TODAY + timedelta(days=14)
    log_in(*ASSESSOR)
    page.goto(review_url)
    page.get_by_role("link", name="Open a reassessment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Open attempt 2 for Lee Learner")
    expect(page.get_by_role("listitem").filter(has_text="2.3")).to_contain_text(WHY)
    accessible(page)
    page.get_by_label("What the learner must show in this attempt").fill(PLAN)
    page.get_by_label("Submit by").fill(due.isoformat())
    page.get_by_role("button", name="Open the reassessment").click()
    expect(flash(page, "Attempt 2 is open: Lee Learner sees what to work on.")).to_be_visible()
    log_out(page)

    # 5. The learner reads the plan, adds the coaching record for 2.3 and submits.
    log_in(*LEARNER)
    expect(on_dashboard(page)).to_have_text("Attempt 2")
    open_portfolio(page, accessible)
    standing = standing_panel(page)
    expect(standing).to_contain_text(PLAN)
    expect(standing).to_contain_text(f"submit again by {due:%d/%m/%Y}")
    add_evidence(page, accessible, title="Coaching record", pdf=coaching, number=2)
    map_coaching_record(page)
    submit_portfolio(page, accessible, round_number=2)
    log_out(page)

    # 6. The assessor accepts attempt 2's evidence and records Competent.
    log_in(*ASSESSOR)
    page.goto(review_url)
    start_review(page, accessible)
    for title in SECTIONS:
        pattern = re.escape(SECTION_BUTTON) + r"\s*: " + re.escape(title) + "$"
        page.get_by_role("button", name=re.compile(pattern.replace("/", r"\/"))).click()
        expect(
            flash(page, re.compile(re.escape(title) + r": \d+ judged satisfactory"))
        ).to_be_visible()
    expect(row(page, "pc-2.3").get_by_text("E2 for 2.3: accepted")).to_be_attached()
    page.get_by_role("link", name="Record the outcome").click()
    expect(page.locator("[data-blockers]")).to_have_count(0)
    page.get_by_role("radio", name=re.compile("^Competent")).check()
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Record the outcome").click()
    expect(flash(page, "Outcome recorded: Competent.")).to_be_visible()
    accessible(page)
    log_out(page)

    log_in(*LEARNER)
    expect(on_dashboard(page)).to_have_text("Competent")
    open_portfolio(page, accessible)
    expect(page.locator("#standing-heading")).to_have_text("Competent")
    expect(page.locator("li#pc-2\\.3")).to_contain_text("Satisfactory")
    expect(page.locator("li#pc-2\\.3")).not_to_contain_text("To work on")
