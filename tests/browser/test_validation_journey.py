"""A validation in the browser: the admin rates TLII5018's risk, draws a sample (refused first
with a validator who assessed it), the validator reviews the sampled portfolio and the tool on
a phone, an action is opened and closed, and the admin completes the validation and downloads
the report and the bundle for the auditor."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path

import docx
from playwright.sync_api import Browser, Page, expect

from portfolio.clock import today

PHONE = {"width": 390, "height": 844}


def test_an_rto_plans_draws_runs_and_reports_a_validation(
    page: Page, browser: Browser, live_url: str, log_in, accessible
) -> None:
    log_in("admin@example.org", "admin-demo-pass")
    page.get_by_role("link", name="Validation").first.click()
    expect(page.get_by_role("heading", name="Validation", exact=True)).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Plan TLII5018").click()
    page.get_by_label("High").check()
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("at least one reason for the risk rating")).to_be_visible()
    page.get_by_label("New assessor").check()
    page.get_by_label("Unusual outcome rates").check()
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("Saved the validation plan of TLII5018.")).to_be_visible()
    row = page.locator("[data-plans] tr", has_text="TLII5018")
    expect(row).to_contain_text("Due now")
    expect(row).to_contain_text("25% of the decided enrolments")

    row.get_by_role("link", name="Draw a sample of TLII5018").click()
    expect(page.locator("[data-population]")).to_contain_text("1 enrolment decided in the period")
    expect(page.get_by_label("Sample size")).to_have_value("1")
    accessible(page)
    # Alex assessed Sam's portfolio: refused, in words, nothing drawn.
    page.get_by_label(re.compile("^Alex Assessor")).check()
    page.get_by_role("button", name="Draw the sample").click()
    expect(
        page.get_by_text(re.compile("may not validate an enrolment they assessed"))
    ).to_be_visible()
    page.get_by_label(re.compile("^Alex Assessor")).uncheck()
    page.get_by_label(re.compile("^Val Validator")).check()
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_text("Drew 1 enrolments for validation.")).to_be_visible()
    seed = page.locator("[data-draw] code").inner_text()
    assert re.fullmatch(r"[0-9a-f]{16}", seed)
    expect(page.locator("[data-draw]")).to_contain_text("Drawn again: the same sample")
    validation_url = page.url
    accessible(page)
    page.get_by_role("button", name="Log out").click()

    # The validator, on a phone.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    validator = phone.new_page()
    validator.goto(f"{live_url}/login")
    validator.get_by_label("Email").fill("validator@example.org")
    validator.get_by_label("Password").fill("validator-demo-pass")
    validator.get_by_role("button", name="Log in").click()
    validator.goto(f"{live_url}/validations")
    validator.get_by_role("link", name=re.compile(r"^Validation \d+: TLII5018")).click()
    validator.get_by_role("link", name="Sam Learner").click()
    expect(validator.get_by_role("heading", name="Sam Learner: TLII5018")).to_be_visible()
    accessible(validator)
    for group in validator.get_by_role("group", name=re.compile("Do you agree")).all():
        group.get_by_label("Agree", exact=True).check()
    first = validator.get_by_role("group", name="Do you agree with the judgement on 1.1?")
    first.get_by_label("Disagree").check()
    validator.get_by_role("button", name="Record the findings").click()
    expect(
        validator.get_by_text("Say why you do not agree with the judgement on 1.1")
    ).to_be_visible()
    validator.get_by_label("Note on 1.1").fill("The plan does not name the customers' needs.")
    validator.get_by_role("button", name="Record the findings").click()
    expect(validator.get_by_text(re.compile("Recorded your findings"))).to_be_visible()
    expect(validator.locator("[data-sample]")).to_contain_text("1 disagree")
    for name in ("consistent", "sufficient", "valid"):
        validator.locator(f"input[name='{name}'][value='yes']").check()
    validator.get_by_role("button", name="Record the tool review").click()
    expect(validator.get_by_text("Recorded the review of the assessment tool.")).to_be_visible()
    assert validator.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    accessible(validator)

    # The admin turns the finding into an action; the validator closes it.
    log_in("admin@example.org", "admin-demo-pass")
    page.goto(validation_url)
    page.get_by_label("What is to change").fill("Ask for the customers' needs in task 1")
    page.get_by_label("Owner").select_option(label="Val Validator")
    page.get_by_label("Due").fill((today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Open the action").click()
    expect(page.get_by_text("Opened an action for Val Validator.")).to_be_visible()
    validator.goto(f"{live_url}/validations")
    validator.get_by_label("What was changed").fill("Task 1 now asks for them.")
    validator.get_by_role("button", name="Close the action").click()
    expect(validator.get_by_text("Closed the action.")).to_be_visible()
    phone.close()

    page.reload()
    expect(page.locator("[data-action]")).to_contain_text("Task 1 now asks for them.")
    page.get_by_role("button", name="Complete the validation").click()
    expect(page.get_by_text("The validation is complete.")).to_be_visible()
    accessible(page)
    with page.expect_download() as report_download:
        page.get_by_role("button", name="Download the validation report (.docx)").click()
    report = docx.Document(report_download.value.path())
    text = "\n".join(p.text for p in report.paragraphs)
    cells = "\n".join(c.text for t in report.tables for r in t.rows for c in r.cells)
    assert "Validation report" in text and seed in cells
    assert "The plan does not name the customers' needs." in cells

    page.get_by_role("button", name="Build the validation bundle").click()
    expect(page.get_by_text(re.compile(r"Ready: 1 enrolment,"))).to_be_visible(timeout=30_000)
    with page.expect_download() as bundle_download:
        page.get_by_role("button", name="Download the bundle (.zip)").click()
    assert bundle_download.value.suggested_filename.startswith("validation-bundle-")
    archive = zipfile.ZipFile(io.BytesIO(Path(bundle_download.value.path()).read_bytes()))
    draw = json.loads(archive.read("validation/sample.json"))
    assert draw["seed"] == seed and len(draw["sample"]) == 1
    assert any("/evidence-pack-" in n for n in archive.namelist())
