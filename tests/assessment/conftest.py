"""Fixtures: a portfolio submitted through the real services, ready for its assessor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings, submit
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceItem, EvidenceType, Target, User


@dataclass
class Submitted:
    enrolment: Enrolment
    learner: User
    assessor: User
    items: list[EvidenceItem]

    def target(self, anchor: str) -> Target:
        return db.session.scalar(
            select(Target).where(
                Target.unit_release_id == self.enrolment.unit_release_id, Target.anchor == anchor
            )
        )

    @property
    def targets(self) -> list[Target]:
        return list(
            db.session.scalars(
                select(Target)
                .where(
                    Target.unit_release_id == self.enrolment.unit_release_id,
                    Target.is_group.is_(False),
                )
                .order_by(Target.position)
            )
        )


@pytest.fixture
def submitted(make_user, make_enrolment) -> Callable[..., Submitted]:
    """``submitted(mapped={"plan": ["pc-1.1", ...], ...})``: items created, mapped, submitted."""

    def make(
        mapped: dict[str, list[str]] | None = None,
        unit: str = "TLII5018",
        is_rpl: bool = False,
        work_date: date = date(2026, 9, 1),
    ) -> Submitted:
        learner = make_user("learner", name="Lee Learner")
        assessor = make_user("assessor", name="Alex Assessor")
        enrolment = make_enrolment(learner=learner, assessor=assessor, unit=unit, is_rpl=is_rpl)
        result = Submitted(enrolment, learner, assessor, [])
        for title, anchors in (mapped or {"Service plan": ["pc-1.1", "pc-1.2"]}).items():
            item = create_item(
                db.session,
                actor=learner,
                enrolment=enrolment,
                fields=ItemFields(title, EvidenceType.PLAN, work_date, f"About {title}."),
                files=[],
            )
            notes = {result.target(a).id: f"{title} shows {a}" for a in anchors}
            set_item_mappings(db.session, actor=learner, item=item, notes=notes)
            result.items.append(item)
        submit(db.session, actor=learner, enrolment=enrolment, declared=True)
        db.session.commit()
        return result

    return make
