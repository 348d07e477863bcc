"""A flagged rule of evidence blocks every decision that leans on the item until it is resolved:
re-confirmed with a note, the item's mappings rejected, or an override recorded with a reason."""

from __future__ import annotations

import io

import docx
from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import AuditEvent, EvidenceCheck, Judgement, MappingDecision, UnitOutcome
from tests.assessment.test_review import count, decide, judge, review_url, start


def item_url(s, index: int = 0) -> str:
    return f"{review_url(s)}/items/{s.items[index].current_version.id}"


def check(client, s, rule: str, confirmed: bool, note: str = "", index: int = 0):
    current = db.session.scalar(
        select(EvidenceCheck).where(
            EvidenceCheck.version_id == s.items[index].current_version.id,
            EvidenceCheck.rule == rule,
        )
    )
    return client.post(
        item_url(s, index),
        data={
            "version": s.items[index].current_version.id,
            "rule": rule,
            "seen": current.lock_version if current else 0,
            "confirmed": "yes" if confirmed else "no",
            "note": note,
        },
        follow_redirects=True,
    )


def override(client, s, rule: str, reason: str, index: int = 0, seen: int | None = None):
    current = db.session.scalar(
        select(EvidenceCheck).where(
            EvidenceCheck.version_id == s.items[index].current_version.id,
            EvidenceCheck.rule == rule,
        )
    )
    return client.post(
        f"{item_url(s, index)}/override",
        data={
            "rule": rule,
            "seen": seen if seen is not None else (current.lock_version if current else 0),
            "reason": reason,
        },
        follow_redirects=True,
    )


