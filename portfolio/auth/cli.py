"""``flask users``, ``flask enrolments``, ``flask demo``: the admin pages' actions from a shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from portfolio.assessment.enrolments import assign_assessor, enrol
from portfolio.auth.services import (
    create_user,
    find_user,
    find_user_by_email,
    import_learners,
    set_active,
)
from portfolio.demo import assessed_portfolio
from portfolio.errors import ServiceError
from portfolio.extensions import db
from portfolio.generate import DEMO_PASSWORD, GenerateError, generate
from portfolio.models import Enrolment, Role, Unit, UnitRelease, User
from portfolio.schema import DatabaseGroup

users_cli = DatabaseGroup("users", help="Create, import and deactivate accounts.")
enrolments_cli = DatabaseGroup("enrolments", help="Enrol learners and assign assessors.")
demo_cli = DatabaseGroup("demo", help="Demo data for trying the app.")

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _user(key: str) -> User:
    user = find_user(db.session, key)
    if user is None:
        raise click.ClickException(f"No account has the email or student ID {key}.")
    return user


def _commit_or_fail(action):
    try:
        value = action()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    return value


@users_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, required=True)
@click.option("--student-id")
@click.option("--usi")
@click.option("--password", help="Initial password; one is generated when left out.")
def create_command(name, email, roles, student_id, usi, password) -> None:
    """Create an account with one or more roles."""
    user, used = _commit_or_fail(
        lambda: create_user(
            db.session,
            actor=None,
            name=name,
            email=email,
            roles={Role(r) for r in roles},
            password=password,
            student_id=student_id,
            usi=usi,
        )
    )
    click.echo(f"created {user.email} ({', '.join(sorted(roles))})")
    if not password:
        click.echo(f"temporary password: {used}")


@users_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_file: Path) -> None:
    """Import learners from CSV (name,email,student_id,usi); nothing unless every row is clean."""
    result = import_learners(db.session, actor=None, data=csv_file.read_bytes())
    if result.problems:
        db.session.rollback()
        for problem in result.problems:
            click.echo(f"{csv_file}: {problem}", err=True)
        raise click.ClickException(f"{len(result.problems)} problems; nothing was imported.")
    db.session.commit()
    for user, password in result.created:
        click.echo(f"{user.email}\t{password}")
    click.echo(f"imported {len(result.created)} learners")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Deactivate an account: its sessions end and it can no longer log in."""
    user = _user(email)
    _commit_or_fail(lambda: set_active(db.session, actor=None, user=user, active=False))
    click.echo(f"deactivated {user.email}")


@enrolments_cli.command("add")
@click.argument("learner")
@click.argument("unit_code")
@click.option("--rpl", is_flag=True, help="Recognition of prior learning.")
@click.option("--assessor", "assessor_email", help="The assessor's email.")
def enrol_command(learner: str, unit_code: str, rpl: bool, assessor_email: str | None) -> None:
    """Enrol a LEARNER (email or student ID) in the current release of a unit."""
    learner_user = _user(learner)
    assessor = _user(assessor_email) if assessor_email else None
    enrolment = _commit_or_fail(
        lambda: enrol(
            db.session,
            actor=None,
            learner=learner_user,
            unit_code=unit_code,
            is_rpl=rpl,
            assessor=assessor,
        )
    )
    release = enrolment.unit_release
    kind = " (RPL)" if enrolment.is_rpl else ""
    click.echo(
        f"enrolled {learner_user.email} in {release.unit.code} release {release.release}{kind}"
    )


