"""Another attempt after Not yet competent: opened with a plan, within the RTO's number of
attempts; each attempt keeps its own submissions, judgements and outcome."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portfolio.assessment import attempts, decisions, outcome, review
from portfolio.assessment.matrix import matrix_sections
from portfolio.errors import ServiceError
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.exports.letterhead import Letterhead
from portfolio.extensions import db
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    EvidenceType,
    Finding,
    Judgement,
    OutcomeResult,
    Reassessment,
    UnitOutcome,
)
from tests.assessment.test_review import review_url
from tests.dates import TODAY

NEXT_WEEK = TODAY + timedelta(days=7)


def judged_not_yet(s):
    """The plan covers 1.1 and 1.2; the rest is judged not yet satisfactory: NYC."""
    decisions.start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    view = review.review_view(db.session, s.enrolment)
    decisions.accept_learner_mappings(db.session, actor=s.assessor, view=view, targets=view.targets)
    view = review.review_view(db.session, s.enrolment)
    for target in view.targets:
        covered = target.ref in ("1.1", "1.2")
        decisions.judge(
            db.session,
            actor=s.assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY if covered else Finding.NOT_YET_SATISFACTORY,
            comment="" if covered else f"Nothing shows {target.ref} yet.",
            seen_version=0,
        )
    outcome.record_outcome(
        db.session,
        actor=s.assessor,
        view=review.review_view(db.session, s.enrolment),
        result=OutcomeResult.NOT_YET_COMPETENT,
        declared=True,
    )
    db.session.commit()


def reopen(s, actor=None, plan="Show a complaint escalated.", due_on=NEXT_WEEK, allowed=2):
    return attempts.open_reassessment(
        db.session,
        actor=actor or s.assessor,
        view=review.review_view(db.session, s.enrolment),
        plan=plan,
        due_on=due_on,
        allowed=allowed,
    )


def test_a_second_attempt_opens_with_the_plan_and_the_criteria_to_work_on(submitted) -> None:
    s = submitted()
    judged_not_yet(s)
    assert s.enrolment.activity_end == TODAY  # the outcome ended the activity
    reassessment = reopen(s)
    db.session.commit()
    assert s.enrolment.state is AssessmentState.REASSESSMENT
    assert s.enrolment.attempt == 2
    assert s.enrolment.activity_end is None  # in progress again, no longer ended
    assert reassessment.plan == "Show a complaint escalated."
    assert reassessment.criteria[:2] == ["2.1", "2.2"]
    assert "1.1" not in reassessment.criteria
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reassessment.opened"))
    assert event.after["attempt"] == 2 and event.after["due_on"] == NEXT_WEEK.isoformat()


def test_the_second_attempt_has_its_own_judgements_and_outcome(submitted) -> None:
    """Attempt 1 stays as it was; attempt 2 is judged anew and decided Competent."""
    s = submitted()
    judged_not_yet(s)
    reopen(s)
    learner = s.learner
    item = create_item(
        db.session,
        actor=learner,
        enrolment=s.enrolment,
        fields=ItemFields("Everything else", EvidenceType.REPORT, date(2026, 10, 1), "All of it."),
        files=[],
    )
    view = review.review_view(db.session, s.enrolment)
    set_item_mappings(
        db.session,
        actor=learner,
        item=item,
        notes={t.id: "Shows it" for t in view.targets if t.ref not in ("1.1", "1.2")},
    )
    submission = submit(db.session, actor=learner, enrolment=s.enrolment, declared=True)
    assert submission.attempt == 2 and s.enrolment.state is AssessmentState.RESUBMITTED
    decisions.start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    view = review.review_view(db.session, s.enrolment)
    assert view.outcome is None  # attempt 2 is not decided yet
    assert [o.result for o in view.earlier_outcomes] == [OutcomeResult.NOT_YET_COMPETENT]
    # Attempt 1's judgements show until this attempt judges anew.
    assert view.judgements[s.target("pc-2.1").id].attempt == 1
    decisions.accept_learner_mappings(db.session, actor=s.assessor, view=view, targets=view.targets)
    view = review.review_view(db.session, s.enrolment)
    for target in view.targets:
        if target.ref not in ("1.1", "1.2"):
            decisions.judge(
                db.session,
                actor=s.assessor,
                view=view,
                target=target,
                finding=Finding.SATISFACTORY,
                comment="",
                seen_version=0,
            )
    result = outcome.record_outcome(
        db.session,
        actor=s.assessor,
        view=review.review_view(db.session, s.enrolment),
        result=OutcomeResult.COMPETENT,
        declared=True,
    )
    db.session.commit()
    assert result.attempt == 2
    outcomes = db.session.scalars(select(UnitOutcome).order_by(UnitOutcome.id)).all()
    assert [(o.attempt, o.result) for o in outcomes] == [
        (1, OutcomeResult.NOT_YET_COMPETENT),
        (2, OutcomeResult.COMPETENT),
    ]
    first = db.session.scalars(select(Judgement).where(Judgement.attempt == 1)).all()
    assert {j.finding for j in first if j.target.ref == "2.1"} == {Finding.NOT_YET_SATISFACTORY}


def test_marking_a_section_in_the_second_attempt_judges_what_attempt_1_did_not_pass(
    submitted,
) -> None:
    """Attempt 1's Not yet satisfactory does not stop the section action of attempt 2."""
    s = submitted()
    judged_not_yet(s)
    reopen(s)
    item = create_item(
        db.session,
        actor=s.learner,
        enrolment=s.enrolment,
        fields=ItemFields("Complaint log", EvidenceType.REPORT, date(2026, 10, 1), "The log."),
        files=[],
    )
    set_item_mappings(
        db.session, actor=s.learner, item=item, notes={s.target("pc-2.1").id: "Rows 3 to 9"}
    )
    submit(db.session, actor=s.learner, enrolment=s.enrolment, declared=True)
    decisions.start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    view = review.review_view(db.session, s.enrolment)
    section = next(x for x in matrix_sections(view) if any(t.ref == "2.1" for t in x.targets))
    result = decisions.judge_section_satisfactory(
        db.session, actor=s.assessor, view=view, section=section
    )
    db.session.commit()
    assert result.judged == 1
    now = review.review_view(db.session, s.enrolment).judgements[s.target("pc-2.1").id]
    assert (now.attempt, now.finding) == (2, Finding.SATISFACTORY)
    # Judging it again in the same attempt is the assessor's own call, not the section's.
    again = decisions.judge_section_satisfactory(
        db.session,
        actor=s.assessor,
        view=review.review_view(db.session, s.enrolment),
        section=section,
    )
    assert again.judged == 0


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"plan": "  "}, "Say what the learner must show", "plan"),
        ({"due_on": None}, "Give the date the learner should submit by.", "due_on"),
        ({"due_on": TODAY - timedelta(days=1)}, "cannot be in the past", "due_on"),
        ({"allowed": 1}, "This was attempt 1 of the 1 the RTO allows", None),
    ],
)
def test_a_reassessment_needs_a_plan_a_date_and_an_attempt_left(
    submitted, changes, message, field
) -> None:
    s = submitted()
    judged_not_yet(s)
    with pytest.raises(ServiceError) as refused:
        reopen(s, **changes)
    db.session.rollback()
    assert message in refused.value.message and refused.value.field == field
    assert s.enrolment.state is AssessmentState.DECIDED
    assert db.session.scalar(select(Reassessment.id)) is None


