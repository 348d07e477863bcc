"""Each person's picture: the RTO's figures for an admin, an assessor's own queue and
decisions, a learner's progress in each unit. Every figure is a table first (``Figure``);
the pages draw it, the CSV download and ``flask reports`` print it."""

from __future__ import annotations

import copy
import csv
import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portfolio.clock import local_date
from portfolio.enrolments.progress import Coverage, Progress
from portfolio.models import Enrolment, User
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
        figures.evidence_by_month(session, filters, zone=zone),
        figures.expiries(session, filters),
        figures.validations_due(session, filters),
    ]
    return made


@dataclass
class _Counted:
    """The admin's figures as counted at ``at`` (``counted_at`` in UTC), and as each kind of
    page shows them once made (by ``first_page``): made from a copy, and then only read."""

    at: float
    counted_at: datetime
    made: list[Figure]
    shown: dict[bool, list[Figure]] = field(default_factory=dict)


_kept: dict[tuple[Any, ...], _Counted] = {}
_kept_lock = threading.Lock()


def admin_figures_kept(
    session: Session,
    filters: Filters,
    *,
    seconds: int,
    today: date,
    due_days: int,
    zone: ZoneInfo,
    first_page: bool = False,
    finish: Callable[[list[Figure]], list[Figure]] = lambda made: made,
) -> tuple[list[Figure], datetime]:
    """``admin_figures``, counted at most once per ``seconds`` in this process for the same
    database, filters and day, and when they were counted. The dashboard aggregates over the
    whole RTO; an admin reading it needs figures a minute old at most, not a count per view.
    On the ``first_page`` each per-assessor figure keeps the assessors that stand out, and
    ``finish`` (the page's links) is applied; both once per counting and kind of page. What
    is returned is shared by every request until the figures are counted again: it is only
    read."""

    def shown(made: list[Figure]) -> list[Figure]:
        made = copy.deepcopy(made)
        return finish(standing_out(made) if first_page else made)

    if seconds <= 0:
        made = admin_figures(session, filters, today=today, due_days=due_days, zone=zone)
        return shown(made), utcnow()
    key = (str(session.get_bind().url), filters, today, due_days)
    now = time.monotonic()
    with _kept_lock:
        found = _kept.get(key)
    if found is None or now - found.at >= seconds:
        made = admin_figures(session, filters, today=today, due_days=due_days, zone=zone)
        found = _Counted(now, utcnow(), made)
        with _kept_lock:
            for stale in [k for k, v in _kept.items() if now - v.at >= seconds]:
                del _kept[stale]
            _kept[key] = found
    page = found.shown.get(first_page)
    if page is None:
        page = found.shown.setdefault(first_page, shown(found.made))
    return page, found.counted_at


#: Rows of a per-assessor figure on a person's first page: the assessors that stand out. The
#: filtered page (``/admin/reports``) and every CSV have all of them.
FIRST_PAGE_ASSESSORS = 10

#: How each per-assessor figure picks the assessors that stand out (the largest first), and how
#: its note says so.
_STANDS_OUT = {
    "outcomes-by-assessor": (
        lambda row: -1.0 if row[1] is None or row[2] is None else abs(row[1] - row[2]),
        "whose rate is furthest from the RTO's",
    ),
    "times-by-assessor": (lambda row: row[2] or 0, "slowest at the 90th percentile"),
    "queue": (lambda row: (row[-1], row[-2]), "with the most overdue, then the most waiting"),
}


def standing_out(made: list[Figure], rows: int = FIRST_PAGE_ASSESSORS) -> list[Figure]:
    """The figures with each per-assessor one cut to the ``rows`` assessors that stand out
    (outlying rate, slowest decisions, most overdue), in that order, and said in its note: the
    first page stays the same size however many assessors the RTO has."""
    for fig in made:
        rule = _STANDS_OUT.get(fig.name)
        if rule is None or len(fig.rows) <= rows:
            continue
        key, words = rule
        total = len(fig.rows)
        fig.order(key, reverse=True, keep=rows)
        fig.note = (
            f"The {rows} of {total} assessors {words}; all of them on the filtered page and "
            f"in the CSV. {fig.note}"
        )
    return made


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


def learner_figures(
    enrolments: list[Enrolment],
    covered: dict[int, Coverage],
    found: dict[int, Progress],
    *,
    judged: set[int],
    today: date,
) -> list[Figure]:
    """A learner's picture: each unit's criteria covered by evidence, then each unit over time
    (``found``: the enrolments' ``progress``): criteria covered and, in ``judged``, the
    enrolments whose judgements the learner may see, criteria judged satisfactory."""
    progress = Figure(
        "progress",
        "Your progress in each unit",
        ["Unit", "Criteria covered", "Still to cover", "Criteria"],
        chart="stacked",
        drawn=2,
    )
    for e in enrolments:
        c = covered[e.id]
        progress.rows.append([e.unit_release.unit.code, c.covered, c.total - c.covered, c.total])
    made = [progress]
    names: set[str] = set()
    for e in enrolments:
        code = e.unit_release.unit.code
        name = f"over-time-{code.lower()}"
        name = name if name not in names else f"{name}-{e.id}"
        names.add(name)
        start = min([local_date(e.created_at), *found[e.id].covered])
        heading, spans = figures.periods(start, today)
        ends = [end for _, end in spans]
        columns = [heading, "Criteria covered"]
        series = [figures.running_totals(found[e.id].covered, ends)]
        if e.id in judged:
            columns.append("Judged satisfactory")
            series.append(figures.running_totals(found[e.id].satisfactory, ends))
        figure = Figure(
            name,
            f"{code} over time",
            [*columns, "Criteria"],
            chart="lines",
            drawn=len(series),
            note=""
            if e.id in judged
            else "Judgements are added here once your assessor returns your portfolio or "
            "records the outcome.",
        )
        total = covered[e.id].total
        figure.rows = [
            [label, *(values[n] for values in series), total] for n, (label, _) in enumerate(spans)
        ]
        made.append(figure)
    return made


def pick(made: Iterable[Figure], name: str) -> Figure | None:
    return next((f for f in made if f.name == name), None)


def figure_csv(figure: Figure) -> str:
    """The figure's table as CSV (formula-safe cells)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(figure.columns)
    writer.writerows([csv_cell(v) for v in row] for row in figure.rows)
    return out.getvalue()
