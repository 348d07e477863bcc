"""The dashboards: the numbers agree with the outcomes register and the review queue, each
figure is a table and a CSV, the pages run a fixed number of statements, and each person sees
their own picture on their first page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

from sqlalchemy import func, select

from portfolio.assessment import review
from portfolio.assessment.queue import queue_counts
from portfolio.clock import rto_zone, today
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.exports.register import register_rows
from portfolio.extensions import db
from portfolio.models import AuditEvent, EvidenceFile, EvidenceType
from portfolio.reports.dashboard import admin_figures, pick
from portfolio.reports.figures import Filters


def handed_in(make_user, make_enrolment, assessor=None):
    """A learner's TLII5018 handed in and waiting for its assessor."""
    learner = make_user("learner")
    assessor = assessor or make_user("assessor", name="Quinn Queue")
    enrolment = make_enrolment(learner=learner, assessor=assessor)
    item = create_item(
        db.session,
        actor=learner,
        enrolment=enrolment,
        fields=ItemFields("Roster", EvidenceType.PLAN, date(2026, 10, 1), "The roster."),
        files=[],
    )
    view = review.review_view(db.session, enrolment)
    set_item_mappings(
        db.session, actor=learner, item=item, notes={t.id: "Shown" for t in view.targets[:3]}
    )
    submit(db.session, actor=learner, enrolment=enrolment, declared=True)
    db.session.commit()
    return enrolment


def settings(app):
    return {
        "today": today(),
        "due_days": app.config["REVIEW_DUE_WORKING_DAYS"],
        "zone": rto_zone(),
    }


def table(page: str, name: str) -> list[list[str]]:
    """A figure's table rows on a page, cell texts."""
    part = page.split(f'id="fig-{name}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>", 1)[1], re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_numbers_agree_with_the_register_and_the_queue(
    app, client, admin, decided, make_user, make_enrolment
):
    for _ in range(2):
        decided()
    waiting = handed_in(make_user, make_enrolment)
    made = admin_figures(db.session, Filters(), **settings(app))
    states = pick(made, "states")
    [row] = states.rows
    columns = dict(zip(states.columns, row, strict=True))
    assert columns["Unit"] == "TLII5018" and columns["Competent"] == 2
    assert columns["Submitted"] == 1 and columns["Total"] == 3
    assert columns["Total"] == len(register_rows(db.session, unit_code="TLII5018"))
    rates = pick(made, "outcomes-by-unit")
    assert rates.rows == [["TLII5018", 100.0, 100.0, 2, 2]]
    queue = pick(made, "queue")
    counts = queue_counts(db.session, waiting.assessor, today=today(), due_days=10, zone=rto_zone())
    [quinn] = [r for r in queue.rows if r[0] == "Quinn Queue"]
    assert quinn[-2] == counts.waiting == 1 and quinn[-1] == counts.overdue == 0
    assert quinn[1] == 1  # handed in today: the first age band
    times = pick(made, "times-by-month")
    assert times.rows[0][0] == today().strftime("%Y-%m") and times.rows[0][-1] == 2
    evidence = pick(made, "evidence")
    assert sum(r[1] for r in evidence.rows) == db.session.scalar(
        select(func.count()).select_from(EvidenceFile)
    )


def test_the_admin_sees_the_rto_on_their_first_page_and_downloads_a_figure(client, admin, decided):
    decided()
    page = html.unescape(client.get("/dashboard").text)
    assert "The RTO at a glance" in page and "chart.umd.min.js" in page
    [row] = table(page, "states")
    assert row[0] == "TLII5018" and row[-1] == "1"
    response = client.post("/admin/reports/states.csv?unit=TLII5018")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][0] == "Unit" and rows[1][0] == "TLII5018" and rows[1][-1] == "1"
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.created")
    ).one()
    assert event.after["kind"] == "report"


