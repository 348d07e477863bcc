"""The assessor's review through its pages: queue, matrix, judgements, gaps, outcome."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import lxml.html
import pytest
from sqlalchemy import func, select

from portfolio.audit.log import verify
from portfolio.enrolments.workflow import STATE_EVENT
from portfolio.extensions import db
from portfolio.models import (
    AssessmentState,
    AuditEvent,
    EvidenceCheck,
    Finding,
    GapSignoff,
    Judgement,
    MappingDecision,
    Submission,
    UnitOutcome,
)
from tests.dates import TODAY
from tests.files import png_bytes


def review_url(s) -> str:
    return f"/enrolments/{s.enrolment.id}/review"


def start(client, s) -> None:
    response = client.post(f"{review_url(s)}/start")
    assert response.status_code == 302
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.IN_REVIEW


def judge(client, s, anchor: str, finding: str = "satisfactory", comment: str = "", seen=None):
    target = s.target(anchor)
    if seen is None:
        current = db.session.scalar(
            select(Judgement).where(
                Judgement.enrolment_id == s.enrolment.id, Judgement.target_id == target.id
            )
        )
        seen = current.lock_version if current else 0
    return client.post(
        f"{review_url(s)}/judgements",
        data={"target": target.id, "seen": seen, "finding": finding, "comment": comment},
        follow_redirects=True,
    )


def decide(client, s, item_index: int, anchor: str, decision: str, note: str = ""):
    version = s.items[item_index].current_version
    return client.post(
        f"{review_url(s)}/mappings",
        data={
            "version": version.id,
            "target": s.target(anchor).id,
            "decision": decision,
            "note": note,
        },
        follow_redirects=True,
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_queue_shows_waiting_submissions_oldest_first(
    client, submitted, make_user, make_enrolment, login, count_queries
) -> None:
    """The assessor's queue: learner, unit, submitted date, round, coverage; nobody else's."""
    first = submitted()
    login(first.assessor)
    page = client.get("/review").text
    assert "Lee Learner" in page and "TLII5018" in page and "First submission" in page
    assert "2 / 24 covered" in page
    # Opening a waiting submission starts its review: one click, a POST with the token.
    assert f'action="/enrolments/{first.enrolment.id}/review/start"' in page

    other = make_user("assessor")
    login(other)
    assert "Nothing is waiting for you" in client.get("/review").text


def test_queue_runs_a_fixed_number_of_queries(
    client, submitted, make_user, make_enrolment, login, count_queries
) -> None:
    """Ten waiting submissions cost the queue no more queries than one."""
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item
    from portfolio.evidence.services import submit as hand_in
    from portfolio.models import EvidenceType

    s = submitted()
    login(s.assessor)
    client.get("/review")  # the unit's read-only copy is loaded once per process
    db.session.expire_all()  # each measured request starts from an empty identity map
    with count_queries() as one:
        client.get("/review")
    for _ in range(9):
        learner = make_user("learner")
        enrolment = make_enrolment(learner=learner, assessor=s.assessor)
        create_item(
            db.session,
            actor=learner,
            enrolment=enrolment,
            fields=ItemFields("Notes", EvidenceType.REPORT, date(2026, 1, 1), "text"),
            files=[],
        )
        hand_in(db.session, actor=learner, enrolment=enrolment, declared=True)
    db.session.commit()
    db.session.expire_all()
    with count_queries() as ten:
        page = client.get("/review").text
    assert page.count("First submission") == 10
    assert ten.count == one.count, ten.statements


def test_review_page_is_a_matrix_of_criteria_against_evidence(client, submitted, login) -> None:
    """Rows are criteria, columns the items; the learner's marks and notes are there, gaps show."""
    s = submitted({"Service plan": ["pc-1.1", "pc-1.2"], "Complaint log": ["pc-2.1"]})
    login(s.assessor)
    page = client.get(review_url(s)).text
    assert ">E1</a></th>" in page and ">E2</a></th>" in page
    assert "E1 for 1.1: pending" in page and "E2 for 2.1: pending" in page
    assert "“Service plan shows pc-1.1”" in page
    assert page.count("data-gap") == 24  # nothing is accepted yet
    assert "Start review" in page and "Element 1 Plan to meet" in page


def test_judging_needs_the_review_started_and_accepted_evidence(client, submitted, login) -> None:
    """A gap cannot be judged satisfactory; not yet satisfactory needs a comment."""
    s = submitted()
    login(s.assessor)
    page = judge(client, s, "pc-1.1")
    assert "while the portfolio is submitted" in page.text
    start(client, s)
    page = judge(client, s, "pc-1.1")
    assert "1.1 has no accepted evidence" in page.text
    page = judge(client, s, "pc-2.1", "not_yet_satisfactory")
    assert "Say what is missing for 2.1." in page.text
    assert count(Judgement) == 0

    decide(client, s, 0, "pc-1.1", "accept")
    page = judge(client, s, "pc-1.1", comment="Clear service standards")
    assert "1.1: satisfactory." in page.text
    judgement = db.session.scalar(select(Judgement))
    assert judgement.comment == "Clear service standards"
    assert judgement.assessor_id == s.assessor.id


