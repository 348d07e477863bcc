"""The unit of work of every view and command: run the service call, commit it, or roll back
and tell the person why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import click
from flask import abort, flash, request
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portfolio.errors import ServiceError
from portfolio.extensions import db

T = TypeVar("T")

CONFLICT = (
    "This portfolio was changed in another window at the same moment, so this change was not "
    "saved. Check the portfolio and try again."
)


@dataclass(frozen=True)
class Saved(Generic[T]):
    ok: bool
    value: T | None = None


def show_error(form: FlaskForm | None, error: ServiceError) -> None:
    """Roll back, and put the message on the form field it concerns or at the top of the page."""
    db.session.rollback()
    field = getattr(form, error.field or "", None) if form is not None else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def save(form: FlaskForm | None, action: Callable[[], T], *, conflict: str = CONFLICT) -> Saved[T]:
    """Run ``action`` and commit; a ServiceError rolls back and is shown on the form.

    A request that lost a race (another window changed the same record between this one
    reading and writing it) is rolled back whole and told so with ``conflict``; the form
    keeps its input.
    """
    try:
        value = action()
        db.session.commit()
    except ServiceError as error:
        show_error(form, error)
        return Saved(ok=False)
    except (IntegrityError, StaleDataError):
        show_error(form, ServiceError(conflict))
        return Saved(ok=False)
    return Saved(ok=True, value=value)


def commit_before_sending(action: Callable[[], object]) -> None:
    """A download's unit of work: what it records (who took a copy) is committed before the copy
    is sent; when that fails, nothing is sent and the person is told to try again."""
    if not save(None, action).ok:
        abort(
            409,
            description="The copy could not be recorded in the audit log, so it was not sent. "
            "Try again.",
        )


def commit_or_fail(action: Callable[[], T]) -> T:
    """A command's unit of work: run ``action`` and commit; anything raised rolls back.

    A refusal (ServiceError) or a lost race ends the command with its message and exit
    status 1, and nothing of it is kept.
    """
    try:
        value = action()
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    except (IntegrityError, StaleDataError) as error:
        db.session.rollback()
        raise click.ClickException(CONFLICT) from error
    except BaseException:
        db.session.rollback()
        raise
    return value


def posted_ids(name: str) -> list[int]:
    """The ids ticked in a list of checkboxes; anything else means the form was tampered with."""
    values = request.form.getlist(name)
    if not all(value.isdigit() for value in values):
        raise ServiceError("That choice is not one this page offered, so nothing was changed.")
    return [int(value) for value in values]
