"""The admin's lists run the same number of statements however many rows they hold: accounts
(filtered), email, cohorts and enrolments (filtered by cohort)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portfolio.cohorts import services as cohorts
from portfolio.extensions import db
from portfolio.models import Cohort, Mail, MailState


@pytest.fixture
def grow(make_user, make_enrolment):
    """``grow(n)``: n more learners, each enrolled, in the cohort, with an email that failed."""
    admin = make_user("admin")
    cohort = cohorts.create_cohort(db.session, actor=admin, name="All", description="")
    db.session.commit()

    def add(n: int) -> None:
        for _ in range(n):
            learner = make_user("learner")
            make_enrolment(learner=learner)
            cohorts.add_members(db.session, actor=admin, cohort=cohort, keys=[learner.email])
            db.session.add(
                Mail(
                    user_id=learner.id,
                    to_address=learner.email,
                    kind="enrolment.returned",
                    subject="Back with feedback",
                    text_body="-",
                    html_body="-",
                    state=MailState.FAILED,
                    error="550",
                )
            )
        db.session.commit()

    add.admin = admin
    return add


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users?role=learner&status=active",
        "/admin/mail",
        "/admin/mail?state=failed",
        "/admin/cohorts",
        "/admin/enrolments?cohort={cohort}&state=draft",
    ],
)
def test_a_list_runs_the_same_statements_for_2_or_12_rows(
    client, login, grow, count_queries, path
) -> None:
    login(grow.admin)

    def statements(n: int) -> int:
        grow(n)
        cohort = db.session.scalar(select(Cohort.id))
        url = path.format(cohort=cohort)
        client.get(url)  # warm
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    assert statements(2) == statements(10)
