"""``flask enrolments``: the enrolment page's actions from a shell."""

from __future__ import annotations

import click

from portfolio.auth.services import get_user
from portfolio.enrolments.services import assign_assessor, enrol, find_enrolment
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.models import Enrolment
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

enrolments_cli = DatabaseGroup("enrolments", help="Enrol learners and assign assessors.")


@enrolments_cli.command("add")
@click.argument("learner")
@click.argument("unit_code")
@click.option("--rpl", is_flag=True, help="Recognition of prior learning.")
@click.option("--assessor", "assessor_email", help="The assessor's email.")
def enrol_command(learner: str, unit_code: str, rpl: bool, assessor_email: str | None) -> None:
    """Enrol a LEARNER (email or student ID) in the current release of a unit."""

    def add() -> Enrolment:
        return enrol(
            db.session,
            actor=None,
            learner=get_user(db.session, learner),
            unit_code=unit_code,
            is_rpl=rpl,
            assessor=get_user(db.session, assessor_email) if assessor_email else None,
        )

    enrolment = commit_or_fail(add)
    release = enrolment.unit_release
    kind = " (RPL)" if enrolment.is_rpl else ""
    click.echo(
        f"enrolled {enrolment.learner.email} in {release.unit.code} release {release.release}{kind}"
    )


@enrolments_cli.command("assign")
@click.argument("learner")
@click.argument("unit_code")
@click.argument("assessor_email")
def assign_command(learner: str, unit_code: str, assessor_email: str) -> None:
    """Assign the assessor of a LEARNER's (email or student ID) enrolment in a unit."""

    def assign() -> Enrolment:
        enrolment = find_enrolment(db.session, get_user(db.session, learner), unit_code)
        if enrolment is None:
            raise ServiceError(f"{learner} is not enrolled in {unit_code}.")
        assessor = get_user(db.session, assessor_email)
        assign_assessor(db.session, actor=None, enrolment=enrolment, assessor=assessor)
        return enrolment

    enrolment = commit_or_fail(assign)
    assert enrolment.assessor is not None
    click.echo(
        f"{enrolment.assessor.email} assesses {enrolment.learner.email} in {unit_code.upper()}"
    )
