"""An admin bulk-imports learners from CSV, fixes a bad file, enrols one of them and places
a legal hold on the enrolment."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

BAD_CSV = (
    "name,email,student_id,usi\n"
    "Alex Nguyen,alex.nguyen@example.org,S1001,\n"
    "Sam Patel,not-an-email,S1002,\n"
)
GOOD_CSV = (
    "name,email,student_id,usi\n"
    "Alex Nguyen,alex.nguyen@example.org,S1001,\n"
    "Sam Patel,sam.patel@example.org,S1002,\n"
)


def test_admin_imports_learners_and_enrols_one(
    page: Page, live_url: str, log_in, accessible, tmp_path: Path
) -> None:
    log_in("admin@example.org", "admin-demo-pass")
    accessible(page)
    page.get_by_role("link", name="Accounts").first.click()
    accessible(page)
    page.get_by_role("link", name="Import learners (CSV)").click()
    accessible(page)

    # A file with a bad row imports nothing and names the line.
    bad = tmp_path / "cohort.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import learners").click()
    expect(page.get_by_role("heading", name=re.compile("Nothing was imported"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Line 3, email: .*not-an-email"))).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Accounts").first.click()
    expect(page.get_by_role("cell", name="alex.nguyen@example.org")).to_have_count(0)

    # The corrected file imports both, with temporary passwords shown once.
    good = tmp_path / "cohort-fixed.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    page.get_by_role("link", name="Import learners (CSV)").click()
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Import learners").click()
    expect(page.get_by_text("Imported 2 learners.")).to_be_visible()
    expect(page.get_by_role("cell", name="sam.patel@example.org")).to_be_visible()
    password = page.locator("tbody tr", has_text="Sam Patel").locator("code").inner_text()
    assert len(password) >= 12
    accessible(page)

    # Enrol Sam in BSBCUS501 with the demo assessor.
    page.get_by_role("link", name="Enrolments").first.click()
    accessible(page)
    page.get_by_label("Learner", exact=True).fill("S1002")
    page.get_by_label("Unit", exact=True).select_option("BSBCUS501")
    page.get_by_label("Assessor", exact=True).select_option(
        label="Alex Assessor (assessor@example.org)"
    )
    page.get_by_role("button", name="Enrol").click()
    expect(
        page.get_by_text(re.compile(r"Enrolled Sam Patel in BSBCUS501 release \d+\."))
    ).to_be_visible()
    row = page.locator("tbody tr", has_text="Sam Patel")
    expect(row).to_contain_text("BSBCUS501")
    expect(row.get_by_role("combobox")).to_have_value(re.compile(r"\d+"))
    accessible(page)

    # A complaint comes in: Sam's enrolment is kept past its retention dates until it is
    # resolved. A hold without a reason is refused in words.
    row.get_by_role("link", name=re.compile("Legal hold")).click()
    expect(page.get_by_role("heading", name="Not on hold")).to_be_visible()
    page.get_by_role("button", name="Place the legal hold").click()
    expect(page.get_by_text(re.compile("Say why"))).to_be_visible()
    page.get_by_label("Why the enrolment is kept").fill("Complaint C-2026-014 lodged today.")
    page.get_by_role("button", name="Place the legal hold").click()
    expect(page.get_by_text(re.compile("is on legal hold"))).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Enrolments").first.click()
    expect(page.locator("tbody tr", has_text="Sam Patel")).to_contain_text("On legal hold")

    # Sam logs in with the temporary password and finds the unit on the dashboard.
    page.get_by_role("button", name="Log out").click()
    log_in("sam.patel@example.org", password)
    expect(page.get_by_role("link", name=re.compile("^BSBCUS501"))).to_be_visible()
    accessible(page)
