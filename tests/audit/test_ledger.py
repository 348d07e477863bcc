"""``flask audit verify`` compares the decisions with the log: someone who can write the
database can change an outcome or a judgement, but not the signed event that recorded it.
Before, the log was only checked against itself, so a changed outcome went unseen."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text

from portfolio.assessment import outcome, review
from portfolio.assessment.ledger import compare_with_log
from portfolio.extensions import db
from portfolio.models import Finding, GapSignoff, Judgement, Target
from tests.exports.conftest import decided  # noqa: F401 (a fixture)


def problems() -> list[str]:
    found = list(compare_with_log(db.session))
    db.session.rollback()
    return found


def test_decisions_made_through_the_app_agree_with_the_log(runner, decided) -> None:  # noqa: F811
    enrolment = decided()
    assert problems() == []
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "checked; the chain is intact and every judgement, sign-off and outcome is as the log "
        "says.\n"
    )
    # A correction is a new row that replaces the old: the log's last word is the new one.
    view = review.review_view(db.session, enrolment)
    target = view.targets[0]
    outcome.correct_judgement(
        db.session,
        actor=enrolment.assessor,
        view=view,
        target=target,
        finding=Finding.SATISFACTORY,
        comment="Met, on the second log sheet.",
        reason="The first log sheet was another learner's.",
    )
    db.session.commit()
    assert problems() == []


def test_an_outcome_changed_in_the_database_is_named(runner, decided) -> None:  # noqa: F811
    enrolment = decided()
    db.session.execute(
        text("UPDATE unit_outcomes SET result = 'not_yet_competent' WHERE enrolment_id = :e"),
        {"e": enrolment.id},
    )
    db.session.commit()
    assert problems() == [
        f"enrolment {enrolment.id}, outcome: result is 'not_yet_competent' in the database, but "
        "'competent' "
        "in event " + problems()[0].rsplit("event ", 1)[1]
    ]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"enrolment {enrolment.id}, outcome: result is 'not_yet_competent'" in result.stderr
    assert "The audit log has been tampered with: 1 problem" in result.stderr


def test_a_judgement_changed_or_inserted_in_the_database_is_named(decided) -> None:  # noqa: F811
    enrolment = decided()
    judgement = db.session.scalar(
        select(Judgement).where(Judgement.enrolment_id == enrolment.id).order_by(Judgement.id)
    )
    ref = db.session.get(Target, judgement.target_id).ref
    db.session.execute(
        text("UPDATE judgements SET comment = 'Fine.' WHERE id = :j"), {"j": judgement.id}
    )
    db.session.commit()
    [changed] = problems()
    assert changed.startswith(
        f"enrolment {enrolment.id}, judgement of {ref}: comment is 'Fine.' in the database, "
        f"but 'Met: {ref}' in event "
    )

    other = decided()
    db.session.execute(
        text("DELETE FROM judgements WHERE enrolment_id = :e AND target_id = :t"),
        {"e": other.id, "t": judgement.target_id},
    )
    db.session.commit()
    assert f"enrolment {other.id}, judgement of {ref}: recorded in event" in "\n".join(problems())


def test_a_sign_off_added_behind_the_apps_back_is_named(decided) -> None:  # noqa: F811
    enrolment = decided()
    signed = db.session.scalar(select(GapSignoff).where(GapSignoff.enrolment_id == enrolment.id))
    target = db.session.scalar(
        select(Target).where(
            Target.unit_release_id == enrolment.unit_release_id,
            Target.id != signed.target_id,
            Target.is_group.is_(False),
        )
    )
    db.session.add(
        GapSignoff(
            enrolment_id=enrolment.id,
            assessor_id=enrolment.assessor_id,
            target_id=target.id,
            method=signed.method,
            held_on=date(2026, 11, 21),
            notes="Never happened.",
            questions=[],
        )
    )
    db.session.commit()
    assert problems() == [
        f"enrolment {enrolment.id}, gap sign-off of {target.ref}: not in the audit log; it was "
        "written behind the app's back."
    ]