def test_rejecting_a_mapping_leaves_the_gap_and_the_assessor_can_map_instead(
    client, submitted, login
) -> None:
    """Reject the learner's claim, or map an item the learner did not think of."""
    s = submitted({"Service plan": ["pc-1.1"], "Complaint log": ["pc-2.1"]})
    login(s.assessor)
    start(client, s)
    page = decide(client, s, 0, "pc-1.1", "reject")
    assert "E1 rejected for 1.1." in page.text
    assert "E1 for 1.1: rejected" in page.text
    page = decide(client, s, 1, "pc-1.1", "add", note="The log shows needs being clarified")
    assert "E2 mapped for 1.1." in page.text
    assert "E2 for 1.1: accepted" in page.text
    decisions = {
        (d.version_id, d.accepted, d.source.value)
        for d in db.session.scalars(select(MappingDecision))
    }
    assert decisions == {
        (s.items[0].current_version_id, False, "learner"),
        (s.items[1].current_version_id, True, "assessor"),
    }
    # Mapping what the learner already mapped is an accept, not an addition.
    page = decide(client, s, 1, "pc-2.1", "add")
    assert "already mapped this evidence to 2.1: accept it." in page.text


def test_map_evidence_yourself_offers_each_criterion_only_the_items_not_mapped_to_it(
    client, submitted, login
) -> None:
    """Each criterion's list holds the items not yet mapped to it, titles escaped."""
    s = submitted({"Plan <b>v2</b>": ["pc-1.1"], "Complaint log": ["pc-2.1"]})
    login(s.assessor)
    start(client, s)
    tree = lxml.html.fromstring(client.get(review_url(s)).text)

    def offered(anchor: str) -> list[tuple[str, str]]:
        select_ = tree.get_element_by_id(f"am-{s.target(anchor).id}")
        return [(o.get("value"), o.text_content()) for o in select_.findall("option")]

    first, second = (str(item.current_version_id) for item in s.items)
    assert offered("pc-1.1") == [(second, "E2 Complaint log")]
    assert offered("pc-2.1") == [(first, "E1 Plan <b>v2</b>")]
    assert offered("pc-1.2") == [(first, "E1 Plan <b>v2</b>"), (second, "E2 Complaint log")]
    assert not tree.xpath("//option/b"), "an item's title is text, not markup"


