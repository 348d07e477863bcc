"""Peak memory of building an audit bundle, for a small and a large selection.

    .venv/bin/python -m tests.benchmarks.bundle_memory 20 200

For each size, a child process builds a fresh instance with that many decided enrolments
(through the real services, each the demo's assessed portfolio with its files), then streams
the bundle to a file and reports the growth of its peak resident memory while the bundle was
built, with the bundle's size. Memory that stays flat while the bundle grows tenfold is the point.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _populate(count: int) -> None:
    """``count`` learners, each with the demo's assessed portfolio (three real files)."""
    from portfolio.assessment.enrolments import enrol
    from portfolio.auth.services import create_user
    from portfolio.demo import assessed_portfolio
    from portfolio.extensions import db
    from portfolio.models import Role

    assessor, _ = create_user(
        db.session,
        actor=None,
        name="Bench Assessor",
        email="a@bench.test",
        roles={Role.ASSESSOR},
        password="bench-pass-123",
    )
    for n in range(count):
        learner, _ = create_user(
            db.session,
            actor=None,
            name=f"Learner {n}",
            email=f"l{n}@bench.test",
            roles={Role.LEARNER},
            password="bench-pass-123",
            student_id=f"B{n:05d}",
        )
        enrolment = enrol(
            db.session, actor=None, learner=learner, unit_code="TLII5018", assessor=assessor
        )
        assessed_portfolio(db.session, enrolment=enrolment, learner=learner, assessor=assessor)
        db.session.commit()


def run_one(count: int) -> None:
    """In this process: a fresh instance, ``count`` enrolments, then the bundle."""
    from portfolio import create_app
    from portfolio.exports.bundle import Selection
    from portfolio.exports.jobs import write_bundle
    from portfolio.extensions import db
    from portfolio.units.loader import load_directory
    from portfolio.units.sync import sync_units

    work = Path(tempfile.mkdtemp(prefix="bench-bundle-"))
    os.environ["PORTFOLIO_INSTANCE_PATH"] = str(work / "instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
            or f"sqlite:///{work / 'bench.sqlite3'}",
            "EVIDENCE_DIR": str(work / "evidence"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_units(db.session, load_directory(Path(app.config["UNITS_DIR"])).units)
        db.session.commit()
        _populate(count)
        before = _peak_mb()
        packs_done: list[float] = []

        def progress(p) -> None:
            if p.total and p.done == p.total:
                packs_done.append(_peak_mb() - before)

        started = time.perf_counter()
        size = write_bundle(
            app, Selection(unit_code="TLII5018"), work / "bundle.zip", on_progress=progress
        )
        seconds = time.perf_counter() - started
        grew = _peak_mb() - before
    print(
        f"{count:>5} enrolments  bundle {size / 2**20:8.1f} MB  {seconds:6.1f} s  "
        f"{size / 2**20 / seconds:6.1f} MB/s  peak RSS grew {packs_done[0]:6.1f} MB over the "
        f"packs and files, {grew:6.1f} MB with the matrix and register",
        flush=True,
    )


def main(sizes: list[int]) -> None:
    for count in sizes:
        subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.bundle_memory", "--one", str(count)],
            check=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        run_one(int(sys.argv[2]))
    else:
        main([int(a) for a in sys.argv[1:]] or [20, 200])
