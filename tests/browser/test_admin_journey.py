"""An admin bulk-imports learners from CSV, fixes a bad file, enrols one of them and places
a legal hold on the enrolment."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

BAD_CSV = (
    "name,email,student_id,usi\n"
    "Alex Nguyen,alex.nguyen@example.org,S1001,\n"
    "Sam Patel,not-an-email,S1002,\n"
)
GOOD_CSV = (
    "Name,Email,Student ID,USI\n"
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
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name=re.compile("Nothing was imported"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Line 3, email: .*not-an-email"))).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Accounts").first.click()
    expect(page.get_by_role("cell", name="alex.nguyen@example.org")).to_have_count(0)

    # The corrected file (as a spreadsheet saves it: BOM, headings with spaces) is shown
    # first, then imports both; their one-time set-up links download as CSV.
    good = tmp_path / "cohort-fixed.csv"
    good.write_text(GOOD_CSV, encoding="utf-8-sig")
    page.get_by_role("link", name="Import learners (CSV)").click()
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name=re.compile("2 learners to create"))).to_be_visible()
    expect(page.get_by_role("cell", name="sam.patel@example.org")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Create 2 accounts").click()
    expect(page.get_by_role("heading", name="Imported 2 learners")).to_be_visible()
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download set-up links (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    links = {row["Email"]: row["Set-up link"] for row in rows}
    assert set(links) == {"alex.nguyen@example.org", "sam.patel@example.org"}

    # Sam's name was misspelt in the file: the admin corrects it on the account's page.
    page.get_by_role("link", name="Accounts").first.click()
    page.get_by_role("link", name="Sam Patel").click()
    accessible(page)
    page.get_by_label("Full name").fill("Samir Patel")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved Samir Patel's account.")).to_be_visible()

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
        page.get_by_text(re.compile(r"Enrolled Samir Patel in BSBCUS501 release \d+\."))
    ).to_be_visible()
    row = page.locator("tbody tr", has_text="Samir Patel")
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
    expect(page.locator("tbody tr", has_text="Samir Patel")).to_contain_text("On legal hold")

    # Sam chooses a password with the set-up link, logs in and finds the unit.
    page.get_by_role("button", name="Log out").click()
    page.goto(live_url + "/account/setup/" + links["sam.patel@example.org"].rsplit("/", 1)[1])
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    accessible(page)
    page.get_by_label("New password", exact=True).fill("harbour lights 7 violet")
    page.get_by_label("New password again").fill("harbour lights 7 violet")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Your password is saved.")).to_be_visible()
    log_in("sam.patel@example.org", "harbour lights 7 violet")
    expect(page.get_by_role("link", name=re.compile("^BSBCUS501"))).to_be_visible()
    accessible(page)