def test_two_assessors_saving_one_judgement_second_is_refused(
    client, submitted, login, app
) -> None:
    """The second save from a page opened before the first is refused, and the first stays."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    decide(client, s, 0, "pc-1.1", "accept")
    # Both tabs opened the page when 1.1 had no judgement (seen=0).
    first = judge(client, s, "pc-1.1", comment="From tab one", seen=0)
    assert "1.1: satisfactory." in first.text
    second = judge(client, s, "pc-1.1", "not_yet_satisfactory", "From tab two", seen=0)
    assert "saved the judgement of 1.1 after you opened this page" in second.text
    assert "Reload the page" in second.text
    judgement = db.session.scalar(select(Judgement))
    db.session.refresh(judgement)
    assert judgement.comment == "From tab one" and judgement.finding.value == "satisfactory"


def test_marking_an_element_records_one_judgement_per_criterion(client, submitted, login) -> None:
    """The bulk button accepts the mapped evidence and judges each criterion separately."""
    s = submitted({"Service plan": ["pc-1.1", "pc-1.2"]})
    login(s.assessor)
    start(client, s)
    page = client.post(f"{review_url(s)}/sections/element-1/satisfactory", follow_redirects=True)
    assert "requirements: 2 judged satisfactory" in page.text
    missing = client.post(f"{review_url(s)}/sections/no-such-section/satisfactory")
    assert missing.status_code == 404
    judged = db.session.scalars(select(Judgement)).all()
    assert sorted(j.target.ref for j in judged) == ["1.1", "1.2"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "judgement.recorded")
    ).all()
    assert len(events) == 2


def test_rules_of_evidence_and_old_evidence_flagged(client, submitted, login) -> None:
    """Each rule is confirmed or flagged with a note; old work is marked possibly not current."""
    s = submitted(work_date=date(2022, 3, 1))
    login(s.assessor)
    start(client, s)
    version = s.items[0].current_version
    url = f"{review_url(s)}/items/{version.id}"
    page = client.get(url).text
    assert "Possibly not current" in page and "About Service plan." in page
    flagged = client.post(
        url,
        data={"version": version.id, "rule": "current", "seen": 0, "confirmed": "no"},
        follow_redirects=True,
    )
    assert "Say why current is flagged." in flagged.text
    client.post(
        url,
        data={
            "version": version.id,
            "rule": "current",
            "seen": 0,
            "confirmed": "no",
            "note": "Plan is from 2022; ask for this year's",
        },
    )
    client.post(url, data={"version": version.id, "rule": "valid", "seen": 0, "confirmed": "yes"})
    checks = {
        c.rule.value: (c.confirmed, c.note) for c in db.session.scalars(select(EvidenceCheck))
    }
    assert checks == {
        "current": (False, "Plan is from 2022; ask for this year's"),
        "valid": (True, ""),
    }
    page = client.get(review_url(s)).text
    assert "Current: flagged" in page and "Valid ✓" in page


def test_gap_signed_off_by_competency_conversation(client, submitted, login) -> None:
    """A conversation needs its questions and answers; then the gap is closed and judgeable."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    target = s.target("pc-2.3")
    url = f"{review_url(s)}/gaps/{target.id}"
    assert "Sign off the gap at 2.3" in client.get(url).text
    refused = client.post(
        url,
        data={"method": "competency_conversation", "held_on": "2026-11-20", "notes": "Chat"},
    )
    assert "Record the questions asked and the answers given" in refused.text
    page = client.post(
        url,
        data={
            "method": "competency_conversation",
            "held_on": "2026-11-20",
            "notes": "Discussed coaching a new team member.",
            "questions-0-question": "How did you coach Sam on the refund process?",
            "questions-0-answer": "Walked through two live calls, then swapped roles.",
            "files": [(io.BytesIO(png_bytes()), "whiteboard.png")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "The gap at 2.3 is signed off." in page.text
    signoff = db.session.scalar(select(GapSignoff))
    assert signoff.questions == [
        {
            "question": "How did you coach Sam on the refund process?",
            "answer": "Walked through two live calls, then swapped roles.",
        }
    ]
    assert [f.display_name for f in signoff.files] == ["whiteboard.png"]
    assert "Competency conversation, 20/11/2026" in page.text
    # The file gathered is opened from the review, in the browser.
    link = re.search(r'href="([^"]+)">whiteboard.png</a>', page.text)
    assert link, "the sign-off's file is not a link"
    with client.get(link.group(1)) as opened:
        assert opened.status_code == 200 and opened.data == png_bytes()
        assert opened.mimetype == "image/png"
        assert "attachment" not in opened.headers.get("Content-Disposition", "")
    assert "1.1 has no accepted evidence" not in judge(client, s, "pc-2.3").text
    again = client.post(
        url, data={"method": "direct_observation", "held_on": "2026-11-20", "notes": "Saw it"}
    )
    assert "2.3 is not a gap" in again.text


def test_return_then_resubmit_starts_round_two_with_history(client, submitted, login) -> None:
    """Returned gaps reach the learner with the feedback; their resubmission is round 2."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    target = s.target("pc-2.3")
    page = client.post(
        f"{review_url(s)}/return",
        data={
            f"feedback-{target.id}": "Add your coaching notes for a new starter",
            "overall": "Good start",
        },
        follow_redirects=True,
    )
    assert "Returned to Lee Learner with your feedback." in page.text
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.RETURNED

    login(s.learner)
    portfolio = client.get(f"/enrolments/{s.enrolment.id}").text
    assert "Add your coaching notes for a new starter" in portfolio
    assert "Good start" in portfolio
    client.post(f"/enrolments/{s.enrolment.id}/submit", data={"declared": "y"})
    rounds = db.session.scalars(select(Submission.round).order_by(Submission.round)).all()
    assert rounds == [1, 2]
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.RESUBMITTED

    login(s.assessor)
    assert "Resubmission 2" in client.get("/review").text


def test_outcome_needs_every_criterion_judged_and_competent_needs_all_satisfactory(
    client, submitted, login
) -> None:
    """The outcome waits for every judgement; one not yet satisfactory rules out Competent."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    url = f"{review_url(s)}/outcome"
    page = client.post(url, data={"result": "competent", "declared": "y"})
    assert "Judge every criterion first" in page.text
    for target in s.targets:
        if target.anchor in ("pc-1.1", "pc-1.2"):
            decide(client, s, 0, target.anchor, "accept")
            judge(client, s, target.anchor)
        else:
            judge(client, s, target.anchor, "not_yet_satisfactory", "No evidence")
    page = client.post(url, data={"result": "competent", "declared": "y"})
    assert "Competent needs every criterion judged satisfactory." in page.text
    page = client.post(url, data={"result": "not_yet_competent"})
    assert "Tick the declaration" in page.text
    page = client.post(
        url, data={"result": "not_yet_competent", "declared": "y"}, follow_redirects=True
    )
    assert "Outcome recorded: Not yet competent" in page.text
    outcome = db.session.scalar(select(UnitOutcome))
    assert outcome.result.avetmiss_code == "30"
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.DECIDED


def competent(client, s) -> None:
    """Accept, sign off and judge everything, then record Competent."""
    start(client, s)
    for target in s.targets:
        if target.anchor in ("pc-1.1", "pc-1.2"):
            decide(client, s, 0, target.anchor, "accept")
        else:
            client.post(
                f"{review_url(s)}/gaps/{target.id}",
                data={
                    "method": "direct_observation",
                    "held_on": "2026-11-20",
                    "notes": f"Observed {target.ref} at the service desk.",
                },
            )
        judge(client, s, target.anchor)
    response = client.post(
        f"{review_url(s)}/outcome", data={"result": "competent", "declared": "y"}
    )
    assert response.status_code == 302, response.text


def test_after_the_outcome_nothing_changes_in_place(client, submitted, login) -> None:
    """The locked record refuses edits; a correction is a new entry and both stay visible."""
    s = submitted()
    login(s.assessor)
    competent(client, s)
    page = judge(client, s, "pc-1.1", "not_yet_satisfactory", "second thoughts")
    assert "while the portfolio is decided" in page.text

    target = s.target("pc-1.2")
    url = f"{review_url(s)}/judgements/{target.id}/correct"
    page = client.post(
        url,
        data={"finding": "not_yet_satisfactory", "comment": "x", "reason": "Wrong learner's plan"},
    )
    assert "correct the outcome first" in page.text
    page = client.post(
        f"{review_url(s)}/outcome/correct",
        data={"result": "not_yet_competent", "reason": "Plan belonged to another learner"},
        follow_redirects=True,
    )
    assert "The outcome is corrected to Not yet competent" in page.text
    page = client.post(
        url,
        data={
            "finding": "not_yet_satisfactory",
            "comment": "Not his plan",
            "reason": "Plan belonged to another learner",
        },
        follow_redirects=True,
    )
    assert "The judgement of 1.2 is corrected; the old one stays on record." in page.text
    rows = db.session.scalars(
        select(Judgement).where(Judgement.target_id == target.id).order_by(Judgement.id)
    ).all()
    assert [r.finding.value for r in rows] == ["satisfactory", "not_yet_satisfactory"]
    assert rows[1].replaces_id == rows[0].id
    assert rows[1].correction_reason == "Plan belonged to another learner"
    assert "Corrections" in page.text and "(replaced)" in page.text
    assert count(UnitOutcome) == 2
    assert "data-outcome>Not yet competent<" in page.text


def test_a_sign_off_is_corrected_after_the_outcome_and_both_stay(client, submitted, login) -> None:
    """A wrong date and note on an observation: the correction is a new sign-off with a reason,
    files kept or dropped as chosen, and the old one stays on record and in the audit log."""
    s = submitted()
    login(s.assessor)
    target = s.target("pc-2.3")
    start(client, s)
    client.post(
        f"{review_url(s)}/gaps/{target.id}",
        data={
            "method": "direct_observation",
            "held_on": "2026-11-20",
            "notes": "Observed at the depot.",
            "files": [
                (io.BytesIO(png_bytes()), "checklist.png"),
                (io.BytesIO(png_bytes(width=5)), "wrong-learner.png"),
            ],
        },
        content_type="multipart/form-data",
    )
    competent(client, s)
    review = client.get(review_url(s)).text
    url = f"{review_url(s)}/gaps/{target.id}/correct"
    assert f'href="{url}"' in review

    form = client.get(url).text
    assert "Correct the sign-off of 2.3" in form
    assert "Observed at the depot." in form  # the form starts from what is recorded
    old = db.session.scalar(select(GapSignoff).where(GapSignoff.target_id == target.id))
    keep, _wrong = old.files
    fields = {
        "method": "direct_observation",
        "held_on": "2026-11-19",
        "notes": "Observed at the Botany depot.",
        "keep": [str(keep.id)],
    }
    refused = client.post(url, data=fields)
    assert "This field is required." in refused.text  # the reason
    page = client.post(
        url,
        data={
            **fields,
            "reason": "The observation was on the 19th, at Botany.",
            "files": [(io.BytesIO(png_bytes(width=6)), "site-photo.png")],
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "The sign-off of 2.3 is corrected; the old one stays on record." in page.text
    rows = db.session.scalars(
        select(GapSignoff).where(GapSignoff.target_id == target.id).order_by(GapSignoff.id)
    ).all()
    assert len(rows) == 2 and rows[1].replaces_id == rows[0].id
    new = rows[1]
    assert (new.held_on, new.notes) == (date(2026, 11, 19), "Observed at the Botany depot.")
    assert new.correction_reason == "The observation was on the 19th, at Botany."
    assert [f.display_name for f in new.files] == ["checklist.png", "site-photo.png"]
    assert new.files[0].storage_key == keep.storage_key
    assert [f.display_name for f in rows[0].files] == ["checklist.png", "wrong-learner.png"]
    assert "Direct observation, 19/11/2026" in page.text
    assert "Corrected: The observation was on the 19th, at Botany." in page.text
    assert "sign-off of 2.3" in page.text and "(replaced)" in page.text

    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "gap.signoff_corrected")
    )
    assert event.before["held_on"] == "2026-11-20" and event.after["held_on"] == "2026-11-19"
    assert [f["name"] for f in event.after["files"]] == ["checklist.png", "site-photo.png"]
    assert verify(db.session).ok

    # Sent again (a double click), it records nothing more: it is what is recorded now.
    again = client.post(
        url,
        data={**fields, "keep": [str(f.id) for f in new.files], "reason": "again"},
    )
    assert "That is the sign-off of 2.3 as recorded" in again.text
    assert count(GapSignoff) == len(s.targets) - 2 + 1


def test_a_sign_off_is_corrected_only_after_the_outcome(client, submitted, login) -> None:
    """While the review is open the sign-off page is the place; a criterion without one is 404."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    target = s.target("pc-2.3")
    client.post(
        f"{review_url(s)}/gaps/{target.id}",
        data={"method": "direct_observation", "held_on": "2026-11-20", "notes": "Seen."},
    )
    page = client.post(
        f"{review_url(s)}/gaps/{target.id}/correct",
        data={
            "method": "direct_observation",
            "held_on": "2026-11-20",
            "notes": "Seen twice.",
            "reason": "More detail",
        },
    )
    assert "while the portfolio is in review" in page.text
    assert count(GapSignoff) == 1
    no_signoff = s.target("pc-1.1")
    assert client.get(f"{review_url(s)}/gaps/{no_signoff.id}/correct").status_code == 404


def test_rpl_enrolments_record_rpl_outcomes(client, submitted, login) -> None:
    """An RPL enrolment offers RPL granted / not granted, with their AVETMISS codes."""
    s = submitted(is_rpl=True)
    login(s.assessor)
    start(client, s)
    page = client.get(f"{review_url(s)}/outcome").text
    assert "RPL granted (AVETMISS 51)" in page and "RPL not granted (AVETMISS 52)" in page
    assert "Competent (AVETMISS 20)" not in page


def test_the_whole_review_is_in_a_verifiable_audit_log(client, submitted, login) -> None:
    """Every decision is an event with actor and role, and the chain verifies."""
    s = submitted()
    login(s.assessor)
    competent(client, s)
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.enrolment_id == s.enrolment.id)
    ).all()
    for expected in (
        "enrolment.state",
        "mapping.accepted",
        "gap.signed_off",
        "judgement.recorded",
        "outcome.recorded",
    ):
        assert expected in actions
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outcome.recorded"))
    assert event.actor_id == s.assessor.id and event.actor_role == "assessor"
    assert event.after["avetmiss"] == "20"
    assert verify(db.session).ok


def test_only_the_assigned_assessor_reviews(client, submitted, make_user, login) -> None:
    """Another assessor gets 404; the learner 403; an admin may read but not judge."""
    s = submitted()
    login(make_user("assessor"))
    assert client.get(review_url(s)).status_code == 404
    assert client.post(f"{review_url(s)}/start").status_code == 404
    login(s.learner)
    assert client.get(review_url(s)).status_code == 403
    assert client.post(f"{review_url(s)}/start").status_code == 403
    login(make_user("admin"))
    page = client.get(review_url(s))
    assert page.status_code == 200 and "Start review" not in page.text
    assert client.post(f"{review_url(s)}/start").status_code == 403
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.SUBMITTED


def test_review_page_runs_a_fixed_number_of_queries(client, submitted, login, count_queries):
    """Three items or twelve: the review page costs the same number of queries."""
    small = submitted({f"Item {i}": ["pc-1.1"] for i in range(3)})
    login(small.assessor)
    with count_queries() as few:
        client.get(review_url(small))
    db.session.expire_all()

    big = submitted({f"Item {i}": ["pc-1.1", "pc-2.1"] for i in range(12)}, unit="BSBCUS501")
    login(big.assessor)
    with count_queries() as many:
        page = client.get(review_url(big)).text
    assert len(re.findall(r">E\d+</a></th>", page)) == 12
    assert many.count == few.count, many.statements


def test_an_item_opens_in_place_with_its_word_file_readable(
    client, make_user, make_enrolment, login
) -> None:
    """The assessor reads a Word file in the browser, then in place on the item page."""
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item
    from portfolio.evidence.services import submit as hand_in
    from portfolio.files.uploads import store_upload
    from portfolio.models import EvidenceType
    from tests.files import docx_bytes

    learner, assessor = make_user("learner"), make_user("assessor")
    enrolment = make_enrolment(learner=learner, assessor=assessor)
    stored = store_upload(
        io.BytesIO(docx_bytes("Complaint log", "Refund issued in 24 hours.")), "complaints.docx"
    )
    item = create_item(
        db.session,
        actor=learner,
        enrolment=enrolment,
        fields=ItemFields("Complaint log", EvidenceType.COMPLAINT_LOG, date(2026, 10, 1), ""),
        files=[stored],
    )
    hand_in(db.session, actor=learner, enrolment=enrolment, declared=True)
    db.session.commit()
    login(assessor)
    url = f"/enrolments/{enrolment.id}/review/items/{item.current_version_id}"
    # Converted on demand, from the file's link, so opening the item never waits on it...
    evidence_file = item.current_version.files[0]
    first = client.get(url).text
    assert "Refund issued in 24 hours." not in first
    assert f'href="/files/{evidence_file.id}/preview"' in first
    assert "Refund issued in 24 hours." in client.get(f"/files/{evidence_file.id}/preview").text
    # ...and once made, read in place.
    page = client.get(url).text
    assert "complaints.docx, as text" in page
    assert "Refund issued in 24 hours." in page


def test_competent_is_refused_while_a_criterion_has_no_evidence(client, submitted, login) -> None:
    """Rejecting the only evidence after judging leaves a gap, and Competent then waits for it."""
    s = submitted()
    login(s.assessor)
    competent_but_last = [t for t in s.targets if t.anchor not in ("pc-1.1", "pc-1.2")]
    start(client, s)
    decide(client, s, 0, "pc-1.1", "accept")
    decide(client, s, 0, "pc-1.2", "accept")
    for target in competent_but_last:
        client.post(
            f"{review_url(s)}/gaps/{target.id}",
            data={"method": "direct_observation", "held_on": "2026-11-20", "notes": "Seen."},
        )
    for target in s.targets:
        judge(client, s, target.anchor)
    rejected = decide(client, s, 0, "pc-1.1", "reject")  # second thoughts, after judging
    assert "E1 rejected for 1.1." in rejected.text, rejected.text[-3000:]
    page = client.post(f"{review_url(s)}/outcome", data={"result": "competent", "declared": "y"})
    assert "Competent needs accepted evidence or a sign-off for every criterion; 1.1 has none." in (
        page.text.replace("&#39;", "'")
    )
    assert count(UnitOutcome) == 0


def test_the_bulk_button_leaves_judgements_already_made(client, submitted, login) -> None:
    """A criterion judged not yet satisfactory keeps that judgement and its comment."""
    s = submitted({"Service plan": ["pc-1.1", "pc-1.2"]})
    login(s.assessor)
    start(client, s)
    judge(client, s, "pc-1.1", "not_yet_satisfactory", "Plan predates the new contract")
    page = client.post(f"{review_url(s)}/sections/element-1/satisfactory", follow_redirects=True)
    assert "requirements: 1 judged satisfactory" in page.text
    findings = {
        j.target.ref: (j.finding.value, j.comment) for j in db.session.scalars(select(Judgement))
    }
    assert findings["1.1"] == ("not_yet_satisfactory", "Plan predates the new contract")
    assert findings["1.2"][0] == "satisfactory"


def test_a_replaced_version_is_not_found_on_the_review(client, submitted, login) -> None:
    """After a resubmission with a changed item, the old version's review page is a 404."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    target = s.target("pc-2.3")
    client.post(f"{review_url(s)}/return", data={f"feedback-{target.id}": "More please"})
    old = s.items[0].current_version_id
    login(s.learner)
    client.post(
        f"/evidence/{s.items[0].id}/edit",
        data={
            "title": "Service plan v2",
            "evidence_type": "plan",
            "work_date": "2026-10-01",
            "description": "Updated plan.",
        },
    )
    client.post(f"/enrolments/{s.enrolment.id}/submit", data={"declared": "y"})
    login(s.assessor)
    assert client.get(f"{review_url(s)}/items/{old}").status_code == 404
    db.session.expire_all()
    assert client.get(f"{review_url(s)}/items/{s.items[0].current_version_id}").status_code == 200


def test_two_sign_offs_of_one_gap_at_once_record_one(submitted) -> None:
    """Of two requests closing the same gap together, the second is refused, not recorded."""
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from portfolio.assessment.decisions import start_review
    from portfolio.assessment.gaps import sign_off_gap
    from portfolio.assessment.review import review_view
    from portfolio.models import Enrolment, GapMethod, Target, User

    s = submitted()
    start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    db.session.commit()
    target = s.target("pc-2.3")
    view = review_view(db.session, s.enrolment)  # this request read the gap first

    def sign(session, actor, enrolment_view, gap):
        return sign_off_gap(
            session,
            actor=actor,
            view=enrolment_view,
            target=gap,
            method=GapMethod.DIRECT_OBSERVATION,
            held_on=date(2026, 11, 20),
            notes="Seen.",
        )

    with Session(db.engine) as other:
        enrolment = other.get(Enrolment, s.enrolment.id)
        sign(
            other,
            other.get(User, s.assessor.id),
            review_view(other, enrolment),
            other.get(Target, target.id),
        )
        other.commit()
    with pytest.raises(StaleDataError):
        sign(db.session, s.assessor, view, target)
    db.session.rollback()
    assert count(GapSignoff) == 1


def test_a_sign_off_file_is_found_only_under_its_own_enrolment(client, submitted, login) -> None:
    """An assessor of two portfolios cannot reach one's sign-off file through the other's URL."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    client.post(
        f"{review_url(s)}/gaps/{s.target('pc-2.3').id}",
        data={
            "method": "direct_observation",
            "held_on": "2026-11-20",
            "notes": "Watched a callback.",
            "files": [(io.BytesIO(png_bytes()), "checklist.png")],
        },
        content_type="multipart/form-data",
    )
    file_id = db.session.scalar(select(GapSignoff)).files[0].id
    other = submitted()
    other.enrolment.assessor_id = s.assessor.id
    db.session.commit()
    with client.get(f"{review_url(s)}/signoff-files/{file_id}") as own:
        assert own.status_code == 200
    assert client.get(f"{review_url(other)}/signoff-files/{file_id}").status_code == 404
    assert client.get(f"{review_url(s)}/signoff-files/999999").status_code == 404


def test_ids_past_any_row_are_not_found_or_refused_not_server_errors(
    client, submitted, login
) -> None:
    """An id past 64 bits in a URL or a form is not found (404) and nothing is saved; both
    were server errors (SQLite's driver cannot bind such a number)."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    huge = 2**64 + 5
    assert client.get(f"/enrolments/{huge}/review").status_code == 404
    for past_32_bits in (2**40, huge):  # PostgreSQL compares ids as 32-bit integers
        assert client.get(f"/evidence/{past_32_bits}").status_code == 404
    refused = client.post(
        f"{review_url(s)}/judgements",
        data={"target": huge, "seen": 0, "finding": "satisfactory", "comment": ""},
    )
    assert refused.status_code == 404
    assert count(Judgement) == 0


# --- The queue: due dates, filters, counts, opening starts the review --------------------------


def test_working_days_skip_weekends() -> None:
    from portfolio.assessment.queue import add_working_days, first_not_overdue

    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1) == date(2026, 11, 30)  # Monday
    assert add_working_days(friday, 10) == date(2026, 12, 11)
    # Handed in on or after this day, not yet overdue today; before it, overdue.
    today = date(2026, 12, 14)  # a Monday
    cutoff = first_not_overdue(today, 10)
    assert add_working_days(cutoff, 10) >= today > add_working_days(cutoff - timedelta(1), 10)


def test_opening_a_waiting_submission_from_the_queue_starts_its_review(
    client, submitted, login
) -> None:
    s = submitted()
    login(s.assessor)
    page = client.get("/review").text
    action = f"/enrolments/{s.enrolment.id}/review/start"
    assert f'action="{action}"' in page
    opened = client.post(action, follow_redirects=True)
    assert "Review started." in opened.text
    # It opens on the first item still to decide.
    first = s.items[0].current_version_id
    assert opened.request.path == f"/enrolments/{s.enrolment.id}/review/items/{first}"
    db.session.expire_all()
    assert s.enrolment.state is AssessmentState.IN_REVIEW
    [started] = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == STATE_EVENT, AuditEvent.enrolment_id == s.enrolment.id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).all()
    assert started.after["state"] == "in_review" and started.actor_id == s.assessor.id
    # In review now: the queue links the review (nothing more to start).
    assert f'href="/enrolments/{s.enrolment.id}/review"' in client.get("/review").text


def test_the_queue_shows_due_dates_flags_overdue_and_counts(client, submitted, login) -> None:
    from portfolio.assessment.queue import add_working_days

    late, recent = submitted(), submitted()
    login(late.assessor)
    handed_in = late.enrolment.submissions[-1]
    handed_in.submitted_at = handed_in.submitted_at - timedelta(days=30)
    db.session.commit()
    page = client.get("/review")
    tree = lxml.html.fromstring(page.data)
    rows = tree.xpath("//tbody/tr")
    assert len(rows) == 1  # each assessor sees their own
    assert rows[0].get("data-overdue") is not None
    due = add_working_days(TODAY - timedelta(days=30), 10)
    assert f"Overdue by {(TODAY - due).days} days" in rows[0].text_content()
    assert tree.xpath('string(//*[@data-count="waiting"])') == "1"
    assert tree.xpath('string(//*[@data-count="overdue"])') == "1"

    login(recent.assessor)
    tree = lxml.html.fromstring(client.get("/review").data)
    assert tree.xpath("//tbody/tr/@data-overdue") == []
    assert tree.xpath('string(//*[@data-count="overdue"])') == "0"
    due = add_working_days(TODAY, 10)
    assert due.strftime("%d/%m/%Y") in tree.xpath("string(//tbody/tr)")


def test_the_queue_filters_by_unit_and_learner(
    client, submitted, make_user, make_enrolment, login
) -> None:
    from portfolio.evidence.rules import ItemFields
    from portfolio.evidence.services import create_item
    from portfolio.evidence.services import submit as hand_in
    from portfolio.models import EvidenceType

    s = submitted()
    other = make_user("learner", name="Mia Other", student_id="S7788")
    enrolment = make_enrolment(learner=other, assessor=s.assessor, unit="BSBCUS501")
    create_item(
        db.session,
        actor=other,
        enrolment=enrolment,
        fields=ItemFields("Notes", EvidenceType.REPORT, date(2026, 1, 1), "text"),
        files=[],
    )
    hand_in(db.session, actor=other, enrolment=enrolment, declared=True)
    db.session.commit()
    login(s.assessor)

    def learners(query: str) -> list[str]:
        tree = lxml.html.fromstring(client.get(f"/review{query}").data)
        return [" ".join(c.text_content().split()) for c in tree.xpath("//tbody/tr/td[1]")]

    assert learners("") == ["Lee Learner", "Mia Other"]
    assert learners("?unit=BSBCUS501") == ["Mia Other"]
    assert learners("?learner=s778") == ["Mia Other"]
    assert learners("?learner=lee&unit=TLII5018") == ["Lee Learner"]
    empty = client.get("/review?learner=nobody").text
    assert "Nothing waiting matches this filter." in empty
    assert 'data-count="waiting">2<' in empty  # the counts are of the whole queue
    options = lxml.html.fromstring(client.get("/review").data).xpath(
        "//select[@id='unit']/option/@value"
    )
    assert options == ["", "BSBCUS501", "TLII5018"]


# --- One record for many criteria ---------------------------------------------------------------


def test_one_conversation_signs_off_several_gaps_as_one_record(
    client, submitted, login, make_enrolment, make_user
) -> None:
    """One competency conversation covering 2.3, 2.1 and 2.2 is typed once: each criterion
    gets its sign-off and its own audit event, the pack shows the record once, and a
    correction replaces it for all three."""
    from portfolio.assessment.ledger import compare_with_log
    from portfolio.models import Target

    s = submitted()
    login(s.assessor)
    start(client, s)
    first, others = s.target("pc-2.3"), [s.target("pc-2.1"), s.target("pc-2.2")]
    url = f"{review_url(s)}/gaps/{first.id}"
    form = client.get(url).text
    assert 'name="also"' in form and f'value="{others[0].id}"' in form
    decide(client, s, 0, "pc-1.1", "accept")
    assert f'value="{s.target("pc-1.1").id}"' not in client.get(url).text  # not a gap now
    fields = {
        "method": "competency_conversation",
        "held_on": "2026-11-20",
        "notes": "One conversation about coaching and feedback.",
        "questions-0-question": "How do you coach a new starter?",
        "questions-0-answer": "Two live calls together, then roles swapped.",
    }

    # Bad input: a criterion of another unit, or one that is no gap; nothing is saved.
    foreign = db.session.scalar(
        select(Target).where(Target.unit_release_id != s.enrolment.unit_release_id).limit(1)
    )
    assert client.post(url, data={**fields, "also": [str(foreign.id)]}).status_code == 404
    refused = client.post(url, data={**fields, "also": [str(s.target("pc-1.1").id)]})
    assert "1.1 is not a gap: it has accepted evidence or a sign-off." in refused.text
    assert "One conversation about coaching and feedback." in refused.text  # nothing lost
    assert count(GapSignoff) == 0

    page = client.post(
        url, data={**fields, "also": [str(o.id) for o in others]}, follow_redirects=True
    )
    assert "The gaps at 2.3, 2.1 and 2.2 are signed off by one record." in page.text
    rows = db.session.scalars(select(GapSignoff).order_by(GapSignoff.id)).all()
    assert [r.target_id for r in rows] == [first.id, others[0].id, others[1].id]
    assert len({r.record_key for r in rows}) == 1 and rows[0].record_key
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "gap.signed_off").order_by(AuditEvent.seq)
    ).all()
    assert [e.subject for e in events] == ["target:2.3", "target:2.1", "target:2.2"]
    assert all(e.after["covers"] == ["2.3", "2.1", "2.2"] for e in events)

    competent(client, s)
    correct_url = f"{review_url(s)}/gaps/{others[0].id}/correct"
    assert "This record covers 2.1, 2.2, 2.3" in client.get(correct_url).text
    corrected = client.post(
        correct_url,
        data={**fields, "held_on": "2026-11-19", "reason": "It was the 19th."},
        follow_redirects=True,
    )
    assert "The sign-off of 2.1, 2.2, 2.3 is corrected" in corrected.text
    replacements = db.session.scalars(
        select(GapSignoff).where(GapSignoff.replaces_id.in_([r.id for r in rows]))
    ).all()
    assert sorted(r.target_id for r in replacements) == sorted(r.target_id for r in rows)
    assert {r.held_on for r in replacements} == {date(2026, 11, 19)}
    assert len({r.record_key for r in replacements}) == 1
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "gap.signoff_corrected")
        )
        == 3
    )
    assert list(compare_with_log(db.session)) == []

    import docx

    pack = docx.Document(
        io.BytesIO(client.post(f"/enrolments/{s.enrolment.id}/evidence-pack.docx").data)
    )
    headings = [p.text for p in pack.paragraphs if p.style.name == "Heading 2"]
    record = [h for h in headings if h.endswith(": one record")]
    assert len(record) == 1 and sorted(record[0].split(":")[0].split(", ")) == ["2.1", "2.2", "2.3"]
    assert not any(h.startswith(("2.1 ", "2.2 ", "2.3 ")) for h in headings)


