"""Email through a real SMTP server: what arrives, what a refusal leaves for an admin, the
daily digest, and mail switched off."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.mail import outbox
from portfolio.models import Mail, MailState, NotifyMode
from tests.smtpserver import Inbox


def write_notice(person, subject: str = "Something happened") -> Mail | None:
    """A notification to ``person`` as a service writes one: in its transaction."""
    mail = outbox.write(
        db.session,
        to=person,
        kind="enrolment.returned",
        subject=subject,
        link=outbox.public_url("/enrolments/1"),
        context={"what": "TLII5018 Plan and implement", "enrolment": None},
    )
    db.session.commit()
    return mail


def test_an_email_arrives_after_the_commit_with_text_and_html(app, smtp: Inbox, make_user):
    """Sent once the transaction that wrote it commits: from the configured sender, with a
    plain-text and an HTML part, the RTO's name and a link at PUBLIC_URL."""
    learner = make_user("learner", name="Lee Learner", email="lee@example.org")
    write_notice(learner, "Your TLII5018 portfolio is back with feedback")
    (message,) = smtp.to("lee@example.org")
    assert message["From"] == "portfolio@rto.example.org"
    assert message["Subject"] == (
        "Your TLII5018 portfolio is back with feedback - Demo Registered Training Organisation"
    )
    text, html = Inbox.parts(message)
    for body in (text, html):
        assert "Hello Lee Learner" in body
        assert "https://portfolio.rto.example.org/enrolments/1" in body
        assert "Demo Registered Training Organisation" in body
    assert "<p>" in html and "<p>" not in text
    mail = db.session.scalar(select(Mail))
    assert mail.state is MailState.SENT and mail.attempts == 1 and mail.sent_at is not None


def test_nothing_is_sent_when_the_change_is_rolled_back(app, smtp: Inbox, make_user) -> None:
    learner = make_user("learner")
    outbox.write(
        db.session,
        to=learner,
        kind="enrolment.returned",
        subject="Never",
        link="/",
        context={"what": "x", "enrolment": None},
    )
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == [] and db.session.scalar(select(Mail)) is None


def test_a_refused_email_is_kept_failed_and_an_admin_sends_it_again(
    app, smtp: Inbox, make_user, client, login
) -> None:
    """Tried three times, then the server's answer stays on the row for the admin's mail page;
    once the cause is fixed, sending again delivers it. Nothing is lost."""
    learner = make_user("learner", email="gone@example.org")
    smtp.refuse.add("gone@example.org")
    write_notice(learner)
    mail = db.session.scalar(select(Mail))
    assert (mail.state, mail.attempts) == (MailState.FAILED, 3) and smtp.messages == []
    assert "550" in mail.error and "No such mailbox" in mail.error
    login(make_user("admin"))
    page = client.get("/admin/mail?state=failed")
    assert "gone@example.org" in page.text and "No such mailbox here" in page.text
    smtp.refuse.clear()
    page = client.post(
        "/admin/mail/again", data={"confirm": "y", "mail": [mail.id]}, follow_redirects=True
    )
    assert "Sending 1 email again." in page.text
    db.session.expire_all()
    assert db.session.get(Mail, mail.id).state is MailState.SENT
    assert len(smtp.to("gone@example.org")) == 1


def test_a_busy_server_s_refusal_is_tried_again_in_process(app, smtp: Inbox, make_user):
    """Without a queue, the background thread tries again itself after the pauses."""
    learner = make_user("learner", email="busy@example.org")
    smtp.busy.add("busy@example.org")
    write_notice(learner)
    mail = db.session.scalar(select(Mail))
    assert (mail.state, mail.attempts, mail.error) == (MailState.SENT, 2, "")
    assert len(smtp.to("busy@example.org")) == 1


def test_a_server_that_cannot_be_reached_leaves_the_email_failed(
    app, make_user, monkeypatch
) -> None:
    """A wrong MAIL_PORT: each try fails with the reason; the event it told of stands."""
    from portfolio import queue
    from tests.smtpserver import free_port

    monkeypatch.setattr(queue, "RETRY_PAUSES", [0, 0])
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), JOBS_SYNCHRONOUS=True)
    write_notice(make_user("learner"))
    mail = db.session.scalar(select(Mail))
    assert (mail.state, mail.attempts) == (MailState.FAILED, 3)
    assert "ConnectionRefusedError" in mail.error


def test_a_digest_reader_gets_one_email_listing_what_was_kept(app, smtp: Inbox, make_user, runner):
    """Emails to someone who chose a daily digest are kept until `flask mail digest`, which
    sends one email listing them; someone else's come at once."""
    reader = make_user("learner", email="daily@example.org")
    reader.notify = NotifyMode.DIGEST
    db.session.commit()
    other = make_user("learner", email="now@example.org")
    write_notice(reader, "First thing")
    write_notice(reader, "Second thing")
    write_notice(other, "At once")
    assert smtp.to("daily@example.org") == [] and len(smtp.to("now@example.org")) == 1
    result = runner.invoke(args=["mail", "digest"])
    assert result.exit_code == 0 and "sent 1 digest" in result.output
    (digest,) = smtp.to("daily@example.org")
    assert digest["Subject"].startswith("2 updates in your portfolio")
    text, html = Inbox.parts(digest)
    assert "First thing" in text and "Second thing" in text and "Second thing" in html
    kept = db.session.scalars(select(Mail).where(Mail.subject.like("% thing"))).all()
    assert {m.state for m in kept} == {MailState.DIGESTED}
    assert runner.invoke(args=["mail", "digest"]).output.strip() == "sent 0 digests"


def test_mail_off_writes_nothing_and_the_commands_say_why(app, make_user, runner) -> None:
    """`make run` has no MAIL_SERVER: no email is written, and the commands say mail is off."""
    assert write_notice(make_user("learner")) is None
    assert db.session.scalar(select(Mail)) is None
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1 and "Mail is off: set MAIL_SERVER" in result.output


def test_flask_mail_test_reaches_the_server(app, smtp: Inbox, runner) -> None:
    result = runner.invoke(args=["mail", "test", "it@example.org"])
    assert result.exit_code == 0, result.output
    assert smtp.to("it@example.org")[0]["Subject"].startswith("Test email")
