"""The clicks an assessor needs to assess TLII5018 fully, counted, with a ceiling.

The learner's portfolio is handed in through the services: three items covering 22 of the
24 requirements, two knowledge evidence lines left as gaps. The assessor then works in the
browser as they would: the queue, each item decided in one form (its mappings accepted and
the criteria judged with it), both gaps closed by one competency conversation that judges them
too, and the outcome. Every click is counted, and every page the browser loads; typing is not
a click. Before one decision per item and one record for many criteria this walk took about
76 clicks.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceType, Target, Unit, UnitRelease, User
from tests.browser.test_assessment_journey import ASSESSOR, LEARNER_NAME, TOTAL, flash

#: The ceilings set for the two walks: the whole unit with gaps closed by one conversation, and
#: the best case (every requirement covered by two items, no gaps).
MOST_CLICKS = 25
MOST_CLICKS_BEST_CASE = 12


def hand_in(app: Flask, *, with_gaps: bool = True) -> list[str]:
    """The demo learner's TLII5018 portfolio: criteria, performance evidence and knowledge
    evidence in three items, the last two knowledge lines left out; or, without gaps,
    everything in two items. Returns the gaps' refs."""
    with app.app_context():
        learner = db.session.scalar(select(User).where(User.email == "learner@example.org"))
        enrolment = db.session.scalar(
            select(Enrolment)
            .join(UnitRelease, UnitRelease.id == Enrolment.unit_release_id)
            .join(Unit, Unit.id == UnitRelease.unit_id)
            .where(Enrolment.learner_id == learner.id, Unit.code == "TLII5018")
        )
        targets = db.session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        ).all()
        assert len(targets) == TOTAL
        gaps = targets[-2:] if with_gaps else []
        groups = {
            "Service plan": [t for t in targets if t.anchor.startswith("pc-")],
            "Site observation notes": [t for t in targets if t.anchor.startswith("pe-")],
            "Knowledge questions": [
                t for t in targets if t.anchor.startswith("ke-") and t not in gaps
            ],
        }
        if not with_gaps:  # two items: the notes answer the knowledge questions as well
            groups["Site observation notes"] += groups.pop("Knowledge questions")
        for title, mapped in groups.items():
            item = create_item(
                db.session,
                actor=learner,
                enrolment=enrolment,
                fields=ItemFields(title, EvidenceType.REPORT, date(2026, 9, 1), f"My {title}."),
                files=[],
            )
            notes = {t.id: f"{title} shows {t.ref}." for t in mapped}
            set_item_mappings(db.session, actor=learner, item=item, notes=notes)
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        db.session.commit()
        refs = [t.ref for t in gaps]
        db.session.remove()
        return refs


class Counter:
    """Clicks made through ``click``, and pages loaded, while the walk runs."""

    def __init__(self, page: Page) -> None:
        self.clicks = 0
        self.loads = 0
        page.on("load", self._loaded)

    def _loaded(self, _page: Page) -> None:
        self.loads += 1

    def click(self, locator: Locator) -> None:
        self.clicks += 1
        locator.click()


def open_review(page: Page, count: Counter) -> None:
    """From the dashboard: the queue, then the learner's name, which starts the review and
    opens its first item still to decide."""
    count.click(page.get_by_role("link", name="Review queue"))
    count.click(
        page.get_by_role("row")
        .filter(has_text=LEARNER_NAME)
        .get_by_role("button", name=LEARNER_NAME)
    )
    expect(flash(page, "Review started.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("E1 ")


def test_assessing_tlii5018_fully_takes_at_most_25_clicks(
    page: Page, live_app, log_in, accessible
) -> None:
    gaps = hand_in(live_app)
    log_in(*ASSESSOR)
    count = Counter(page)
    open_review(page, count)

    for number in (1, 2, 3):
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"E{number} ")
        count.click(page.get_by_label("I have checked this item"))
        count.click(page.get_by_role("button", name="Save and go to the next item"))
        expect(flash(page, f"E{number}: decided.")).to_be_visible()
    expect(flash(page, "Every item of this submission is decided")).to_be_visible()
    expect(page.locator("[data-coverage]").first).to_have_text(f"22 / {TOTAL} covered")

    first, second = gaps
    count.click(page.get_by_role("link", name=f"Sign off the gap at {first}"))
    count.click(page.get_by_role("radio", name="Competency conversation"))
    page.get_by_label("Question asked").first.fill("How do you report a customer complaint?")
    page.get_by_label("Answer given").first.fill("In the complaints register, the same shift.")
    count.click(page.get_by_label(re.compile("^" + re.escape(second) + " ")))
    count.click(page.get_by_role("button", name="Sign off", exact=True))
    expect(
        flash(page, f"The gaps at {first} and {second} are signed off by one record and judged")
    ).to_be_visible()
    accessible(page)

    count.click(page.get_by_role("link", name="Record the outcome"))
    expect(page.get_by_text("no judgement yet")).to_have_count(0)
    count.click(page.get_by_role("radio", name=re.compile("^Competent")))
    count.click(page.get_by_label("I make this declaration"))
    count.click(page.get_by_role("button", name="Record the outcome"))
    expect(flash(page, "Outcome recorded: Competent.")).to_be_visible()

    print(
        f"\nAssessing TLII5018 (24 targets, 3 items, 2 gaps): {count.clicks} clicks, "
        f"{count.loads} page loads"
    )
    assert count.clicks <= MOST_CLICKS, count.clicks


def test_the_best_case_takes_at_most_12_clicks(page: Page, live_app, log_in) -> None:
    """Two items that cover every requirement, no gaps: the queue, two decisions, the outcome."""
    hand_in(live_app, with_gaps=False)
    log_in(*ASSESSOR)
    count = Counter(page)
    open_review(page, count)
    for number in (1, 2):
        count.click(page.get_by_label("I have checked this item"))
        count.click(page.get_by_role("button", name="Save and go to the next item"))
        expect(flash(page, f"E{number}: decided.")).to_be_visible()
    expect(page.locator("[data-coverage]").first).to_have_text(f"{TOTAL} / {TOTAL} covered")
    count.click(page.get_by_role("link", name="Record the outcome"))
    expect(page.get_by_text("no judgement yet")).to_have_count(0)
    count.click(page.get_by_role("radio", name=re.compile("^Competent")))
    count.click(page.get_by_label("I make this declaration"))
    count.click(page.get_by_role("button", name="Record the outcome"))
    expect(flash(page, "Outcome recorded: Competent.")).to_be_visible()
    print(f"\nBest case (24 targets, 2 items, no gaps): {count.clicks} clicks, {count.loads} loads")
    assert count.clicks <= MOST_CLICKS_BEST_CASE, count.clicks
