"""People hear by email of what waits for them: the assessor of a submission, the learner of
an outcome and of another attempt. Sent through a real SMTP server."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import Mail, MailState, NotifyMode
from tests.assessment.test_attempts import NEXT_WEEK, judged_not_yet, reopen
from tests.smtpserver import Inbox


def test_the_assessor_hears_of_a_submission_and_the_learner_of_the_outcome(
    smtp: Inbox, submitted
) -> None:
    s = submitted()
    (waiting,) = smtp.to(s.assessor.email)
    assert waiting["Subject"].startswith("Lee Learner submitted TLII5018")
    text, html = Inbox.parts(waiting)
    review = f"https://portfolio.rto.example.org/enrolments/{s.enrolment.id}/review"
    assert review in text and review in html
    assert "Hello Alex Assessor" in text and "It waits for your review" in text
    assert smtp.to(s.learner.email) == []

    judged_not_yet(s)
    (decided,) = smtp.to(s.learner.email)
    assert decided["Subject"].startswith("The outcome of TLII5018 is recorded")
    text, _ = Inbox.parts(decided)
    assert f"https://portfolio.rto.example.org/enrolments/{s.enrolment.id}" in text
    assert "Not yet competent" not in text  # the result is read in the portfolio, after login

    reopen(s)
    db.session.commit()
    opened = smtp.to(s.learner.email)[-1]
    assert opened["Subject"].startswith("Another attempt at TLII5018 is open")
    assert NEXT_WEEK.strftime("%d/%m/%Y") in Inbox.parts(opened)[0]


def test_a_digest_reader_s_notices_wait_for_the_digest(smtp: Inbox, submitted, make_user) -> None:
    s = submitted()
    s.learner.notify = NotifyMode.DIGEST
    db.session.commit()
    judged_not_yet(s)
    assert smtp.to(s.learner.email) == []
    held = db.session.scalar(select(Mail).where(Mail.user_id == s.learner.id))
    assert held.state is MailState.HELD and held.kind == "enrolment.decided"


def test_with_mail_off_a_state_change_writes_no_email(submitted) -> None:
    s = submitted()
    judged_not_yet(s)
    assert db.session.scalar(select(Mail)) is None
