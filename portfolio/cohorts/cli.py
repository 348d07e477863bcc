"""``flask cohorts``: the cohort pages' actions from a shell."""

from __future__ import annotations

import click

from portfolio.auth.services import get_user
from portfolio.cohorts.services import (
    CohortEnrolment,
    add_members,
    create_cohort,
    enrol_cohort,
    find_cohort,
)
from portfolio.extensions import db
from portfolio.models import User
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

cohorts_cli = DatabaseGroup("cohorts", help="Groups of learners, enrolled together.")


@cohorts_cli.command("create")
@click.argument("name")
@click.option("--notes", default="", help="What the cohort is.")
def create_command(name: str, notes: str) -> None:
    """Create a cohort called NAME."""
    cohort = commit_or_fail(
        lambda: create_cohort(db.session, actor=None, name=name, description=notes)
    )
    click.echo(f"created the cohort {cohort.name}")


@cohorts_cli.command("add")
@click.argument("name")
@click.argument("learners", nargs=-1, required=True)
def add_command(name: str, learners: tuple[str, ...]) -> None:
    """Add LEARNERS (emails or student IDs) to the cohort NAME: all, or none if any is unknown."""

    def add() -> list[User]:
        cohort = find_cohort(db.session, name)
        return add_members(db.session, actor=None, cohort=cohort, keys=learners)

    added = commit_or_fail(add)
    click.echo(f"added {len(added)} learner{'s' if len(added) != 1 else ''} to {name}")


@cohorts_cli.command("enrol")
@click.argument("name")
@click.argument("units", nargs=-1, required=True)
@click.option("--assessor", help="The assessor's email or staff ID.")
@click.option("--rpl", is_flag=True, help="Recognition of prior learning.")
def enrol_command(name: str, units: tuple[str, ...], assessor: str | None, rpl: bool) -> None:
    """Enrol every learner of the cohort NAME in UNITS, with the assessor."""

    def run() -> CohortEnrolment:
        cohort = find_cohort(db.session, name)
        who = get_user(db.session, assessor, "assessor") if assessor else None
        return enrol_cohort(
            db.session, actor=None, cohort=cohort, unit_codes=units, assessor=who, is_rpl=rpl
        )

    result = commit_or_fail(run)
    for learner, code, why in result.skipped:
        click.echo(f"left {learner.email} in {code}: {why}")
    click.echo(f"enrolled {len(result.enrolled)}; left {len(result.skipped)} as they were")