# --- One decision per item -------------------------------------------------------------------


def test_an_item_is_decided_in_one_save_then_the_next_opens(client, submitted, login) -> None:
    """The four rules and the learner's mappings of an item in one Save, then the next item
    still to decide; each part is its own audit event, and saving again records nothing."""
    s = submitted(mapped={"Service plan": ["pc-1.1", "pc-1.2"], "Coaching log": ["pc-2.1"]})
    login(s.assessor)
    start(client, s)
    first, second = (item.current_version for item in s.items)
    url = f"{review_url(s)}/items/{first.id}/decide"
    review = lxml.html.fromstring(client.get(review_url(s)).data)
    assert review.xpath("//a[@data-next-item]/@href") == [f"{review_url(s)}/items/{first.id}"]
    page = client.get(f"{review_url(s)}/items/{first.id}").text
    assert f'action="{url}"' in page and "Next item: E2" in page

    # Bad input, nothing lost: no tick; a flag without its reason; a flag with accepted mappings.
    unticked = client.post(url, data={"map-" + str(s.target("pc-1.1").id): "accept"})
    assert unticked.status_code == 400
    assert "Tick “I have checked this item” to confirm" in unticked.text
    no_reason = client.post(url, data={"checked": "y", "flag-authentic": "y"})
    assert no_reason.status_code == 400
    assert "Say why authentic is flagged." in no_reason.text
    flagged = {"checked": "y", "flag-authentic": "y", "note-authentic": "Not signed."}
    leaning = client.post(url, data={**flagged, f"map-{s.target('pc-1.1').id}": "accept"})
    assert leaning.status_code == 400
    assert 'value="Not signed."' in leaning.text  # what was typed is shown back
    assert count(EvidenceCheck) == 0 and count(MappingDecision) == 0

    decided = client.post(
        url,
        data={
            "checked": "y",
            f"map-{s.target('pc-1.1').id}": "accept",
            f"map-{s.target('pc-1.2').id}": "reject",
        },
    )
    assert decided.status_code == 302
    assert decided.location.endswith(f"/items/{second.id}")  # the next item to decide
    checks = db.session.scalars(select(EvidenceCheck)).all()
    assert len(checks) == 4 and all(c.confirmed for c in checks)
    decisions = {d.target_id: d.accepted for d in db.session.scalars(select(MappingDecision))}
    assert decisions == {s.target("pc-1.1").id: True, s.target("pc-1.2").id: False}
    events = count(AuditEvent)
    again = client.post(
        url,
        data={
            "checked": "y",
            f"map-{s.target('pc-1.1').id}": "accept",
            f"map-{s.target('pc-1.2').id}": "reject",
        },
    )
    assert again.status_code == 302 and count(AuditEvent) == events  # nothing new to record

    last = client.post(
        f"{review_url(s)}/items/{second.id}/decide",
        data={"checked": "y", f"map-{s.target('pc-2.1').id}": "accept"},
        follow_redirects=True,
    )
    assert "Every item of this submission is decided: judge the criteria." in last.text
    assert verify(db.session).ok


