"""A learner's progress over time (criteria covered, and judged satisfactory once the learner
may see judgements), an assessor's learners a page at a time, and the first page's
per-assessor figures kept to the assessors that stand out."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from sqlalchemy import select, update

from portfolio.assessment import decisions, gaps, review
from portfolio.assessment.rules import Conversation
from portfolio.clock import local_date, today
from portfolio.enrolments.progress import covered_since
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import set_item_mappings, update_item
from portfolio.extensions import db
from portfolio.models import EvidenceItem, EvidenceMapping, EvidenceType, EvidenceVersion
from portfolio.models.base import utcnow
from portfolio.reports.dashboard import standing_out
from portfolio.reports.figures import (
    PROGRESS_MONTHS,
    Figure,
    periods,
    running_totals,
)
from portfolio.text import day
from tests.reports.test_dashboards import handed_in, table


def test_a_short_timeline_is_drawn_by_week_from_monday_and_a_long_one_by_month():
    heading, spans = periods(date(2026, 11, 4), date(2026, 11, 18))  # a Wednesday to a Wednesday
    assert heading == "Week of"
    assert spans == [
        (day(date(2026, 11, 2)), date(2026, 11, 8)),
        (day(date(2026, 11, 9)), date(2026, 11, 15)),
        (day(date(2026, 11, 16)), date(2026, 11, 18)),  # the week under way ends today
    ]
    heading, spans = periods(date(2025, 1, 15), date(2026, 12, 3))
    assert heading == "Month" and len(spans) == 24
    assert spans[0] == ("Jan 2025", date(2025, 1, 31)) and spans[1][1] == date(2025, 2, 28)
    assert spans[-1] == ("Dec 2026", date(2026, 12, 3))
    heading, spans = periods(date(2021, 6, 1), date(2026, 12, 3))
    assert len(spans) == PROGRESS_MONTHS and spans[0][0] == "Jan 2025"
    # Something dated after today (a clock set wrong) still gives one period, today's.
    assert periods(date(2026, 12, 9), date(2026, 12, 3))[1] == [
        (day(date(2026, 11, 30)), date(2026, 12, 3))
    ]


def test_running_totals_count_the_dates_on_or_before_each_end():
    dates = [date(2026, 11, 10), date(2026, 11, 2), date(2026, 11, 8), date(2026, 11, 30)]
    ends = [date(2026, 11, 1), date(2026, 11, 8), date(2026, 11, 15), date(2026, 12, 3)]
    assert running_totals(dates, ends) == [0, 2, 3, 4]


def over_time(page: str) -> list[list[str]]:
    return table(page, "over-time-tlii5018")


def test_a_learner_sees_each_unit_over_time_and_judgements_once_they_may(
    client, login, make_user, make_enrolment, decided
):
    enrolment = handed_in(make_user, make_enrolment)
    login(enrolment.learner)
    page = html.unescape(client.get("/dashboard").text)
    assert "TLII5018 over time" in page and 'data-chart="lines"' in page
    [progress] = table(page, "progress")
    last = over_time(page)[-1]
    # Week of, criteria covered, criteria: no judgements while the assessor has not told them.
    assert last[0] == day(today() - timedelta(days=today().weekday()))
    assert last[1] == progress[1] == "3" and last[2] == progress[3]
    assert "Judged satisfactory" not in page.split('id="fig-over-time-tlii5018"')[1][:3000]
    assert "Judgements are added here once your assessor" in page
    # Still handed in: the assessor has judged nothing the learner may see.
    review_view = review.review_view(db.session, enrolment)
    assert len(review_view.targets) == int(last[2])

    judged = decided()  # every criterion judged satisfactory, and the outcome recorded
    login(judged.learner)
    page = html.unescape(client.get("/dashboard").text)
    [progress] = table(page, "progress")
    last = over_time(page)[-1]
    total = progress[3]
    assert last[1] == progress[1] == total and last[2] == total and last[3] == total
    response = client.post("/dashboard/over-time-tlii5018.csv")
    assert response.status_code == 200
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Week of,Criteria covered,Judged satisfactory,Criteria"
    assert lines[-1].endswith(f",{total},{total},{total}")


def returned(enrolment, *, asking: int) -> review.ReviewView:
    """The assessor starts the review and returns the portfolio, asking for more on the
    criterion at ``asking`` in the review's list; the review as it was returned."""
    decisions.start_review(db.session, actor=enrolment.assessor, enrolment=enrolment)
    view = review.review_view(db.session, enrolment)
    gaps.return_to_learner(
        db.session,
        actor=enrolment.assessor,
        view=view,
        feedback={view.targets[asking].id: "Show the rest."},
        overall="Add the rest.",
    )
    db.session.commit()
    return view


