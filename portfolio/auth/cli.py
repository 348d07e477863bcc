"""``flask users``: the account pages' actions from a shell."""

from __future__ import annotations

from pathlib import Path

import click

from portfolio.auth import links
from portfolio.auth.importing import MAX_BYTES, ImportResult, import_learners
from portfolio.auth.services import (
    create_user,
    get_user,
    set_active,
    set_temporary_password,
)
from portfolio.extensions import db
from portfolio.models import LinkPurpose, Role, User
from portfolio.saving import commit_or_fail
from portfolio.schema import DatabaseGroup

users_cli = DatabaseGroup("users", help="Create, import and deactivate accounts.")

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _link_line(user: User, issued: links.Issued) -> str:
    until = links.expires_text(issued.link.expires_at)
    return f"{user.email}\t{issued.url}\t(works once, until {until})"


@users_cli.command("create")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, required=True)
@click.option("--student-id")
@click.option("--usi")
@click.option(
    "--password",
    help="A temporary password, to be changed at the first login. Without it, a one-time "
    "set-up link is printed for them to choose their own.",
)
def create_command(name, email, roles, student_id, usi, password) -> None:
    """Create an account with one or more roles."""

    def create() -> tuple[User, links.Issued | None]:
        user = create_user(
            db.session,
            actor=None,
            name=name,
            email=email,
            roles={Role(r) for r in roles},
            password=password,
            temporary=True,
            student_id=student_id,
            usi=usi,
        )
        if password:
            return user, None
        return user, links.issue(db.session, actor=None, user=user, purpose=LinkPurpose.SETUP)

    user, issued = commit_or_fail(create)
    click.echo(f"created {user.email} ({', '.join(sorted(roles))})")
    if issued is not None:
        click.echo("set-up link: " + _link_line(user, issued))
    else:
        click.echo("they choose their own password at the first login")


@users_cli.command("password")
@click.argument("email")
@click.password_option(
    "--password",
    prompt="Temporary password",
    help="Asked for when left out (not echoed, twice).",
)
def password_command(email: str, password: str) -> None:
    """Set a temporary password for EMAIL's account: their sessions end, and they choose their
    own at the next login. (`flask users link` sends no password over the wire at all.)"""

    def set_it() -> User:
        user = get_user(db.session, email)
        set_temporary_password(db.session, actor=None, user=user, password=password)
        return user

    user = commit_or_fail(set_it)
    click.echo(f"set a temporary password for {user.email}; they change it at the next login")


@users_cli.command("link")
@click.argument("keys", nargs=-1, required=True)
def link_command(keys: tuple[str, ...]) -> None:
    """Print a new one-time set-up link for each account (by email or student ID): they choose
    a password with it. Earlier links of these accounts stop working."""

    def issue() -> list[tuple[User, links.Issued]]:
        found = [get_user(db.session, key) for key in keys]
        return [
            (user, links.issue(db.session, actor=None, user=user, purpose=LinkPurpose.SETUP))
            for user in found
        ]

    for user, issued in commit_or_fail(issue):
        click.echo(_link_line(user, issued))


@users_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(csv_file: Path) -> None:
    """Import learners from CSV (Name, Email, Student ID, USI); nothing unless every row is
    clean. Prints each new account's one-time set-up link, or emails it when mail is on."""

    def run() -> tuple[ImportResult, list[tuple[User, links.Issued]]]:
        with csv_file.open("rb") as source:
            data = source.read(MAX_BYTES + 1)
        result = import_learners(db.session, actor=None, data=data)
        if result.problems:
            for problem in result.problems:
                click.echo(f"{csv_file}: {problem}", err=True)
            raise click.ClickException(f"{len(result.problems)} problems; nothing was imported.")
        issued = []
        for user in result.created:
            if not links.send_setup_link(db.session, actor=None, user=user):
                issued.append(
                    (
                        user,
                        links.issue(db.session, actor=None, user=user, purpose=LinkPurpose.SETUP),
                    )
                )
        return result, issued

    result, issued = commit_or_fail(run)
    for user, link in issued:
        click.echo(_link_line(user, link))
    emailed = len(result.created) - len(issued)
    click.echo(
        f"imported {len(result.created)} learners"
        + (f"; emailed {emailed} set-up links" if emailed else "")
    )


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
