"""The whole assessment loop in the browser: submit, review, return a gap, resubmit, decide.

The learner maps one PDF to every criterion but 2.3 and KE 3 and submits. The assessor accepts
the mapped evidence section by section, returns 2.3 with feedback and leaves KE 3 open. The
learner reads the feedback, adds evidence for 2.3 and resubmits. The assessor marks 2.3
satisfactory, signs off KE 3 by competency conversation, judges it and records Competent.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.dates import TODAY
from tests.files import pdf_bytes

LEARNER = ("learner@example.org", "learner-demo-pass")
ASSESSOR = ("assessor@example.org", "assessor-demo-pass")
LEARNER_NAME = "Lee Learner"
TOTAL = 24  # TLII5018 release 1: 10 criteria, 7 performance and 7 knowledge evidence lines

LEFT_OUT = ("2.3", "KE 3")
RETURNED_FEEDBACK = "Add a record of coaching a colleague who was missing the service standard."

# The matrix sections with how many targets each should judge satisfactory in round 1.
SECTIONS = {
    "Element 1 Plan to meet internal and external customer requirements": 2,
    "Element 2 Ensure delivery of quality products/services": 3,  # 2.3 is a gap
    "Element 3 Monitor, adjust and report customer service": 4,
    "Performance evidence": 7,
    "Knowledge evidence": 6,  # KE 3 is a gap
}
SECTION_BUTTON = "Accept mapped evidence and mark satisfactory"


# --- Helpers ---------------------------------------------------------------------------------


def flash(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("alert").filter(has_text=text)


def row(page: Page, anchor: str) -> Locator:
    """A row of the review matrix by its target's anchor (``pc-2.3``, ``ke-3``)."""
    return page.locator("tr#" + anchor.replace(".", "\\."))


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def open_portfolio(page: Page, accessible) -> None:
    """From the learner's dashboard to the TLII5018 portfolio."""
    page.get_by_role("link", name=re.compile("^TLII5018")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TLII5018")
    accessible(page)


def add_evidence(page: Page, accessible, *, title: str, pdf: Path, number: int) -> None:
    """Add an item with one PDF; ends on its mapping page."""
    page.get_by_role("link", name="Add evidence").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    accessible(page)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Type").select_option(label="Plan")
    page.get_by_label("Date the work was done").fill(TODAY.isoformat())
    expect(page.locator("#item-form")).to_have_attribute("data-uploads", "ready")
    page.locator('input[type="file"]').set_input_files(str(pdf))
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("Uploaded. It is added when you save.")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Save evidence").click()
    expect(flash(page, f"Saved E{number}. Now say which criteria it shows.")).to_be_visible()
    accessible(page)


def target_checkbox(page: Page, ref: str) -> Locator:
    return page.get_by_role("checkbox", name=re.compile("^" + re.escape(ref) + r"\b"))


def submit(page: Page, accessible, *, round_number: int) -> None:
    """From the portfolio page: submit with the declaration."""
    page.get_by_role("link", name="Submit for assessment").click()
    expect(page.get_by_role("heading", name="Submit TLII5018 for assessment")).to_be_visible()
    accessible(page)
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Submit for assessment").click()
    expect(flash(page, f"Submitted (round {round_number}).")).to_be_visible()
    accessible(page)


def open_from_queue(page: Page, accessible, *, round_label: str) -> None:
    """From the assessor's dashboard: the queue, then the learner's review, started by the
    same click (no separate Start)."""
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    entry = page.get_by_role("row").filter(has_text=LEARNER_NAME)
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("TLII5018")
    expect(entry).to_contain_text(round_label)
    accessible(page)
    entry.get_by_role("button", name=LEARNER_NAME).click()
    on_the_review(page, accessible)


def start_review(page: Page, accessible) -> None:
    page.get_by_role("button", name="Start review").click()
    on_the_review(page, accessible)


def on_the_review(page: Page, accessible) -> None:
    """A review just started opens on its first item still to decide; from there, the
    review's matrix (the sections are marked there)."""
    expect(flash(page, "Review started.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^E\d+ "))
    accessible(page)
    page.get_by_role("link", name=f"{LEARNER_NAME}, TLII5018").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{LEARNER_NAME}: TLII5018")
    expect(page.locator("[data-state]")).to_have_text("In review")
    accessible(page)


def mark_section(page: Page, accessible, title: str, judged: int) -> None:
    # The hidden ": <section>" is absolutely positioned, so Chromium puts a space before it;
    # a bare "/" would end Playwright's regex selector early.
    pattern = re.escape(SECTION_BUTTON) + r"\s*: " + re.escape(title) + "$"
    name = re.compile(pattern.replace("/", r"\/"))
    page.get_by_role("button", name=name).click()
    expect(flash(page, f"{title}: {judged} judged satisfactory;")).to_be_visible()
    accessible(page)


def pdfs(folder: Path) -> tuple[Path, Path]:
    """The learner's two files: a customer service plan and a record of coaching a colleague."""
    plan = folder / "customer-service-plan.pdf"
    plan.write_bytes(pdf_bytes("Customer service plan for Q3"))
    coaching = folder / "coaching-record.pdf"
    coaching.write_bytes(pdf_bytes("Coaching record: Sam, service standards"))
    return plan, coaching


def map_all_but(page: Page, refs: tuple[str, ...]) -> None:
    """On E1's mapping page: tick every criterion but ``refs`` and save with a note on 1.1."""
    left_out = {target_checkbox(page, ref).get_attribute("id") for ref in refs}
    for box in page.get_by_role("checkbox").all():
        if box.get_attribute("id") not in left_out:
            box.check()
    note = page.get_by_label("How E1 shows 1.1")
    note.fill("Section 2 researches customer needs")
    # Enter in the note saves the form, as a keyboard user would: the long page is still
    # scrolling smoothly after the last tick, and a pointer click can land beside the button.
    note.press("Enter")
    expect(flash(page, f"E1 is mapped to {TOTAL - len(refs)} criteria.")).to_be_visible()


def map_coaching_record(page: Page) -> None:
    """On E2's mapping page: map it to 2.3 with a note."""
    target_checkbox(page, "2.3").check()
    note = page.get_by_label("How E2 shows 2.3")
    note.fill("Notes from coaching Sam to the standard")
    note.press("Enter")
    expect(flash(page, "E2 is mapped to 1 criterion.")).to_be_visible()


# --- The journey -----------------------------------------------------------------------------


def test_assessor_returns_a_gap_then_signs_off_the_last_and_records_competent(
    page: Page, live_url: str, log_in, accessible, tmp_path: Path
) -> None:
    plan, coaching = pdfs(tmp_path)

    # 1. The learner maps one item to everything but 2.3 and KE 3, and submits.
    log_in(*LEARNER)
    accessible(page)
    open_portfolio(page, accessible)
    add_evidence(page, accessible, title="Customer service plan", pdf=plan, number=1)
    expect(page.get_by_role("checkbox")).to_have_count(TOTAL)
    for ref in LEFT_OUT:
        expect(target_checkbox(page, ref)).to_have_count(1)
    map_all_but(page, LEFT_OUT)
    expect(page.locator("[data-coverage]").first).to_have_text(f"22 / {TOTAL} covered")
    expect(page.locator("li[data-gap]")).to_have_count(2)
    accessible(page)
    submit(page, accessible, round_number=1)
    log_out(page)

    # 2. The assessor accepts the mapped evidence section by section and returns 2.3.
    log_in(*ASSESSOR)
    accessible(page)
    open_from_queue(page, accessible, round_label="First submission")
    expect(row(page, "pc-1.1").get_by_text("E1 for 1.1: pending")).to_be_attached()
    for title, judged in SECTIONS.items():
        mark_section(page, accessible, title, judged)

    expect(page.locator("[data-coverage]").first).to_have_text(f"22 / {TOTAL} covered")
    expect(page.locator("tr[data-gap]")).to_have_count(2)
    for anchor in ("pc-2.3", "ke-3"):
        expect(row(page, anchor)).to_have_attribute("data-gap", "")
        expect(row(page, anchor).get_by_text("Gap", exact=True)).to_be_visible()
        expect(row(page, anchor).locator(".badge", has_text="Satisfactory")).to_have_count(0)
    expect(row(page, "pc-1.1").get_by_text("E1 for 1.1: accepted")).to_be_attached()
    expect(row(page, "pc-1.1").get_by_text("Satisfactory", exact=True).first).to_be_visible()
    expect(row(page, "pc-1.1")).not_to_have_attribute("data-gap", "")

    # The outcome cannot be recorded yet: two criteria have no judgement.
    page.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record the outcome")
    expect(page.get_by_text("2 criteria have no judgement yet (2.3, KE 3)")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{LEARNER_NAME}: TLII5018")

    page.get_by_role("link", name="Return to the learner").click()
    expect(
        page.get_by_role("heading", name=f"Return the portfolio to {LEARNER_NAME}")
    ).to_be_visible()
    accessible(page)
    expect(page.get_by_role("group", name="Gaps (2)")).to_be_visible()
    page.get_by_role("textbox", name=re.compile(r"^2\.3\b")).fill(RETURNED_FEEDBACK)
    expect(page.get_by_role("textbox", name=re.compile(r"^KE 3\b"))).to_have_value("")
    page.get_by_role("button", name="Return to the learner").click()
    expect(flash(page, f"Returned to {LEARNER_NAME} with your feedback.")).to_be_visible()
    expect(page.locator("[data-state]")).to_have_text("Returned")
    expect(page.get_by_role("link", name=re.compile("^Sign off"))).to_have_count(0)
    accessible(page)
    log_out(page)

    # 3. The learner reads the feedback, adds evidence for 2.3 and submits round 2.
    log_in(*LEARNER)
    open_portfolio(page, accessible)
    returned = page.locator("section", has=page.locator("#returned-heading"))
    expect(returned).to_contain_text("more evidence needed")
    expect(returned.get_by_role("listitem")).to_have_count(1)
    expect(returned).to_contain_text(f"2.3: {RETURNED_FEEDBACK}")
    expect(page.locator("li#pc-2\\.3")).to_contain_text(f"Your assessor: {RETURNED_FEEDBACK}")
    expect(page.locator("li#pc-2\\.3")).to_contain_text("To work on")
    expect(page.locator("li#ke-3")).not_to_contain_text("To work on")
    add_evidence(page, accessible, title="Coaching record", pdf=coaching, number=2)
    map_coaching_record(page)
    expect(page.locator("[data-coverage]").first).to_have_text(f"23 / {TOTAL} covered")
    accessible(page)
    submit(page, accessible, round_number=2)
    log_out(page)

    # 4. The assessor marks 2.3, signs off KE 3 by conversation, judges it and decides.
    log_in(*ASSESSOR)
    open_from_queue(page, accessible, round_label="Resubmission 2")
    expect(row(page, "pc-2.3").get_by_text("E2 for 2.3: pending")).to_be_attached()
    mark_section(page, accessible, "Element 2 Ensure delivery of quality products/services", 1)
    expect(row(page, "pc-2.3")).not_to_have_attribute("data-gap", "")
    expect(row(page, "pc-2.3").get_by_text("E2 for 2.3: accepted")).to_be_attached()
    expect(row(page, "pc-2.3").get_by_text("Satisfactory", exact=True).first).to_be_visible()
    expect(page.locator("tr[data-gap]")).to_have_count(1)

    row(page, "ke-3").get_by_role("link", name="Sign off the gap at KE 3").click()
    expect(page.get_by_role("heading", name="Sign off the gap at KE 3")).to_be_visible()
    accessible(page)
    page.get_by_role("radio", name="Competency conversation").check()
    page.get_by_label("Date it took place").fill(TODAY.isoformat())
    page.get_by_label("Question asked").first.fill(
        "Which quality management system does your depot use, and how do you apply it?"
    )
    page.get_by_label("Answer given").first.fill(
        "ISO 9001: we log non-conformances, review them weekly and update the procedures."
    )
    # The conversation had a fourth question: the page adds a row for it.
    expect(page.get_by_label("Question asked")).to_have_count(3)
    page.get_by_role("button", name="Add a question").click()
    expect(page.get_by_label("Question asked")).to_have_count(4)
    expect(page.get_by_label("Question asked").nth(3)).to_be_focused()
    page.get_by_label("Question asked").nth(3).fill("Who signs off a corrective action?")
    page.get_by_label("Answer given").nth(3).fill("The depot manager, after a second check.")
    expect(page.get_by_label("Judge each criterion it covers satisfactory")).to_be_checked()
    page.get_by_role("button", name="Sign off", exact=True).click()
    expect(flash(page, "The gap at KE 3 is signed off and judged satisfactory.")).to_be_visible()
    ke3 = row(page, "ke-3")
    expect(ke3).not_to_have_attribute("data-gap", "")
    expect(ke3).to_contain_text(f"Competency conversation, {TODAY:%d/%m/%Y}")
    expect(ke3).to_contain_text("Who signs off a corrective action?")
    expect(page.locator("tr[data-gap]")).to_have_count(0)
    expect(page.locator("[data-coverage]").first).to_have_text(f"{TOTAL} / {TOTAL} covered")
    accessible(page)

    # Judged with the sign-off; the assessor adds a comment of their own.
    expect(ke3.get_by_role("radio", name="Satisfactory", exact=True)).to_be_checked()
    ke3.get_by_label("Comment on KE 3").fill("Clear account of the depot's QMS.")
    ke3.get_by_role("button", name="Save judgement of KE 3").click()
    expect(flash(page, "KE 3: satisfactory.")).to_be_visible()
    expect(row(page, "ke-3").get_by_text("Satisfactory", exact=True).first).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record the outcome")
    expect(page.get_by_text("no judgement yet")).to_have_count(0)
    accessible(page)
    page.get_by_role("radio", name=re.compile("^Competent")).check()
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Record the outcome").click()
    expect(flash(page, "Outcome recorded: Competent.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Outcome: Competent"))).to_be_visible()
    expect(page.locator("[data-outcome]")).to_have_text("Competent")
    expect(page.locator("[data-state]")).to_have_text("Decided")
    expect(page.get_by_role("button", name=re.compile("^" + SECTION_BUTTON))).to_have_count(0)
    accessible(page)

    # The assessor notices the conversation's answer was recorded short: a correction.
    row(page, "ke-3").get_by_role("link", name="Correct the sign-off of KE 3").click()
    expect(page.get_by_role("heading", name="Correct the sign-off of KE 3")).to_be_visible()
    accessible(page)
    answer = page.get_by_label("Answer given").first
    expect(answer).to_have_value(re.compile("^ISO 9001"))
    answer.fill("ISO 9001: non-conformances logged, reviewed weekly, procedures updated, audited.")
    page.get_by_label("Why this is corrected").fill("The answer's last step was left out.")
    page.get_by_role("button", name="Record the correction").click()
    expect(flash(page, "The sign-off of KE 3 is corrected")).to_be_visible()
    expect(page.get_by_text("sign-off of KE 3 (replaced)")).to_be_visible()
    accessible(page)
    log_out(page)

    # 5. The learner sees the outcome.
    log_in(*LEARNER)
    open_portfolio(page, accessible)
    expect(page.get_by_role("status").filter(has_text="Outcome: Competent")).to_be_visible()
    expect(page.get_by_text(re.compile(r"release 1 · Decided\b"))).to_be_visible()
    expect(page.get_by_role("link", name="Add evidence")).to_have_count(0)
    # The gap the assessor closed counts as covered, and says how it was closed.
    expect(page.locator("[data-coverage]").first).to_have_text("24 / 24 covered")
    expect(page.locator("#ke-3")).to_contain_text(
        "Signed off by Alex Assessor: competency conversation"
    )