def test_a_criterion_counts_from_the_first_version_mapped_to_it(make_user, make_enrolment, login):
    """A resubmission copies the mappings into a new version: the criterion was covered when
    the learner first mapped it, not when they changed the item."""
    enrolment = handed_in(make_user, make_enrolment)
    learner = enrolment.learner
    item = db.session.scalars(
        select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
    ).one()
    first = item.current_version_id
    weeks_ago = utcnow() - timedelta(days=21)
    db.session.execute(
        update(EvidenceMapping)
        .where(EvidenceMapping.version_id == first)
        .values(created_at=weeks_ago)
    )
    returned(enrolment, asking=-1)
    update_item(
        db.session,
        actor=learner,
        item=item,
        fields=ItemFields("Roster", EvidenceType.PLAN, date(2026, 10, 1), "The roster, again."),
        add_files=[],
    )
    db.session.commit()
    assert item.current_version_id != first
    copied = db.session.scalars(
        select(EvidenceMapping.created_at).where(
            EvidenceMapping.version_id == item.current_version_id
        )
    ).all()
    assert len(copied) == 3 and min(copied) > weeks_ago
    assert db.session.get(EvidenceVersion, first).item_id == item.id
    assert covered_since(db.session, [enrolment])[enrolment.id] == [local_date(weeks_ago)] * 3


def test_a_learners_progress_is_kept_until_something_about_the_enrolment_changes(
    client, login, make_user, make_enrolment, count_queries
):
    """A second look at the dashboard reads the person and their enrolments, nothing more;
    each change to the enrolment (the assessor returning it, the learner mapping another
    criterion) shows on the very next look, on the learner's page and on the assessor's."""
    enrolment = handed_in(make_user, make_enrolment)
    learner, assessor = enrolment.learner, enrolment.assessor
    login(learner)

    def seen() -> tuple[str, str, list[str]]:
        with count_queries() as counter:
            page = html.unescape(client.get("/dashboard").text)
        [progress] = table(page, "progress")
        headline = re.search(r"data-standing>([^<]*)<", page)
        assert headline is not None
        read = [
            "enrolments" if "FROM enrolments" in st else "users" if "FROM users" in st else st
            for st in counter.statements
        ]
        return progress[1], headline.group(1), read

    assert seen()[:2] == ("3", "Submitted")
    assert seen() == ("3", "Submitted", ["users", "enrolments"])
    view = returned(enrolment, asking=3)
    assert seen()[:2] == ("3", "Returned: more evidence needed")
    item = db.session.scalars(
        select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)
    ).one()
    more = {t.id: "Shown" for t in view.targets[:4]}
    set_item_mappings(db.session, actor=learner, item=item, notes=more)
    db.session.commit()
    assert seen()[:2] == ("4", "Returned: more evidence needed")
    assert seen()[2] == ["users", "enrolments"]
    login(assessor)
    mine = html.unescape(client.get("/dashboard").text)
    assert f"Coverage of {learner.name}, TLII5018" in mine
    assert re.search(r"4 / \d+ covered", mine.split(f"Coverage of {learner.name}")[1])


def figure_of(name: str, rows: list[list]) -> Figure:
    figure = Figure(name, name, ["Assessor", "a", "b", "c", "d"])
    for n, row in enumerate(rows):
        figure.add(row, n)
    return figure