def test_filters_narrow_every_figure_and_a_bad_period_is_said(client, admin, decided):
    first = decided()
    decided()
    who = first.assessor
    page = html.unescape(client.get(f"/admin/reports?assessor={who.id}").text)
    rows = table(page, "outcomes-by-assessor")
    assert [r[0] for r in rows] == [who.name]
    page = html.unescape(client.get("/admin/reports?from=2026-12-31&to=2026-01-01").text)
    assert "The start of the period is after its end" in page
    page = html.unescape(client.get("/admin/reports?assessor=abc&unit=NOPE1&from=soon").text)
    assert "No unit has the code NOPE1" in page and "not one of the RTO's active" in page
    assert "'soon' is not a date" in page
    refused = client.post("/admin/reports/states.csv?from=2026-12-31&to=2026-01-01")
    assert refused.status_code == 400 and "after its end" in html.unescape(refused.text)
    page = html.unescape(client.get("/admin/reports?unit=BSBCUS501").text)
    assert "Nothing to show yet." in page


def test_the_admin_dashboard_runs_the_same_statements_for_1_or_4_decisions(
    client, admin, decided, count_queries
):
    def statements(n: int) -> int:
        for _ in range(n):
            decided()
        client.get("/dashboard")  # warm
        with count_queries() as counter:
            assert client.get("/dashboard").status_code == 200
        return counter.count

    assert statements(1) == statements(3)


def test_an_assessor_sees_their_queue_and_decisions(
    client, login, decided, make_user, make_enrolment
):
    enrolment = decided()
    handed_in(make_user, make_enrolment, assessor=enrolment.assessor)
    login(enrolment.assessor)
    page = html.unescape(client.get("/dashboard").text)
    assert "Your queue: age since the hand-in" in page
    assert table(page, "decided-this-month") == [["Competent", "1"]]
    [queue] = table(page, "my-queue")
    assert queue[-2:] == ["1", "0"]
    response = client.post("/dashboard/my-queue.csv")
    assert response.status_code == 200
    assert client.post("/dashboard/states.csv").status_code == 404


def test_a_learner_sees_their_progress(client, login, make_user, make_enrolment):
    enrolment = handed_in(make_user, make_enrolment)
    login(enrolment.learner)
    page = html.unescape(client.get("/dashboard").text)
    [row] = table(page, "progress")
    assert row[0] == "TLII5018" and row[1] == "3" and int(row[1]) + int(row[2]) == int(row[3])