@enrolments_cli.command("assign")
@click.argument("learner")
@click.argument("unit_code")
@click.argument("assessor_email")
def assign_command(learner: str, unit_code: str, assessor_email: str) -> None:
    """Assign the assessor of a LEARNER's (email or student ID) enrolment in a unit."""
    learner_user, assessor = _user(learner), _user(assessor_email)
    enrolment = db.session.scalar(
        select(Enrolment)
        .join(UnitRelease)
        .join(Unit)
        .where(Enrolment.learner_id == learner_user.id, Unit.code == unit_code.upper())
    )
    if enrolment is None:
        raise click.ClickException(f"{learner} is not enrolled in {unit_code}.")
    _commit_or_fail(
        lambda: assign_assessor(db.session, actor=None, enrolment=enrolment, assessor=assessor)
    )
    click.echo(f"{assessor.email} assesses {learner_user.email} in {unit_code.upper()}")


DEMO_ACCOUNTS = [
    ("Ada Admin", "admin@example.org", "admin-demo-pass", {Role.ADMIN}),
    ("Alex Assessor", "assessor@example.org", "assessor-demo-pass", {Role.ASSESSOR}),
    ("Lee Learner", "learner@example.org", "learner-demo-pass", {Role.LEARNER}),
    ("Sam Learner", "learner2@example.org", "learner2-demo-pass", {Role.LEARNER}),
]


@demo_cli.command("accounts")
def demo_accounts_command() -> None:
    """On a database with no accounts, create demo accounts and enrolments; print the logins."""
    if db.session.scalar(select(func.count()).select_from(User)):
        if find_user_by_email(db.session, DEMO_ACCOUNTS[0][1]) is None:
            return
    else:
        users = {}
        for name, email, password, roles in DEMO_ACCOUNTS:
            users[email], _ = create_user(
                db.session, actor=None, name=name, email=email, roles=roles, password=password
            )
        assessor = users["assessor@example.org"]
        enrolments = {
            learner.email: enrol(
                db.session, actor=None, learner=learner, unit_code="TLII5018", assessor=assessor
            )
            for learner in (users["learner@example.org"], users["learner2@example.org"])
        }
        # One portfolio already assessed, so the review, history and exports have content.
        assessed_portfolio(
            db.session,
            enrolment=enrolments["learner2@example.org"],
            learner=users["learner2@example.org"],
            assessor=assessor,
        )
        enrol(
            db.session,
            actor=None,
            learner=users["learner@example.org"],
            unit_code="BSBCUS501",
            assessor=assessor,
        )
        db.session.commit()
        click.echo("Created demo accounts; Sam Learner's TLII5018 is assessed Competent.")
    click.echo("Demo logins (for trying the app; change or deactivate them in production):")
    for name, email, password, roles in DEMO_ACCOUNTS:
        click.echo(f"  {', '.join(r.label for r in roles):<10} {email:<24} {password:<20} ({name})")


@demo_cli.command("generate")
@click.option("--learners", type=click.IntRange(min=1), required=True, help="Learners to add.")
@click.option(
    "--items",
    type=click.IntRange(min=1),
    required=True,
    help="Evidence items in each submitted portfolio (drafts have fewer).",
)
@click.option(
    "--assessors", type=click.IntRange(min=1), help="Assessors to add (default: 1 per 25 learners)."
)
@click.option(
    "--units", default="all", show_default=True, help="Unit codes, comma-separated, or all."
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same data."
)
def demo_generate_command(
    learners: int, items: int, assessors: int | None, units: str, seed: int
) -> None:
    """Add a synthetic cohort: learners in three units each, evidence files, every stage of
    the assessment, the audit trail. Run it again to add more."""
    codes = None if units.strip().lower() == "all" else [c for c in units.split(",") if c.strip()]
    try:
        summary = generate(
            db.session,
            current_app._get_current_object(),
            learners=learners,
            items=items,
            assessors=assessors,
            units=codes,
            seed=seed,
            progress=click.echo,
        )
    except GenerateError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for line in summary.lines():
        click.echo(line)
    click.echo(f"Log in with the password {DEMO_PASSWORD}:")
    for role, login in (("Learner", summary.learner), ("Assessor", summary.assessor)):
        if login is not None:
            click.echo(f"  {role:<9} {login.email:<36} ({login.name}; {login.detail})")
