"""A learner builds a TLII5018 portfolio in the browser and submits it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import EvidenceFile, Submission
from tests.files import docx_bytes, pdf_bytes


def lees(model) -> int:
    """How many files or submissions Lee has (the demo data holds another learner's too)."""
    from portfolio.models import Enrolment, EvidenceItem, EvidenceVersion, User

    lee = (
        select(Enrolment.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(User.email == "learner@example.org")
    )
    if model is Submission:
        return db.session.scalar(
            select(func.count(Submission.id)).where(Submission.enrolment_id.in_(lee))
        )
    return db.session.scalar(
        select(func.count(EvidenceFile.id))
        .join(EvidenceVersion, EvidenceFile.version_id == EvidenceVersion.id)
        .join(EvidenceItem, EvidenceVersion.item_id == EvidenceItem.id)
        .where(EvidenceItem.enrolment_id.in_(lee))
    )


def coverage_text(page: Page) -> str:
    return page.locator("[data-coverage]").first.inner_text()


def covered(page: Page) -> int:
    return int(coverage_text(page).split("/")[0])


def test_learner_uploads_maps_watches_coverage_and_submits(
    page: Page, live_url: str, live_app, log_in, accessible, tmp_path: Path
) -> None:
    plan = tmp_path / "customer-service-plan.pdf"
    plan.write_bytes(pdf_bytes("Customer service plan for Q3"))
    log_file = tmp_path / "complaint-log.docx"
    log_file.write_bytes(docx_bytes("Complaint log", "Refund issued within 24 hours."))

    log_in("learner@example.org", "learner-demo-pass")
    accessible(page)
    expect(page.get_by_role("heading", name="Welcome, Lee Learner")).to_be_visible()

    page.get_by_role("link", name=re.compile("^TLII5018")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TLII5018")
    accessible(page)
    assert covered(page) == 0
    total = int(coverage_text(page).split("/")[1].split()[0])

    # One item, two files picked at once; each gets its own progress bar.
    page.get_by_role("link", name="Add evidence").first.click()
    accessible(page)
    page.get_by_label("Title").fill("Customer service plan and complaint log")
    page.get_by_label("Type").select_option(label="Plan")
    page.get_by_label("Date the work was done").fill("2026-10-01")
    page.get_by_label("Description").fill("**Plan** for the quarter, and the log that follows it.")
    expect(page.locator("#item-form")).to_have_attribute("data-uploads", "ready")
    page.locator('input[type="file"]').set_input_files([str(plan), str(log_file)])
    bars = page.get_by_role("progressbar")
    expect(bars).to_have_count(2)
    expect(page.get_by_text("Uploaded. It is added when you save.")).to_have_count(2)
    for bar in bars.all():
        expect(bar).to_have_attribute("aria-valuenow", "100")
    accessible(page)
    page.get_by_role("button", name="Save evidence").click()

    # Saving leads straight to mapping from the item: this evidence shows 1.1 and 1.2.
    expect(page.get_by_text("Saved E1. Now say which criteria it shows.")).to_be_visible()
    accessible(page)
    page.get_by_role("checkbox", name=re.compile(r"^1\.1\b")).check()
    page.get_by_role("checkbox", name=re.compile(r"^1\.2\b")).check()
    page.get_by_label("How E1 shows 1.1").fill("Section 2 sets the service standards")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("E1 is mapped to 2 criteria.")).to_be_visible()
    expect(page.locator("[data-coverage]").first).to_have_text(f"2 / {total} covered")
    expect(page.get_by_text("Section 2 sets the service standards")).to_be_visible()
    accessible(page)
    with live_app.app_context():
        assert lees(EvidenceFile) == 2

    # The item shows both files; the Word file is readable without downloading it.
    page.get_by_role("link", name=re.compile("^E1 Customer service plan")).first.click()
    expect(page.get_by_role("link", name="customer-service-plan.pdf", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="complaint-log.docx", exact=True)).to_be_visible()
    accessible(page)
    view_pdf = page.get_by_role("link", name="view customer-service-plan.pdf")
    shown = page.request.get(live_url + view_pdf.get_attribute("href"))
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    page.get_by_role("link", name=re.compile("read in the browser")).click()
    expect(page.get_by_text("Refund issued within 24 hours.")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="TLII5018").first.click()

    # Map from a criterion: attach the same evidence to 2.1.
    page.get_by_role("link", name="Attach existing evidence to 2.1").click()
    accessible(page)
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Attach").click()
    expect(page.locator("[data-coverage]").first).to_have_text(f"3 / {total} covered")

    page.get_by_role("link", name="Gaps only").click()
    expect(page.locator("#pc-1\\.1")).to_have_count(0)
    expect(page.locator("[data-gap]").first).to_be_visible()
    accessible(page)

    # Submit; a double click still makes one submission.
    page.get_by_role("link", name="Show everything").click()
    page.get_by_role("link", name="Submit for assessment").click()
    accessible(page)
    page.get_by_label("I make this declaration").check()
    page.get_by_role("button", name="Submit for assessment").dblclick()
    expect(page.get_by_text(re.compile(r"Submitted \(round 1\)"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"release \d+ · Submitted\b"))).to_be_visible()
    expect(page.get_by_role("link", name="Add evidence")).to_have_count(0)  # frozen now
    accessible(page)
    with live_app.app_context():
        assert lees(Submission) == 1

    # The dashboard shows the coverage reached.
    page.get_by_role("link", name="My work").first.click()
    card = page.locator(".card", has_text="TLII5018")
    expect(card.locator("[data-coverage]")).to_have_text(f"3 / {total} covered")
    expect(card).to_contain_text("Submitted")
    accessible(page)


def test_drag_and_drop_and_refused_files_explain_themselves(
    page: Page, live_url: str, log_in, accessible, tmp_path: Path
) -> None:
    """A dropped file uploads with its bar; a disguised file is refused with what is allowed."""
    disguised = tmp_path / "report.pdf"
    disguised.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(120))  # a program, named as a PDF

    log_in("learner@example.org", "learner-demo-pass")
    page.get_by_role("link", name=re.compile("^TLII5018")).click()
    page.get_by_role("link", name="Add evidence").first.click()

    expect(page.locator("#item-form")).to_have_attribute("data-uploads", "ready")

    page.locator('input[type="file"]').set_input_files(str(disguised))
    refusal = page.get_by_text(re.compile("not a file type we accept"))
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("PDF")
    accessible(page)

    # Drop a real PDF on the drop zone, as a file dragged from the desktop would arrive.
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            const file = new File([new Uint8Array(bytes)], "dropped-plan.pdf",
                                  {type: "application/pdf"});
            transfer.items.add(file);
            return transfer;
        }""",
        list(pdf_bytes("Dropped plan")),
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    dropped = page.locator("#upload-list li", has_text="dropped-plan.pdf")
    expect(dropped).to_contain_text("Uploaded. It is added when you save.")
    expect(dropped.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")

    page.get_by_label("Title").fill("Dropped plan")
    page.get_by_role("button", name="Save evidence").click()
    expect(
        page.get_by_text(re.compile(r"Saved E\d+\. Now say which criteria it shows\."))
    ).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^E\d+$")).first.click()
    expect(page.get_by_role("link", name="dropped-plan.pdf", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="report.pdf", exact=True)).to_have_count(0)
