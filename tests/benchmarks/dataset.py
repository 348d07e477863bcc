"""A benchmark instance: a database, an evidence folder and the cohort generated into them.

The cohort grows in steps (``flask demo generate`` run again adds learners numbered on from
the last), and the pages measured at every size are those of the same people, chosen from the
first step: the same learner's portfolio, the same assessor's queue and review. So what a page
shows stays the same from one size to the next and only the data around it grows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from portfolio import create_app
from portfolio.auth.services import create_user
from portfolio.demo.generate import DEMO_PASSWORD, generate
from portfolio.extensions import db
from portfolio.models import (
    AssessmentState,
    Enrolment,
    EvidenceItem,
    EvidenceVersion,
    Role,
    User,
)
from portfolio.units.loader import load_directory
from portfolio.units.sync import sync_units

SECRET_KEY = "benchmark-secret-key-0123456789abcdef0123456789abcdef"
#: Not "production": gunicorn.conf.py would then set Secure cookies, which a plain-http client
#: never sends back. Everything else about serving is as in production.
SERVING_ENV = "benchmark"


@dataclass
class Subjects:
    """Who and what the pages are measured with (ids and logins), chosen once."""

    learner_email: str = ""
    portfolio_enrolment: int = 0
    portfolio_items: int = 0
    assessor_email: str = ""
    #: An admin made for the run (the generator makes none): the dashboard's reader.
    admin_email: str = ""
    review_enrolment: int = 0
    review_items: int = 0
    queue_waiting: int = 0
    upload_learner_email: str = ""
    upload_enrolment: int = 0
    packs: dict[int, tuple[int, int]] = field(default_factory=dict)  # wanted -> (id, items)
    password: str = DEMO_PASSWORD

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Instance:
    """One database (SQLite file or PostgreSQL database) and its evidence folder."""

    name: str  # "sqlite" or "postgresql"
    database_url: str
    root: Path
    learners: int = 0
    generated_seconds: float = 0.0
    subjects: Subjects = field(default_factory=Subjects)
    #: Quick runs hash the generated passwords with a fast method (real runs use the default,
    #: scrypt, as production does: a login costs what it costs).
    fast_hash: bool = False
    _app: Flask | None = None

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    @property
    def instance_dir(self) -> Path:
        return self.root / "instance"

    def environment(self, **extra: str) -> dict[str, str]:
        """The environment a server or a command of this instance runs with."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "PORTFOLIO_BIND", "PORT", "WEB_CONCURRENCY")
        }
        env.update(
            DATABASE_URL=self.database_url,
            EVIDENCE_DIR=str(self.evidence_dir),
            PORTFOLIO_INSTANCE_PATH=str(self.instance_dir),
            PORTFOLIO_ENV=SERVING_ENV,
            SECRET_KEY=SECRET_KEY,
        )
        env.update(extra)
        return env

    def app(self) -> Flask:
        """The app of this instance, in this process, configured as the server is."""
        if self._app is None:
            self.instance_dir.mkdir(parents=True, exist_ok=True)
            previous = os.environ.get("PORTFOLIO_INSTANCE_PATH")
            os.environ["PORTFOLIO_INSTANCE_PATH"] = str(self.instance_dir)
            try:
                config = {
                    "SQLALCHEMY_DATABASE_URI": self.database_url,
                    "EVIDENCE_DIR": str(self.evidence_dir),
                    "SECRET_KEY": SECRET_KEY,
                    "PORTFOLIO_ENV": SERVING_ENV,
                }
                if self.fast_hash:
                    config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
                self._app = create_app(config)
            finally:
                if previous is None:
                    os.environ.pop("PORTFOLIO_INSTANCE_PATH", None)
                else:
                    os.environ["PORTFOLIO_INSTANCE_PATH"] = previous
        return self._app

    def close(self) -> None:
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()
            self._app = None

    # --- Building ---------------------------------------------------------------------------

    def create(self) -> None:
        """An empty database brought to the newest migration, with the units loaded, as
        ``make serve`` and ``flask units sync`` leave it. Anything already there is dropped."""
        app = self.app()
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
            upgrade()
            result = load_directory(Path(app.config["UNITS_DIR"]))
            if not result.ok:
                raise RuntimeError(f"the unit files have problems: {result.problems}")
            sync_units(db.session, result.units)
            db.session.commit()
            db.session.remove()

    def grow(
        self,
        learners: int,
        items: int,
        *,
        seed: int = 1,
        progress: Callable[[str], None] | None = None,
    ):
        """Add ``learners`` learners with about ``items`` items per enrolment: the generator's
        ``generate``, as ``flask demo generate`` calls it. Returns its summary."""
        app = self.app()
        with app.app_context():
            summary = generate(
                db.session, app, learners=learners, items=items, seed=seed, progress=progress
            )
            db.session.remove()
        self.generated_seconds += summary.seconds
        return summary

    # --- Choosing what to measure -------------------------------------------------------------

    def choose_page_subjects(self, summary) -> None:
        """From the first step's cohort: the learner whose enrolment has the most items, the
        assessor with the longest queue (the one the generator names), and that assessor's
        waiting submission with the most submitted items."""
        s = self.subjects
        with self.app().app_context():
            session = db.session
            item_counts = (
                select(EvidenceItem.enrolment_id, func.count().label("n"))
                .group_by(EvidenceItem.enrolment_id)
                .subquery()
            )
            enrolment_id, learner_email, items = session.execute(
                select(Enrolment.id, User.email, item_counts.c.n)
                .join(item_counts, item_counts.c.enrolment_id == Enrolment.id)
                .join(User, User.id == Enrolment.learner_id)
                .order_by(item_counts.c.n.desc(), Enrolment.id)
                .limit(1)
            ).one()
            s.learner_email, s.portfolio_enrolment, s.portfolio_items = (
                learner_email,
                enrolment_id,
                items,
            )

            s.assessor_email = summary.assessor.email
            assessor = session.scalar(select(User).where(User.email == s.assessor_email))
            waiting = (
                AssessmentState.SUBMITTED,
                AssessmentState.IN_REVIEW,
                AssessmentState.RESUBMITTED,
            )
            submitted = (
                select(EvidenceItem.enrolment_id, func.count().label("n"))
                .join(EvidenceVersion, EvidenceVersion.item_id == EvidenceItem.id)
                .where(EvidenceVersion.submission_id.is_not(None))
                .group_by(EvidenceItem.enrolment_id)
                .subquery()
            )
            rows = session.execute(
                select(Enrolment.id, submitted.c.n)
                .join(submitted, submitted.c.enrolment_id == Enrolment.id)
                .where(Enrolment.assessor_id == assessor.id, Enrolment.state.in_(waiting))
                .order_by(submitted.c.n.desc(), Enrolment.id)
            ).all()
            if not rows:
                raise RuntimeError(f"{s.assessor_email} has no submission waiting for review")
            s.review_enrolment, s.review_items = rows[0]
            s.queue_waiting = len(rows)

            # The upload goes into a portfolio its learner can still edit.
            editable = (AssessmentState.DRAFT, AssessmentState.RETURNED)
            row = session.execute(
                select(Enrolment.id, User.email)
                .join(User, User.id == Enrolment.learner_id)
                .where(Enrolment.state.in_(editable))
                .order_by((User.email == s.learner_email).desc(), Enrolment.id)
                .limit(1)
            ).one()
            s.upload_enrolment, s.upload_learner_email = row
            s.admin_email = "admin@generated.example.org"
            if session.scalar(select(User).where(User.email == s.admin_email)) is None:
                create_user(
                    session,
                    actor=None,
                    name="Ada Bench",
                    email=s.admin_email,
                    roles={Role.ADMIN},
                    password=s.password,
                )
            session.commit()

    def choose_pack_subject(self, wanted: int, summary) -> None:
        """The enrolment of a learner generated on their own with ``--items wanted`` that has
        the most submitted items (the pack shows what was submitted)."""
        with self.app().app_context():
            session = db.session
            learner = session.scalar(select(User).where(User.email == summary.learner.email))
            enrolment_id, items = session.execute(
                select(Enrolment.id, func.count(func.distinct(EvidenceItem.id)))
                .join(EvidenceItem, EvidenceItem.enrolment_id == Enrolment.id)
                .join(EvidenceVersion, EvidenceVersion.item_id == EvidenceItem.id)
                .where(
                    Enrolment.learner_id == learner.id,
                    EvidenceVersion.submission_id.is_not(None),
                )
                .group_by(Enrolment.id)
                .order_by(func.count(func.distinct(EvidenceItem.id)).desc(), Enrolment.id)
                .limit(1)
            ).one()
            self.subjects.packs[wanted] = (enrolment_id, items)
            session.rollback()

    def bundle_enrolments(self, count: int) -> list[int]:
        """``count`` enrolments for an audit bundle: decided ones first (an audit bundle is
        of decided enrolments), then others with a submission, by id."""
        with self.app().app_context():
            decided = list(
                db.session.scalars(
                    select(Enrolment.id)
                    .where(Enrolment.state == AssessmentState.DECIDED)
                    .order_by(Enrolment.id)
                    .limit(count)
                )
            )
            if len(decided) < count:
                decided += list(
                    db.session.scalars(
                        select(Enrolment.id)
                        .where(
                            Enrolment.state != AssessmentState.DECIDED,
                            Enrolment.state != AssessmentState.DRAFT,
                        )
                        .order_by(Enrolment.id)
                        .limit(count - len(decided))
                    )
                )
            db.session.rollback()
        return sorted(decided)

    def counts(self) -> dict[str, int]:
        """Rows in the larger tables, for the report."""
        from portfolio.models import AuditEvent, EvidenceFile

        with self.app().app_context():
            session = db.session
            found = {
                "learners": session.scalar(
                    select(func.count()).select_from(User).where(User.email.like("learner%"))
                ),
                "enrolments": session.scalar(select(func.count()).select_from(Enrolment)),
                "evidence items": session.scalar(select(func.count()).select_from(EvidenceItem)),
                "evidence files": session.scalar(select(func.count()).select_from(EvidenceFile)),
                "audit events": session.scalar(select(func.count()).select_from(AuditEvent)),
            }
            session.rollback()
        return found
