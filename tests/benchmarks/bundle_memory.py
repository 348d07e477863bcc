"""Peak memory of building an audit bundle, for a small and a large selection.

    .venv/bin/python -m tests.benchmarks.bundle_memory 20 200

For each size, a child process builds a fresh instance with that many decided enrolments
(through the real services, each the demo's assessed portfolio with its files), then streams
the bundle to a file and reports the growth of its peak resident memory while the bundle was
built, with the bundle's size. Memory that stays flat while the bundle grows tenfold is the point.

``measure_existing`` does the same in a child process for chosen enrolments of an instance
that already has its data (``tests.benchmarks.run`` uses it on the generated cohort).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _populate(count: int) -> None:
    """``count`` learners, each with the demo's assessed portfolio (three real files)."""
    from portfolio.auth.services import create_user
    from portfolio.demo.accounts import assessed_portfolio
    from portfolio.enrolments.services import enrol
    from portfolio.extensions import db
    from portfolio.models import Role

    assessor = create_user(
        db.session,
        actor=None,
        name="Bench Assessor",
        email="a@bench.test",
        roles={Role.ASSESSOR},
        password="bench-pass-123",
    )
    for n in range(count):
        learner = create_user(
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
    atexit.register(shutil.rmtree, work, ignore_errors=True)
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


def _status_mb(key: str) -> float:
    """This process's VmRSS or VmHWM from /proc, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> bool:
    """Bring VmHWM down to the current RSS (Linux), so the next peak is the next step's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def run_existing(database_url: str, evidence_dir: str, ids: list[int], target: Path) -> None:
    """In this process: the bundle of enrolments ``ids`` of an instance with data; prints the
    figures as one line of JSON.

    A one-enrolment bundle is built first, so that imports, templates and caches are in place;
    then the peak is reset to the resident memory of that moment and the bundle is built. The
    growth of the peak is what the bundle needed on top of a process that has built one.
    Also reported: seconds spent loading the packs' data and building Word documents (packs
    and matrices), the rest being files, hashing, the ZIP and the register.
    """
    from portfolio import create_app
    from portfolio.exports import bundle as bundle_module
    from portfolio.exports.bundle import Selection
    from portfolio.exports.jobs import write_bundle
    from portfolio.extensions import db

    timings = {"documents": 0.0, "data": 0.0}
    document_bytes, load_data = bundle_module._document_bytes, bundle_module.pack_data

    def timed_document_bytes(build):
        started = time.perf_counter()
        chunks = document_bytes(build)
        first = next(chunks, None)  # the document is built and saved before its first chunk
        timings["documents"] += time.perf_counter() - started
        if first is not None:
            yield first
            yield from chunks

    def timed_pack_data(*args, **kwargs):
        started = time.perf_counter()
        try:
            return load_data(*args, **kwargs)
        finally:
            timings["data"] += time.perf_counter() - started

    bundle_module._document_bytes = timed_document_bytes
    bundle_module.pack_data = timed_pack_data

    work = Path(tempfile.mkdtemp(prefix="bench-bundle-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    os.environ["PORTFOLIO_INSTANCE_PATH"] = str(work / "instance")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "EVIDENCE_DIR": evidence_dir})
    with app.app_context():
        started_mb = _status_mb("VmRSS")
        write_bundle(app, Selection(enrolment_ids=ids[:1]), work / "warm.zip", on_progress=id)
        db.session.remove()
        timings.update(documents=0.0, data=0.0)
        reset = _reset_peak()

        def peak() -> float:
            return _status_mb("VmHWM") if reset else _peak_mb()

        before_rss = _status_mb("VmRSS")
        before = peak()
        packs_done: list[float] = []
        steps: list[list[float]] = []  # (enrolments done, peak so far) at each tenth

        def progress(p) -> None:
            if p.total and p.done and p.done % max(1, p.total // 10) == 0:
                steps.append([p.done, round(peak() - before, 1)])
            if p.total and p.done == p.total:
                packs_done.append(peak())

        started = time.perf_counter()
        size = write_bundle(app, Selection(enrolment_ids=ids), target, on_progress=progress)
        seconds = time.perf_counter() - started
        after = peak()
    result = {
        "enrolments": len(ids),
        "bytes": size,
        "seconds": seconds,
        "documents_seconds": timings["documents"],
        "data_seconds": timings["data"],
        "rss_started_mb": started_mb,
        "rss_before_mb": before_rss,
        "peak_reset": reset,
        "peak_before_mb": before,
        "peak_mb": after,
        "grew_packs_mb": (packs_done[0] if packs_done else after) - before,
        "grew_mb": after - before,
        "steps": steps,
    }
    print(json.dumps(result), flush=True)


def measure_existing(
    database_url: str,
    evidence_dir: str,
    ids: list[int],
    target: Path,
    *,
    environment: dict[str, str] | None = None,
) -> dict:
    """``run_existing`` in a fresh child process (so its peak memory is the bundle's alone);
    ``environment`` adds settings (an S3 store, say)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bundle_memory",
            "--existing",
            database_url,
            evidence_dir,
            ",".join(map(str, ids)),
            str(target),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(environment or {})},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    for count in sizes:
        subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.bundle_memory", "--one", str(count)],
            check=True,
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        run_one(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--existing"]:
        url, evidence, ids, out = sys.argv[2:6]
        run_existing(url, evidence, [int(i) for i in ids.split(",")], Path(out))
    else:
        main([int(a) for a in sys.argv[1:]] or [20, 200])
