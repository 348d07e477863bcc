"""Today as the app sees it: the date at the RTO (``RTO_TIMEZONE``), not on the test machine.

Just after midnight in Sydney the machine's UTC date is still yesterday; a test that filled
in ``date.today()`` would then be told the enrolment had not begun yet.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from portfolio.config import defaults


def rto_today() -> date:
    return datetime.now(ZoneInfo(str(defaults(".")["RTO_TIMEZONE"]))).date()


TODAY = rto_today()
