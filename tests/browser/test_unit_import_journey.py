"""An admin adds a unit nobody has loaded by pasting its page, enrols a learner in it and takes
its framework to Moodle and Mahara."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

TEXT = (Path(__file__).resolve().parents[1] / "units" / "texts" / "TAEASS301.txt").read_text(
    encoding="utf-8"
)


def test_admin_pastes_a_new_unit_enrols_a_learner_and_exports_it(
    page: Page, live_url: str, log_in, accessible
) -> None:
    log_in("admin@example.org", "admin-demo-pass")
    page.get_by_role("link", name="Units").first.click()
    page.get_by_role("link", name="Add a unit from its text").click()
    accessible(page)

    # The summary page gives neither code nor title: the page asks for them.
    page.get_by_label("Unit text").fill(TEXT)
    page.get_by_role("button", name="Read the text").click()
    expect(page.get_by_text("This cannot be saved yet.")).to_be_visible()
    expect(page.get_by_text("The text gives no code: type it here.")).to_be_visible()
    expect(page.get_by_text("The text gives no release: type it here.")).to_be_visible()
    expect(page.get_by_role("button", name="Save unit")).to_have_count(0)
    accessible(page)

    # Beside the source: the boilerplate is dropped, each element shows where it came from.
    source = page.get_by_role("table", name="Source lines and what each became")
    expect(source.locator("tr", has_text="Google Links")).to_contain_text("page text")
    expect(source.locator("tr", has_text="Record and report findings")).to_contain_text("element")

    page.get_by_label("Code").fill("TAEASS301")
    page.get_by_label("Title").fill("Contribute to assessment")
    page.get_by_label("Release").fill("1")
    page.get_by_role("button", name="Read the text").click()
    expect(page.get_by_role("status")).to_contain_text("TAEASS301 release 1: 4 elements")
    parsed = page.locator("#parsed-unit")
    expect(parsed).to_contain_text("clarifying the role to be taken during the assessment")
    accessible(page)

    page.get_by_role("button", name="Save unit").click()
    expect(page.get_by_text("Added TAEASS301 release 1.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contribute to assessment")
    accessible(page)

    # Its framework for the LMS and the e-portfolio.
    with page.expect_download() as moodle:
        page.get_by_role("button", name=re.compile("Moodle")).click()
    rows = list(csv.reader(io.StringIO(Path(moodle.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["Parent ID number", "ID number"]
    assert any("TAEASS301" in cell for cell in rows[1])
    with page.expect_download() as mahara:
        page.get_by_role("button", name=re.compile("Mahara")).click()
    matrix = json.loads(Path(mahara.value.path()).read_text(encoding="utf-8"))
    assert "TAEASS301" in json.dumps(matrix)

    # Learners can be enrolled in it like any other unit.
    page.get_by_role("link", name="Enrolments").first.click()
    page.get_by_label("Learner", exact=True).fill("learner@example.org")
    page.get_by_label("Unit", exact=True).select_option("TAEASS301")
    page.get_by_role("button", name="Enrol").click()
    expect(
        page.get_by_text(re.compile(r"Enrolled Lee Learner in TAEASS301 release 1\."))
    ).to_be_visible()
    accessible(page)
