"""``flask audit verify``: exit 0 on an intact chain, 1 with every problem on a tampered one."""

from __future__ import annotations

from sqlalchemy import text

from portfolio.extensions import db


def test_verify_reports_an_intact_chain(runner, make_user) -> None:
    """Three accounts made three events, all checked."""
    for _ in range(3):
        make_user("learner")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "3 events checked; the chain is intact and every judgement, sign-off and outcome is "
        "as the log says.\n"
    )


def test_verify_of_an_empty_log(runner) -> None:
    """A new installation's log is empty and intact."""
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert "0 events checked; the chain is intact" in result.output


def test_verify_lists_each_problem_and_fails(runner, make_user) -> None:
    """A changed event and a removed one are both named, and the command exits 1."""
    for _ in range(4):
        make_user("learner")
    db.session.execute(text("UPDATE audit_events SET subject = 'user:999' WHERE seq = 2"))
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 4"))
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "event 2 was changed after it was written." in result.stderr
    assert "the log ends at event 3 but the head says 4" in result.stderr
    assert "says the log reached event 4, but it ends at event 3" in result.stderr
    assert (
        "Error: The audit log has been tampered with: 3 problems in 3 events checked."
        in result.stderr
    )
    assert "intact" not in result.output
