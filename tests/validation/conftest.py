"""Fixtures for validation: decided enrolments (each by an assessor of its own), the RTO's
risk reasons, and validators with or without a training and assessment credential."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from portfolio.clock import today
from portfolio.credentials.rules import Entry
from portfolio.credentials.services import add_entry
from portfolio.extensions import db
from portfolio.models import CredentialBasis, CredentialKind
from portfolio.validation import services
from tests.exports.conftest import admin, decided, to_pdf_text  # noqa: F401  (fixtures)

REASONS = ("New assessor", "Complaints or appeals", "Unusual outcome rates")


@pytest.fixture
def reasons(admin) -> list[str]:  # noqa: F811
    for label in REASONS:
        services.add_reason(db.session, actor=admin, label=label)
    db.session.commit()
    return list(REASONS)


@pytest.fixture
def give_tae(admin) -> Callable[[object], None]:  # noqa: F811
    """``give_tae(user)``: a TAE40122 on the person's register, issued a year ago."""

    def give(user) -> None:
        add_entry(
            db.session,
            actor=admin,
            user=user,
            entry=Entry(
                CredentialKind.TRAINING_AND_ASSESSMENT,
                "TAE40122",
                "",
                CredentialBasis.HELD,
                "",
                today() - timedelta(days=365),
                None,
            ),
            files=[],
        )
        db.session.commit()

    return give
