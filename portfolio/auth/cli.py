"""``flask users``: the account pages' actions from a shell."""

from __future__ import annotations

from pathlib import Path

import click

from portfolio.auth.services import (
    ImportResult,
    create_user,
    get_user,
    import_learners,
    set_active,
)
from portfolio.extensions import db
from portfolio.models import Role, User
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

users_cli = DatabaseGroup("users", help="Create, import and deactivate accounts.")

ROLE_CHOICE = click.Choice([r.value for r in Role])


@users_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, required=True)
@click.option("--student-id")
@click.option("--usi")
@click.option("--password", help="Initial password; one is generated when left out.")
def create_command(name, email, roles, student_id, usi, password) -> None:
    """Create an account with one or more roles."""
    user, used = commit_or_fail(
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

    def run() -> ImportResult:
        result = import_learners(db.session, actor=None, data=csv_file.read_bytes())
        if result.problems:
            for problem in result.problems:
                click.echo(f"{csv_file}: {problem}", err=True)
            raise click.ClickException(f"{len(result.problems)} problems; nothing was imported.")
        return result

    result = commit_or_fail(run)
    for user, password in result.created:
        click.echo(f"{user.email}\t{password}")
    click.echo(f"imported {len(result.created)} learners")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Deactivate an account: its sessions end and it can no longer log in."""

    def deactivate() -> User:
        user = get_user(db.session, email)
        set_active(db.session, actor=None, user=user, active=False)
        return user

    user = commit_or_fail(deactivate)
    click.echo(f"deactivated {user.email}")