def flagged_plan(client, submitted, login):
    """A plan mapped to 1.1 and 1.2, in review, its sufficiency flagged."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    page = check(client, s, "sufficient", False, "One week of records only")
    assert "Sufficient: recorded for E1." in page.text
    return s


def accepted(s) -> int:
    return db.session.scalar(
        select(MappingDecision.id).where(MappingDecision.accepted.is_(True)).limit(1)
    )


def test_flagged_evidence_cannot_be_accepted_until_resolved(client, submitted, login) -> None:
    """Accepting a mapping of a flagged item is refused in words, and nothing is recorded."""
    s = flagged_plan(client, submitted, login)
    page = decide(client, s, 0, "pc-1.1", "accept")
    assert "E1 (sufficient) has a flagged rule of evidence" in page.text
    assert count(MappingDecision) == 0
    item = client.get(item_url(s)).text
    assert "data-blocking" in item and "Override this flag" in item


def test_an_override_needs_a_reason_then_lets_decisions_through(client, submitted, login) -> None:
    """The override is kept with its reason, in the audit log and on the page."""
    s = flagged_plan(client, submitted, login)
    refused = override(client, s, "sufficient", "  ")
    assert "Say why the decisions may go past the sufficient flag" in refused.text
    assert db.session.scalar(select(EvidenceCheck.override_reason)) is None

    page = override(client, s, "sufficient", "The second week is in the shared drive; seen.")
    assert "Sufficient: the flag on E1 is overridden." in page.text
    assert "flagged, overridden" in page.text
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "evidence.flag_overridden")
    )
    assert event.after == {
        "flag": "One week of records only",
        "override": "The second week is in the shared drive; seen.",
    }
    assert "accepted for 1.1" in decide(client, s, 0, "pc-1.1", "accept").text
    pack = docx.Document(
        io.BytesIO(client.post(f"/enrolments/{s.enrolment.id}/evidence-pack.docx").data)
    )
    cells = [cell.text for table in pack.tables for row in table.rows for cell in row.cells]
    assert any(
        "Sufficient: flagged (One week of records only); overridden: The second week is in the "
        "shared drive; seen." in cell
        for cell in cells
    )


def test_only_a_flag_can_be_overridden_and_a_stale_form_is_refused(
    client, submitted, login
) -> None:
    s = flagged_plan(client, submitted, login)
    assert "Valid is not flagged" in override(client, s, "valid", "Because").text
    stale = override(client, s, "sufficient", "Because", seen=0)
    assert "after you opened this page" in stale.text
    assert db.session.scalar(select(EvidenceCheck.override_reason)) is None


def test_confirming_a_flagged_rule_needs_a_note_and_resolves_it(client, submitted, login) -> None:
    s = flagged_plan(client, submitted, login)
    assert "Say why sufficient is confirmed now" in check(client, s, "sufficient", True).text
    check(client, s, "sufficient", True, "A second log came with the first")
    assert "accepted for 1.1" in decide(client, s, 0, "pc-1.1", "accept").text


def test_rejecting_the_items_mappings_leaves_nothing_leaning_on_it(
    client, submitted, login
) -> None:
    """Every mapping of the item is rejected at once; the flag then blocks nothing."""
    s = flagged_plan(client, submitted, login)
    page = client.post(
        f"{item_url(s)}/reject", data={"note": "Not enough to go on"}, follow_redirects=True
    )
    assert "E1: 2 mappings rejected" in page.text
    decisions = db.session.scalars(select(MappingDecision)).all()
    assert [(d.accepted, d.note) for d in decisions] == [(False, "Not enough to go on")] * 2
    again = client.post(f"{item_url(s)}/reject", data={"note": ""}, follow_redirects=True)
    assert "E1 has no mapping left to reject." in again.text


def test_evidence_flagged_after_it_was_accepted_blocks_satisfactory_and_competent(
    client, submitted, login
) -> None:
    """The judgement and the outcome both lean on the item: both wait, and the outcome page
    says what stands in the way, with a link to where it is resolved."""
    s = submitted()
    login(s.assessor)
    start(client, s)
    decide(client, s, 0, "pc-1.1", "accept")
    judge(client, s, "pc-1.1")
    check(client, s, "authentic", False, "Signed by the learner, not the supervisor")
    page = judge(client, s, "pc-1.2")
    assert "accepted for" not in page.text
    decide(client, s, 0, "pc-1.2", "accept")  # refused: flagged
    assert "E1 (authentic) has a flagged rule of evidence" in (
        decide(client, s, 0, "pc-1.2", "accept").text
    )
    # Re-judging 1.1 satisfactory leans on E1.
    page = judge(client, s, "pc-1.1")
    assert "1.1 leans on E1 (authentic), flagged" in page.text

    outcome = client.get(f"{review_url(s)}/outcome").text
    assert "What still stands in the way of Competent" in outcome
    assert f'href="{item_url(s)}">E1 (authentic)</a>: a flagged rule of evidence' in outcome
    assert f'#{s.target("pc-2.1").anchor}">2.1</a>: no accepted evidence or sign-off' in outcome
    assert count(UnitOutcome) == 0


def test_competent_is_refused_while_accepted_evidence_is_flagged(client, submitted, login):
    """Every criterion satisfactory, none a gap, but a flag on accepted evidence: refused."""
    from portfolio.assessment import decisions, gaps, outcome, review
    from portfolio.assessment.rules import Conversation
    from portfolio.models import EvidenceRule, Finding, GapMethod, OutcomeResult

    s = submitted()
    decisions.start_review(db.session, actor=s.assessor, enrolment=s.enrolment)
    view = review.review_view(db.session, s.enrolment)
    decisions.accept_learner_mappings(db.session, actor=s.assessor, view=view, targets=view.targets)
    view = review.review_view(db.session, s.enrolment)
    for target in view.gaps:
        gaps.sign_off_gap(
            db.session,
            actor=s.assessor,
            view=view,
            target=target,
            method=GapMethod.COMPETENCY_CONVERSATION,
            held_on=view.submission.submitted_at.date(),
            notes="",
            questions=[Conversation("How?", "Like this.")],
        )
    for target in view.targets:
        decisions.judge(
            db.session,
            actor=s.assessor,
            view=view,
            target=target,
            finding=Finding.SATISFACTORY,
            comment="",
            seen_version=0,
        )
    version = s.items[0].current_version
    decisions.check_evidence(
        db.session,
        actor=s.assessor,
        enrolment=s.enrolment,
        version=version,
        rule=EvidenceRule.CURRENT,
        confirmed=False,
        note="From 2019",
        seen_version=0,
    )
    db.session.commit()
    login(s.assessor)
    page = client.post(
        f"{review_url(s)}/outcome",
        data={"result": "competent", "declared": "y"},
        follow_redirects=True,
    )
    assert "Competent is signed as meeting the rules of evidence, but E1 (current)" in page.text
    assert count(UnitOutcome) == 0
    # Not yet competent does not lean on the evidence being sound.
    outcome.record_outcome(
        db.session,
        actor=s.assessor,
        view=review.review_view(db.session, s.enrolment),
        result=OutcomeResult.NOT_YET_COMPETENT,
        declared=True,
    )
    db.session.commit()
    assert count(UnitOutcome) == 1
    assert count(Judgement) == len(view.targets)


def test_the_bulk_action_skips_flagged_evidence_and_says_which(client, submitted, login) -> None:
    """Element 1's bulk action accepts the clear item, leaves the flagged one, and says so."""
    s = submitted({"Service plan": ["pc-1.1", "pc-1.2"], "Rota": ["pc-1.2"]})
    login(s.assessor)
    start(client, s)
    check(client, s, "valid", False, "A template, not filled in", index=0)
    page = client.post(
        f"{review_url(s)}/sections/element-1/satisfactory", follow_redirects=True
    ).text
    assert "Element 1 Plan to meet" in page
    assert "1 judged satisfactory" in page
    assert "not accepted, flagged: E1 (valid)" in page
    judged = {j.target.ref for j in db.session.scalars(select(Judgement))}
    assert judged == {"1.2"}  # 1.1 had only the flagged item: left as a gap
    flagged_version = s.items[0].current_version.id
    assert not db.session.scalars(
        select(MappingDecision).where(MappingDecision.version_id == flagged_version)
    ).all()
