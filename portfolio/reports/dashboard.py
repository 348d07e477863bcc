"""Each person's picture: the RTO's figures for an admin, an assessor's own queue and
decisions, a learner's progress in each unit. Every figure is a table first (``Figure``);
the pages draw it, the CSV download and ``flask reports`` print it."""

from __future__ import annotations

import copy
import csv
import io
import threading
import time
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portfolio.enrolments.progress import coverage
from portfolio.enrolments.services import list_enrolments
from portfolio.models import User
from portfolio.models.base import utcnow
from portfolio.reports import figures
from portfolio.reports.figures import Figure, Filters
from portfolio.spreadsheets import csv_cell

#: The admin's figures, in the order the page shows them.
ADMIN_FIGURES = (
    "states",
    "outcomes-by-unit",
    "outcomes-by-assessor",
    "times-by-month",
    "times-by-assessor",
    "queue",
    "evidence",
    "expiries",
    "validations",
)


def admin_figures(
    session: Session, filters: Filters, *, today: date, due_days: int, zone: ZoneInfo
) -> list[Figure]:
    """The RTO at a glance (a fixed number of queries whatever its size)."""
    names = figures.staff_names(session)
    found = figures.tallies(session, filters)
    by_unit, by_assessor = figures.outcome_rates(found, names)
    by_month, times_by_assessor = figures.decision_times(session, filters, names)
    made = [
        figures.states_by_unit(found),
        by_unit,
        by_assessor,
        by_month,
        times_by_assessor,
        figures.queue(session, filters, names, today=today, due_days=due_days, zone=zone),
        figures.evidence_by_month(session, filters),
        figures.expiries(session, filters),
        figures.validations_due(session, filters),
    ]
    return made


_kept: dict[tuple[Any, ...], tuple[float, datetime, list[Figure]]] = {}
_kept_lock = threading.Lock()


def admin_figures_kept(
    session: Session,
    filters: Filters,
    *,
    seconds: int,
    today: date,
    due_days: int,
    zone: ZoneInfo,
) -> tuple[list[Figure], datetime]:
    """``admin_figures``, counted at most once per ``seconds`` in this process for the same
    database, filters and day, and when they were counted. The dashboard aggregates over the
    whole RTO; an admin reading it needs figures a minute old at most, not a count per view."""
    if seconds <= 0:
        return admin_figures(session, filters, today=today, due_days=due_days, zone=zone), utcnow()
    key = (str(session.get_bind().url), filters, today, due_days)
    now = time.monotonic()
    with _kept_lock:
        found = _kept.get(key)
    if found is None or now - found[0] >= seconds:
        made = admin_figures(session, filters, today=today, due_days=due_days, zone=zone)
        found = (now, utcnow(), made)
        with _kept_lock:
            for stale in [k for k, v in _kept.items() if now - v[0] >= seconds]:
                del _kept[stale]
            _kept[key] = found
    # Each page adds its own links: a copy, so what is kept stays as counted.
    return copy.deepcopy(found[2]), found[1]


def assessor_figures(
    session: Session, assessor: User, *, today: date, due_days: int, zone: ZoneInfo
) -> list[Figure]:
    """An assessor's own queue by age, and what they decided this month."""
    mine = Filters(assessor_id=assessor.id)
    names = {assessor.id: assessor.name}
    queue = figures.queue(session, mine, names, today=today, due_days=due_days, zone=zone)
    queue.title = "Your queue: age since the hand-in"
    # Its own name: an admin who also assesses has the RTO's queue on the same page.
    queue.name = "my-queue"
    decided = figures.decisions(session, assessor.id, today.replace(day=1), today)
    return [queue, decided]


def learner_figure(session: Session, learner: User) -> Figure:
    """Each of the learner's units: criteria covered by evidence, and of those judged."""
    enrolments = list_enrolments(session, learner=learner)
    covered = coverage(session, enrolments)
    figure = Figure(
        "progress",
        "Your progress in each unit",
        ["Unit", "Criteria covered", "Still to cover", "Criteria"],
        chart="stacked",
        drawn=2,
    )
    for e in enrolments:
        c = covered[e.id]
        figure.rows.append([e.unit_release.unit.code, c.covered, c.total - c.covered, c.total])
    return figure


def pick(made: Iterable[Figure], name: str) -> Figure | None:
    return next((f for f in made if f.name == name), None)


def figure_csv(figure: Figure) -> str:
    """The figure's table as CSV (formula-safe cells)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(figure.columns)
    writer.writerows([csv_cell(v) for v in row] for row in figure.rows)
    return out.getvalue()