def test_an_admin_opens_a_reassessment_through_the_page(client, submitted, login, make_user):
    s = submitted()
    judged_not_yet(s)
    admin = make_user("admin")
    login(admin)
    page = client.get(f"{review_url(s)}/reassessment").text
    assert "Open attempt 2 for Lee Learner" in page
    assert "2.1</a>: no accepted evidence or sign-off: “Nothing shows 2.1 yet.”" in page
    refused = client.post(f"{review_url(s)}/reassessment", data={"plan": "", "due_on": ""})
    assert "Say what the learner must show in the next attempt." in refused.text
    done = client.post(
        f"{review_url(s)}/reassessment",
        data={"plan": "Show 2.1 to 3.3", "due_on": NEXT_WEEK.isoformat()},
        follow_redirects=True,
    )
    assert "Attempt 2 is open: Lee Learner sees what to work on." in done.text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reassessment.opened"))
    assert event.actor_role == "admin"


def test_past_the_last_attempt_only_closing_is_left(client, submitted, login) -> None:
    """Attempt 2 of 2 decided not yet competent: the page offers no third, and says why."""
    s = submitted()
    judged_not_yet(s)
    reopen(s)
    submit(db.session, actor=s.learner, enrolment=s.enrolment, declared=True)
    judged_not_yet(s)
    assert s.enrolment.attempt == 2 and s.enrolment.state is AssessmentState.DECIDED
    login(s.assessor)
    page = client.get(f"{review_url(s)}/reassessment").text
    assert "This was attempt 2 of the 2 the RTO allows" in page
    refused = client.post(
        f"{review_url(s)}/reassessment",
        data={"plan": "Once more", "due_on": NEXT_WEEK.isoformat()},
        follow_redirects=True,
    )
    assert "the enrolment can now only be closed (withdrawn)" in refused.text
    assert s.enrolment.attempt == 2


def test_the_pack_shows_the_attempts_and_the_plan(app, submitted) -> None:
    """The evidence pack's cover gives the attempts; a section tells each one's outcome and
    the plan of the next."""
    from portfolio.exports.pack import build_pack, pack_data
    from portfolio.files.uploads import storage

    s = submitted()
    judged_not_yet(s)
    reopen(s, plan="Show a complaint escalated, from first call to follow-up.")
    db.session.commit()
    document = build_pack(
        pack_data(db.session, s.enrolment),
        letterhead=Letterhead("Test RTO", zone=app.config["RTO_TIMEZONE"]),
        open_file=storage().open,
    )
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
    assert any(c.startswith("2; attempt 1: Not yet competent") for c in cells)
    assert "Attempts" in text and "Attempt 2 opened" in text
    assert "Show a complaint escalated, from first call to follow-up." in text
    assert "Criteria to work on: 2.1, 2.2" in text
