"""What the learner reads of the assessment: nothing half-way through a review; once the
portfolio is returned or the outcome recorded, each criterion's judgement and the reasons, the
criteria to work on, and on another attempt the assessor's plan and date."""

from __future__ import annotations

import re

from portfolio.assessment import decisions, review
from portfolio.extensions import db
from portfolio.models import Finding
from tests.assessment.test_attempts import NEXT_WEEK, judged_not_yet, reopen

WHY = "Nothing shows 2.1 yet."


def page(client, s) -> str:
    response = client.get(f"/enrolments/{s.enrolment.id}")
    assert response.status_code == 200
    return response.text


def dashboard(client) -> str:
    response = client.get("/dashboard")
    assert response.status_code == 200
    return response.text


def headline(html: str) -> str:
    found = re.search(r'<h2 id="standing-heading"[^>]*>([^<]*)</h2>', html)
    assert found, "the portfolio page says where the learner stands"
    return found.group(1)


def test_judgements_stay_with_the_assessor_while_the_review_is_under_way(
    submitted, client, login
) -> None:
    s = submitted()
    decisions.start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    view = review.review_view(db.session, s.enrolment)
    target = next(t for t in view.targets if t.ref == "2.1")
    decisions.judge(
        db.session,
        actor=s.assessor,
        view=view,
        target=target,
        finding=Finding.NOT_YET_SATISFACTORY,
        comment=WHY,
        seen_version=0,
    )
    db.session.commit()
    login(s.learner)
    html = page(client, s)
    assert headline(html) == "Being assessed"
    assert WHY not in html
    assert "data-work-on" not in html
    assert "judged satisfactory" not in html


def test_after_not_yet_competent_the_learner_reads_each_reason_and_what_comes_next(
    submitted, client, login
) -> None:
    s = submitted()
    judged_not_yet(s)
    login(s.learner)
    html = page(client, s)
    assert headline(html) == "Not yet competent"
    assert "Your assessor can open another attempt for you." in html
    # 1.1 and 1.2 were satisfactory; every other criterion is to work on, with its reason.
    total = len(s.targets)
    assert f"2 of {total} criteria judged satisfactory by your assessor." in html
    assert html.count("data-work-on") == total - 2
    assert "Your assessor (not yet satisfactory): Nothing shows 2.1 yet." in html
    assert 'href="#pc-2.1">2.1</a>: Nothing shows 2.1 yet.' in html
    board = dashboard(client)
    assert "Not yet competent" in board
    assert "Your assessor can open another attempt for you." in board


def test_another_attempt_shows_the_plan_and_the_date_to_submit_by(submitted, client, login) -> None:
    s = submitted()
    judged_not_yet(s)
    reopen(s, plan="Show a complaint escalated to the team leader.")
    db.session.commit()
    login(s.learner)
    html = page(client, s)
    assert headline(html) == "Attempt 2"
    due = f"{NEXT_WEEK:%d/%m/%Y}"
    assert f"submit again by {due}" in html
    assert "plan for attempt 2</strong>" in html
    assert "Show a complaint escalated to the team leader." in html
    # The reasons of attempt 1 stay in front of the learner while they work on attempt 2.
    assert "Nothing shows 2.1 yet." in html
    assert "Attempt 2" in dashboard(client)


def test_after_the_last_attempt_the_learner_is_told_to_talk_to_the_rto(
    submitted, client, login, app
) -> None:
    app.config["ATTEMPTS_ALLOWED"] = 1
    s = submitted()
    judged_not_yet(s)
    login(s.learner)
    html = page(client, s)
    assert "This was attempt 1 of 1: talk to your training organisation" in html
    assert "open another attempt" not in html


def test_a_submitted_portfolio_tells_the_learner_to_wait(submitted, client, login) -> None:
    s = submitted()
    login(s.learner)
    assert headline(page(client, s)) == "Submitted"
    assert "Your assessor has it; nothing to do for now." in dashboard(client)
