"""Reviews past their due date: the assessor hears of theirs and every admin of all, once a
round, from `flask reviews overdue`."""

from __future__ import annotations

from datetime import timedelta

from portfolio.extensions import db
from portfolio.models.base import utcnow
from tests.smtpserver import Inbox


def test_the_assessor_and_the_admins_hear_once_of_a_late_review(
    smtp: Inbox, submitted, make_user, runner
) -> None:
    admin = make_user("admin", name="Ada Admin", email="ada@example.org")
    late = submitted()
    on_time = submitted()
    late.enrolment.submissions[-1].submitted_at = utcnow() - timedelta(days=30)
    db.session.commit()
    smtp.messages.clear()  # the submissions' own notices

    result = runner.invoke(args=["reviews", "overdue"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "told of 1 review newly past due"
    (to_assessor,) = smtp.to(late.assessor.email)
    text, html = Inbox.parts(to_assessor)
    assert to_assessor["Subject"].startswith("1 review is past due")
    assert "Lee Learner, TLII5018: due " in text
    assert f"/enrolments/{late.enrolment.id}/review" in html
    assert smtp.to(on_time.assessor.email) == []
    (to_admin,) = smtp.to(admin.email)
    assert "assessor Alex Assessor" in Inbox.parts(to_admin)[0]

    again = runner.invoke(args=["reviews", "overdue"])
    assert again.output.strip() == "told of 0 reviews newly past due"
    assert len(smtp.messages) == 2


def test_without_mail_the_command_says_so(runner, app) -> None:
    result = runner.invoke(args=["reviews", "overdue"])
    assert result.exit_code == 1 and "Mail is off" in result.output