def test_the_command_prints_a_figure_as_csv(runner, decided, admin):
    decided()
    result = runner.invoke(args=["reports", "figure", "outcomes-by-unit", "--unit", "tlii5018"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Unit,Achieved %,All units %,Decided,Achieved",
        "TLII5018,100.0,100.0,1,1",
    ]
    refused = runner.invoke(
        args=["reports", "figure", "states", "--assessor", "nobody@example.org"]
    )
    assert refused.exit_code != 0 and "No account has the email" in refused.output


def test_a_cohort_narrows_every_figure(app, client, admin, decided):
    from portfolio.cohorts import services as cohorts

    first = decided()
    decided()
    intake = cohorts.create_cohort(db.session, actor=admin, name="Intake 1", description="")
    cohorts.add_members(db.session, actor=admin, cohort=intake, keys=[first.learner.email])
    db.session.commit()
    made = admin_figures(db.session, Filters(cohort_id=intake.id), **settings(app))
    assert pick(made, "states").rows[0][-1] == 1
    assert pick(made, "outcomes-by-assessor").rows == [[first.assessor.name, 100.0, 100.0, 1, 1]]
    assert sum(r[-1] for r in pick(made, "times-by-month").rows) == 1
    raw = client.get(f"/admin/reports?cohort={intake.id}").text
    # Each bar leads to the enrolments behind it, in the same cohort.
    assert re.search(rf'href="/admin/enrolments\?[^"]*cohort={intake.id}', raw)


def test_expiries_and_validations_are_listed(app, admin, decided, make_user):
    from datetime import timedelta

    from portfolio.credentials.rules import Entry
    from portfolio.credentials.services import add_entry
    from portfolio.models import CredentialBasis, CredentialKind
    from portfolio.validation import services as validation

    assessor = make_user("assessor", name="Eve Expiring")
    add_entry(
        db.session,
        actor=admin,
        user=assessor,
        entry=Entry(
            CredentialKind.INDUSTRY_CURRENCY,
            "",
            "Depot shifts",
            CredentialBasis.HELD,
            "",
            today() - timedelta(days=100),
            today() + timedelta(days=20),
        ),
        files=[],
    )
    reason = validation.add_reason(db.session, actor=admin, label="New assessor")
    unit = decided().unit_release.unit
    validation.save_plan(
        db.session, actor=admin, unit=unit, risk="high", reasons=[reason.label], notes=""
    )
    db.session.commit()
    made = admin_figures(db.session, Filters(), **settings(app))
    [expiring] = pick(made, "expiries").rows
    assert expiring[0] == "Eve Expiring" and expiring[3] == "Depot shifts"
    assert pick(made, "validations").rows == [["TLII5018", "High", "never", "due now", 0]]


def test_an_assessors_and_a_learners_dashboard_run_fixed_statements(
    client, login, make_user, make_enrolment, count_queries
):
    assessor = make_user("assessor", name="Quinn Queue")
    learner = make_user("learner")
    units = iter(["BSBCUS501", "MEM16003", "SITXCCS008", "INSCS042"])

    def statements(who, grow, n: int) -> int:
        for _ in range(n):
            grow()
        login(who)
        client.get("/dashboard")
        with count_queries() as counter:
            assert client.get("/dashboard").status_code == 200
        return counter.count

    def waiting() -> None:
        handed_in(make_user, make_enrolment, assessor=assessor)

    def enrolled() -> None:
        make_enrolment(learner=learner, unit=next(units))

    assert statements(assessor, waiting, 1) == statements(assessor, waiting, 3)
    assert statements(learner, enrolled, 1) == statements(learner, enrolled, 2)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(app, decided):
    """Four decisions handed in 1, 2, 5 and 9 days before: median 3.5, 90th percentile 9."""
    from datetime import timedelta

    from portfolio.models import Submission

    made = [decided() for _ in range(4)]
    for enrolment, days in zip(made, (1, 2, 5, 9), strict=True):
        outcome = enrolment_outcome(enrolment)
        for s in db.session.scalars(
            select(Submission).where(Submission.enrolment_id == enrolment.id)
        ):
            s.submitted_at = outcome.recorded_at - timedelta(days=days)
    db.session.commit()
    [row] = pick(admin_figures(db.session, Filters(), **settings(app)), "times-by-month").rows
    assert row[1:] == [3.5, 9.0, 4]


def enrolment_outcome(enrolment):
    from portfolio.models import UnitOutcome

    return db.session.scalars(
        select(UnitOutcome).where(UnitOutcome.enrolment_id == enrolment.id)
    ).one()


def test_the_rtos_figures_are_kept_for_a_minute_and_the_csv_counts_afresh(
    app, client, admin, decided, count_queries
):
    """Kept per database, filters and day: a second view within the minute counts nothing;
    the page says when it counted; a CSV download counts again."""
    app.config["DASHBOARD_CACHE_SECONDS"] = 60
    decided()
    first = html.unescape(client.get("/dashboard").text)
    assert table(first, "states")[0][-1] == "1" and "counted " in first
    decided()
    with count_queries() as counter:
        again = html.unescape(client.get("/dashboard").text)
    assert table(again, "states")[0][-1] == "1"  # as counted a moment ago
    # The reports page with no filter shows the same counting, not one of its own.
    whole = html.unescape(client.get("/admin/reports").text)
    assert table(whole, "states")[0][-1] == "1"
    with count_queries() as fresh:
        app.config["DASHBOARD_CACHE_SECONDS"] = 0
        now = html.unescape(client.get("/dashboard").text)
    assert table(now, "states")[0][-1] == "2" and counter.count < fresh.count
    body = client.post("/admin/reports/states.csv").get_data(as_text=True)
    assert body.splitlines()[1].endswith(",2")


def test_evidence_is_counted_by_the_month_it_was_uploaded_at_the_rto(app, decided):
    from datetime import UTC, datetime

    from sqlalchemy import update

    decided()
    # 2 pm UTC on 31 October is 1 am on 1 November in Sydney (daylight saving, UTC+11).
    db.session.execute(
        update(EvidenceFile).values(uploaded_at=datetime(2026, 10, 31, 14, 0, tzinfo=UTC))
    )
    db.session.commit()
    assert app.config["RTO_TIMEZONE"] == "Australia/Sydney"
    evidence = pick(admin_figures(db.session, Filters(), **settings(app)), "evidence")
    files = db.session.scalar(select(func.count()).select_from(EvidenceFile))
    assert evidence.rows == [["2026-11", files, evidence.rows[0][2]]]
