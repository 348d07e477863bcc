"""The refusal every service raises: a message for the person and the field it is about.

Views show it on the form (``portfolio.saving``), commands print it and exit; nothing is saved.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A request a service refuses, with a message for the person who made it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class IllegalTransition(ServiceError):
    """Not allowed in the assessment's present state; nothing was changed."""