def test_a_sign_off_record_can_judge_what_it_covers_in_the_same_save(
    client, submitted, login
) -> None:
    """Each criterion the record covers gets its sign-off and its judgement: one save, one
    judgement and one audit event per criterion."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    first, other = s.target("pc-2.3"), s.target("pc-3.1")
    url = f"{review_url(s)}/gaps/{first.id}"
    form = lxml.html.fromstring(client.get(url).data)
    assert form.xpath("//input[@name='judge']/@checked")  # offered, and on by default
    page = client.post(
        url,
        data={
            "method": "direct_observation",
            "held_on": "2026-11-20",
            "notes": "Watched the morning handover.",
            "also": [str(other.id)],
            "judge": "y",
        },
        follow_redirects=True,
    )
    assert "The gaps at 2.3 and 3.1 are signed off by one record and judged satisfactory." in (
        page.text
    )
    judged = {j.target_id: (j.finding, j.comment) for j in db.session.scalars(select(Judgement))}
    assert judged == {
        first.id: (Finding.SATISFACTORY, "Signed off: direct observation, 20/11/2026."),
        other.id: (Finding.SATISFACTORY, "Signed off: direct observation, 20/11/2026."),
    }
    recorded = db.session.scalars(
        select(AuditEvent.subject).where(AuditEvent.action == "judgement.recorded")
    ).all()
    assert sorted(recorded) == ["target:2.3", "target:3.1"]


def test_the_item_decision_judges_what_it_accepted_when_its_evidence_passed(
    client, submitted, login
) -> None:
    """With 'Judge satisfactory the criteria accepted here' (on by default), a criterion
    accepted in the save is judged too: one judgement and one event each; a rejected one, or
    one already judged in this attempt, is left alone."""
    s = submitted(mapped={"Service plan": ["pc-1.1", "pc-1.2"]})
    login(s.assessor)
    start(client, s)
    version = s.items[0].current_version
    url = f"{review_url(s)}/items/{version.id}/decide"
    form = lxml.html.fromstring(client.get(f"{review_url(s)}/items/{version.id}").data)
    assert form.xpath("//input[@name='judge']/@checked")
    judge(client, s, "pc-1.2", "not_yet_satisfactory", "Show the follow-up.")
    client.post(
        url,
        data={
            "checked": "y",
            "judge": "y",
            f"map-{s.target('pc-1.1').id}": "accept",
            f"map-{s.target('pc-1.2').id}": "accept",
        },
    )
    judged = {j.target_id: (j.finding, j.comment) for j in db.session.scalars(select(Judgement))}
    assert judged == {
        s.target("pc-1.1").id: (Finding.SATISFACTORY, "Accepted evidence: E1."),
        s.target("pc-1.2").id: (Finding.NOT_YET_SATISFACTORY, "Show the follow-up."),
    }
    recorded = select(func.count()).where(AuditEvent.action == "judgement.recorded")
    assert db.session.scalar(recorded) == 2  # the not-yet judgement, then the one for 1.1
