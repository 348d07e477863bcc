"""The busiest pages read their rows through indexes, whatever the size of the database.

Each test opens a real page and asks PostgreSQL how it would run every query the page made.
A test database is small, and on a small table the planner rightly prefers reading it whole,
so sequential scans are switched off while explaining: a query that still reads a table whole,
or walks a whole index without a condition, has no index it can use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceType, Target

# Tables that grow with every learner, submission and change. The unit tables (units, releases,
# elements, targets) hold a few hundred rows however many people use the app.
GROWING = {
    "users",
    "user_roles",
    "enrolments",
    "submissions",
    "evidence_items",
    "evidence_versions",
    "evidence_files",
    "evidence_mappings",
    "evidence_checks",
    "judgements",
    "mapping_decisions",
    "gap_signoffs",
    "signoff_files",
    "gap_feedback",
    "unit_outcomes",
    "audit_events",
}


@pytest.fixture(autouse=True)
def _postgresql_only(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "EXPLAIN plans are PostgreSQL's; run with DATABASE_URL=postgresql+psycopg://..."
        )


@dataclass
class Scan:
    node: str  # "Seq Scan", "Index Scan", "Bitmap Heap Scan", ...
    table: str | None
    index: str | None
    condition: str | None

    def __str__(self) -> str:
        using = f" using {self.index}" if self.index else ""
        return f"{self.node}{using} on {self.table} [{self.condition or 'no condition'}]"


@dataclass
class Explained:
    statement: str
    scans: list[Scan]


def _scans(plan: dict[str, Any], out: list[Scan]) -> list[Scan]:
    if plan["Node Type"].endswith("Scan") and "Relation Name" in plan:
        index = plan.get("Index Name")
        condition = plan.get("Index Cond") or plan.get("Recheck Cond")
        if plan["Node Type"] == "Bitmap Heap Scan":
            # The index is named on the Bitmap Index Scan beneath.
            index = ", ".join(child.get("Index Name", "") for child in plan.get("Plans", []))
        out.append(Scan(plan["Node Type"], plan["Relation Name"], index, condition))
    for child in plan.get("Plans", []):
        _scans(child, out)
    return out


@contextmanager
def explained() -> Iterator[list[Explained]]:
    """Every SELECT run inside the block, with the scans of its plan once the block ends."""
    statements: list[tuple[str, Any]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and not executemany:
            statements.append((statement, parameters))

    results: list[Explained] = []
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield results
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in statements:
            [[plan]] = connection.exec_driver_sql(
                f"EXPLAIN (FORMAT JSON) {statement}", parameters
            ).all()
            results.append(Explained(statement, _scans(plan[0]["Plan"], [])))
        connection.rollback()


def unindexed(plans: list[Explained]) -> list[str]:
    """Reads of a growing table that no index condition narrows."""
    return [
        f"{scan}\n    in {' '.join(p.statement.split())[:160]}"
        for p in plans
        for scan in p.scans
        if scan.table in GROWING and (scan.node == "Seq Scan" or not scan.condition)
    ]


def using(plans: list[Explained], index: str) -> list[Scan]:
    return [scan for p in plans for scan in p.scans if scan.index and index in scan.index]


@pytest.fixture
def portfolio(make_user, make_enrolment) -> Enrolment:
    """A learner's portfolio, mapped and submitted to their assessor, through the services."""
    learner = make_user("learner")
    assessor = make_user("assessor")
    enrolment = make_enrolment(learner=learner, assessor=assessor)
    targets = {
        t.anchor: t.id
        for t in db.session.query(Target).filter_by(unit_release_id=enrolment.unit_release_id)
    }
    for title, anchors in {"Service plan": ["pc-1.1", "pc-1.2"], "Report": ["pc-2.1"]}.items():
        item = create_item(
            db.session,
            actor=learner,
            enrolment=enrolment,
            fields=ItemFields(title, EvidenceType.PLAN, date(2026, 9, 1), f"About {title}."),
            files=[],
        )
        set_item_mappings(
            db.session, actor=learner, item=item, notes={targets[a]: "shown" for a in anchors}
        )
    submit(db.session, actor=learner, enrolment=enrolment, declared=True)
    db.session.commit()
    return enrolment


def _page(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text


def test_review_queue_finds_the_assessors_waiting_enrolments_by_index(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    login(portfolio.assessor)
    with explained() as plans:
        _page(client, "/review")
    # Either index led by the assessor finds their enrolments (by state, or in id order): on a
    # table this small the planner picks either, as is its right.
    queue = using(plans, "ix_enrolments_assessor_id_state") or using(
        plans, "ix_enrolments_assessor_id_id"
    )
    assert queue, "\n".join(str(s) for p in plans for s in p.scans)
    # The assessor is the index condition; the planner may check the handful of states on the
    # assessor's rows rather than in the index.
    assert all("assessor_id" in s.condition for s in queue), [str(s) for s in queue]


def test_learner_dashboard_reads_only_through_indexes(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    """The dashboard's coverage leaves out replaced sign-offs by index, not by reading them all."""
    login(portfolio.learner)
    with explained() as plans:
        _page(client, "/dashboard")
    assert unindexed(plans) == []
    assert using(plans, "ix_gap_signoffs_replaces_id")


def test_assessor_dashboard_reads_only_through_indexes(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    """Their decisions this month are found by assessor and date, not among every outcome, and
    their learners by assessor in the order listed, not by walking every enrolment."""
    login(portfolio.assessor)
    with explained() as plans:
        _page(client, "/dashboard")
    assert unindexed(plans) == []
    assert using(plans, "ix_unit_outcomes_assessor_id_decided_on")
    assert using(plans, "ix_enrolments_assessor_id_id")


def test_portfolio_page_reads_only_through_indexes(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    login(portfolio.learner)
    with explained() as plans:
        _page(client, f"/enrolments/{portfolio.id}")
    assert unindexed(plans) == []
    assert using(plans, "ix_evidence_items_enrolment_id")


def test_review_page_reads_only_through_indexes(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    login(portfolio.assessor)
    with explained() as plans:
        _page(client, f"/enrolments/{portfolio.id}/review")
    assert unindexed(plans) == []


def test_history_reads_the_enrolments_events_in_order_by_index(
    portfolio: Enrolment, login: Callable[[object], None], client
) -> None:
    login(portfolio.learner)
    with explained() as plans:
        _page(client, f"/enrolments/{portfolio.id}/history")
    assert unindexed(plans) == []
    assert using(plans, "ix_audit_events_enrolment_id_seq")


def test_audit_log_lists_its_kinds_of_action_by_index(
    portfolio: Enrolment, make_user, login: Callable[[object], None], client
) -> None:
    """The action filter steps through the (action, seq) index instead of reading every event."""
    login(make_user("admin"))
    with explained() as plans:
        _page(client, "/admin/audit")
    [actions] = [p for p in plans if "RECURSIVE" in p.statement.upper()]
    assert unindexed([actions]) == [], "\n".join(str(s) for s in actions.scans)
    assert using([actions], "ix_audit_events_action_seq")