def test_the_first_page_keeps_the_assessors_that_stand_out():
    rates = figure_of(
        "outcomes-by-assessor",
        [[f"A{n:02}", 80.0 + n, 75.0, 10, 8] for n in range(12)]
        + [["Outlier", 20.0, 75.0, 10, 2], ["Undecided", None, 75.0, 0, 0]],
    )
    queue = figure_of("queue", [[f"Q{n:02}", 0, 0, n, n % 3] for n in range(14)])
    units = figure_of("outcomes-by-unit", [[f"U{n}", 1, 1, 1, 1] for n in range(14)])
    short = [figure_of("times-by-assessor", [["T", 1, 2, 3, 4]])]
    made = standing_out([rates, queue, units, *short], rows=4)
    assert [r[0] for r in rates.rows] == ["Outlier", "A11", "A10", "A09"]
    assert rates.keys == [12, 11, 10, 9]  # whose each row is goes with it
    assert rates.note.startswith("The 4 of 14 assessors whose rate is furthest from the RTO's")
    # Most overdue first (n % 3 == 2), then the most waiting.
    assert [r[0] for r in queue.rows] == ["Q11", "Q08", "Q05", "Q02"]
    assert len(units.rows) == 14 and not units.note  # per unit: every unit stays
    assert made[-1].rows == [["T", 1, 2, 3, 4]] and not made[-1].note


def test_an_assessors_learners_come_a_page_at_a_time(
    app, client, login, make_user, make_enrolment, count_queries
):
    """Ten a page, with their number; each page is one statement, counting the total beside
    its rows, with its LIMIT and OFFSET written in, so PostgreSQL plans it once (sent as
    parameters, it plans the statement again at every request)."""
    from portfolio.reports.views import ASSIGNED_PER_PAGE

    assessor = make_user("assessor", name="Pat Pages")
    for _ in range(ASSIGNED_PER_PAGE + 1):
        make_enrolment(learner=make_user("learner"), assessor=assessor)
    login(assessor)
    first = client.get("/dashboard").text
    assert f"{ASSIGNED_PER_PAGE + 1} enrolments, {ASSIGNED_PER_PAGE} a page" in first
    assert first.count(">portfolio<span") == ASSIGNED_PER_PAGE
    with count_queries() as counter:
        second = client.get("/dashboard?page=2").text
    assert second.count(">portfolio<span") == 1
    [listed] = [
        statement
        for statement in counter.statements
        if re.search(rf"LIMIT {ASSIGNED_PER_PAGE} OFFSET {ASSIGNED_PER_PAGE}\s*$", statement)
    ]
    # The total comes in the same statement: no second one counts the assessor's enrolments.
    assert "count(*) OVER ()" in listed
    assert not any(
        re.match(r"SELECT count\(\*\) AS \w+\s+FROM \(SELECT enrolments", statement)
        for statement in counter.statements
    ), counter.statements
    beyond = client.get("/dashboard?page=9").text
    assert "No learners on this page" in beyond and ">portfolio<span" not in beyond
    # A page number past any a database can reach is past the last page too, not an error.
    for path in (f"/dashboard?page={2**70}", f"/review?page={2**70}"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "No learners on this page" in client.get(f"/dashboard?page={2**70}").text


def test_each_assessors_row_links_to_their_own_enrolments_though_names_are_shared(
    client, admin, decided, make_user, make_enrolment
):
    first, second = decided(), decided()
    for enrolment in (first, second):
        enrolment.assessor.name = "Sam Same"
    db.session.commit()
    page = html.unescape(client.get("/dashboard").text)
    part = page.split('id="fig-outcomes-by-assessor"', 1)[1].split("</table>", 1)[0]
    linked = set(re.findall(r'href="/admin/enrolments\?assessor=(\d+)"', part))
    assert linked == {str(first.assessor_id), str(second.assessor_id)}


def test_a_corrected_sign_off_keeps_the_day_the_criterion_was_first_covered(decided):
    enrolment = decided()  # its last criterion closed by a competency conversation
    view = review.review_view(db.session, enrolment)
    [(target_id, first)] = list(view.signoffs.items())
    weeks_ago = utcnow() - timedelta(days=30)
    first.recorded_at = weeks_ago
    db.session.commit()
    target = next(t for t in view.targets if t.id == target_id)
    gaps.correct_signoff(
        db.session,
        actor=enrolment.assessor,
        view=review.review_view(db.session, enrolment),
        target=target,
        method=first.method,
        held_on=first.held_on,
        notes="Asked again, the same answers.",
        questions=[Conversation("What is the QMS?", "The depot's quality manual.")],
        reason="The notes named the wrong procedure.",
    )
    db.session.commit()
    corrected = review.review_view(db.session, enrolment).signoffs[target_id]
    assert corrected.id != first.id and corrected.recorded_at > weeks_ago
    dates = covered_since(db.session, [enrolment])[enrolment.id]
    assert min(dates) == local_date(weeks_ago)
    assert len(dates) == len(view.targets)  # still each criterion once
