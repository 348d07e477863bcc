"""Today's date where the RTO is: a Sydney assessor at 8 am is not living yesterday in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def rto_zone() -> ZoneInfo:
    """The RTO's time zone (``RTO_TIMEZONE``), in which people read dates and times."""
    return ZoneInfo(current_app.config["RTO_TIMEZONE"])


def today() -> date:
    """The date in the RTO's time zone (``RTO_TIMEZONE``); the server's outside an app."""
    if not has_app_context():
        return date.today()
    return datetime.now(rto_zone()).date()


def local_date(moment: datetime) -> date:
    """The date a stored UTC moment fell on at the RTO: 10 pm UTC is next morning in Sydney."""
    if not has_app_context():
        return moment.astimezone().date()
    return moment.astimezone(rto_zone()).date()
