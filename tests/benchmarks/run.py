"""The benchmarks, end to end, written to BENCHMARKS.md: ``make bench``, or

    .venv/bin/python -m tests.benchmarks.run --sizes 20,200,2000 --databases sqlite,postgresql \\
        --duration 5 --output BENCHMARKS.md

For each database (SQLite, and PostgreSQL in a throwaway cluster when its binaries are
installed) a synthetic cohort is generated in steps (``flask demo generate``: 20 learners,
then 180 more, then 1,800 more) and after each step the same figures are measured, each
beside a baseline taken in the same run:

- pages under load through gunicorn, against ``GET /login`` (a template, no query), and the
  statements each page runs;
- the evidence pack of a 20-item and a 200-item enrolment, against python-docx alone;
- a 100 MB upload through gunicorn, against a plain copy over a loopback socket;
- at the largest size, the audit bundle of 20 and of 200 enrolments, against ``zip -0``;
  and the larger bundle again with the evidence in S3 (``objectstore.py``);
- once: the same upload to and read from an S3-compatible store (SeaweedFS) through the app's
  store against boto3 alone, and jobs per second through the queue (RQ on Redis);
- once: the unit import reading texts shaped as hostile input at two sizes up to its limit,
  against the published unit texts the parser is tested on (``unit_import.py``).

``--quick`` is a few seconds' check that every figure is produced (the CI smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks import bundles, objectstore, packs, queries, unit_import
from tests.benchmarks.dataset import Instance
from tests.benchmarks.load import drive, log_in
from tests.benchmarks.postgres import PostgresUnavailable, cluster
from tests.benchmarks.report import write_report
from tests.benchmarks.server import gunicorn
from tests.benchmarks.upload import loopback_copy, make_payload, upload
from tests.redisserver import redis_binary, running_redis
from tests.s3server import S3Server, running_s3

UNIT = "TLII5018"
BASELINE = "baseline"
PAGES = [
    "baseline",
    "portfolio",
    "queue",
    "review",
    "unit",
    "dashboard",
    "assessor-dashboard",
    "learner-dashboard",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", help="learners after each step (default 20,200,2000)")
    parser.add_argument("--databases", help="sqlite, postgresql or both (default both)")
    parser.add_argument(
        "--database-url",
        help="measure on this database instead (its tables are dropped first); "
        "with --databases naming its kind",
    )
    parser.add_argument("--duration", type=float, help="seconds per page under load (default 5)")
    parser.add_argument("--concurrency", type=int, help="clients at once (default 16)")
    parser.add_argument(
        "--items",
        type=int,
        help="evidence items per enrolment for learners added after the first step (default 10)",
    )
    parser.add_argument(
        "--first-items",
        type=int,
        help="items per enrolment in the first step, whose people the pages show (default 20)",
    )
    parser.add_argument("--pack-items", help="items in the packs measured (default 20,200)")
    parser.add_argument("--bundle-sizes", help="enrolments per audit bundle (default 20,200)")
    parser.add_argument("--upload-mb", type=int, help="size of the upload (default 100)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default as in production)")
    parser.add_argument(
        "--queue-jobs", type=int, help="trivial jobs sent through the queue (default 500)"
    )
    parser.add_argument("--output", default="BENCHMARKS.md", help="the report (Markdown)")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--work-dir", help="where instances live while measured (default: temp)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite instance and work files afterwards"
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and short runs: every figure, fast"
    )
    args = parser.parse_args(argv)
    args.timed = None
    quick = args.quick
    defaults = {
        "sizes": "3,5" if quick else "20,200,2000",
        "databases": "sqlite,postgresql",
        "duration": 1.0 if quick else 5.0,
        "concurrency": 4 if quick else 16,
        "items": 2 if quick else 10,
        "first_items": 2 if quick else 20,
        "pack_items": "2,4" if quick else "20,200",
        "bundle_sizes": "1,2" if quick else "20,200",
        "upload_mb": 4 if quick else 100,
        "queue_jobs": 20 if quick else 500,
        "timed": 3 if quick else 10,
        "workers": 2 if quick else min(2 * (os.cpu_count() or 1) + 1, 8),
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sizes = [int(s) for s in str(args.sizes).split(",")]
    if args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1:
        parser.error("--sizes must grow: e.g. 20,200,2000")
    args.databases = [d.strip().lower() for d in args.databases.split(",") if d.strip()]
    for name in args.databases:
        if name not in ("sqlite", "postgresql"):
            parser.error(f"unknown database {name!r}: use sqlite and/or postgresql")
    if args.database_url:
        kind = "postgresql" if args.database_url.startswith("postgres") else "sqlite"
        args.databases = [kind]
    args.pack_items = [int(s) for s in str(args.pack_items).split(",")]
    args.bundle_sizes = [int(s) for s in str(args.bundle_sizes).split(",")]
    return args


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# --- The machine ------------------------------------------------------------------------------


def machine() -> dict:
    info: dict[str, object] = {
        "nproc": _command(["nproc"]) or str(os.cpu_count()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text()
        total_kb = int(meminfo.split("MemTotal:")[1].split()[0])
        info["ram_gb"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        info["ram_gb"] = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def _command(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --- One database -----------------------------------------------------------------------------


def page_paths(instance: Instance) -> dict[str, tuple[str, str | None]]:
    """Page name -> (path, login email or None)."""
    s = instance.subjects
    return {
        "baseline": ("/login", None),
        "portfolio": (f"/enrolments/{s.portfolio_enrolment}", s.learner_email),
        "queue": ("/review", s.assessor_email),
        "review": (f"/enrolments/{s.review_enrolment}/review", s.assessor_email),
        "unit": (f"/units/{UNIT}", s.learner_email),
        "dashboard": ("/dashboard", s.admin_email),
        "assessor-dashboard": ("/dashboard", s.assessor_email),
        "learner-dashboard": ("/dashboard", s.learner_email),
    }


def measure_size(instance: Instance, args: argparse.Namespace, work: Path, payload: Path) -> dict:
    s = instance.subjects
    result: dict[str, object] = {"counts": instance.counts(), "load_average": load_average()}
    paths = page_paths(instance)

    say(f"  statements per request ({instance.name}, {instance.learners} learners)")
    result["queries"], result["inprocess"] = queries.count_queries(
        instance.app(),
        [(name, path, email) for name, (path, email) in paths.items()],
        s.password,
        timed=args.timed,
    )

    pages: dict[str, dict] = {}
    with gunicorn(instance, work, workers=args.workers, max_upload_mb=args.upload_mb + 50) as srv:
        result["workers"] = len(srv.worker_pids())
        sessions = {
            email: log_in(srv.host, srv.port, email, s.password)
            for email in {email for _, email in paths.values() if email}
        }
        for name, (path, email) in paths.items():
            say(f"  {name}: {path} for {args.duration:g} s at {args.concurrency} clients")
            pages[name] = drive(
                srv.host,
                srv.port,
                path,
                duration=args.duration,
                concurrency=args.concurrency,
                cookies=sessions[email] if email else None,
            ).as_dict()
        say(f"  upload of {args.upload_mb} MB")
        result["upload"] = upload(
            srv, s.upload_learner_email, s.password, s.upload_enrolment, payload
        )
    result["pages"] = pages
    result["loopback"] = loopback_copy(payload, instance.evidence_dir)

    result["packs"] = {}
    for n, (wanted, (enrolment_id, items)) in enumerate(sorted(s.packs.items())):
        say(f"  evidence pack of {items} items (enrolment {enrolment_id})")
        # The first (smallest) pack is built once untimed to warm up; a large one is timed twice.
        repeats = 1 if args.quick else (3 if n == 0 else 2)
        figures = packs.measure(instance.app(), enrolment_id, repeats=repeats, warm=n == 0)
        figures["items"] = items
        result["packs"][str(wanted)] = figures
    return result


def run_database(
    instance: Instance,
    args: argparse.Namespace,
    work: Path,
    payload: Path,
    services: Services | None = None,
) -> dict:
    started = time.perf_counter()
    out: dict[str, object] = {"sizes": {}, "generation": []}
    instance.create()
    previous = 0
    for index, size in enumerate(args.sizes):
        items = args.first_items if index == 0 else args.items
        say(f"{instance.name}: generating {size - previous} learners ({items} items) -> {size}")
        summary = instance.grow(size - previous, items, progress=None)
        instance.learners = size
        out["generation"].append(
            {"size": size, "added": size - previous, "items": items, "seconds": summary.seconds}
        )
        if index == 0:
            instance.choose_page_subjects(summary)
            for wanted in args.pack_items:
                say(f"{instance.name}: one learner with {wanted} items for the evidence pack")
                extra = instance.grow(1, wanted)
                instance.choose_pack_subject(wanted, extra)
                out["generation"].append(
                    {"size": None, "added": 1, "items": wanted, "seconds": extra.seconds}
                )
            out["subjects"] = instance.subjects.as_dict()
        previous = size
        say(f"{instance.name}: measuring at {size} learners")
        out["sizes"][str(size)] = measure_size(instance, args, work, payload)

    out["bundles"] = {}
    for count in args.bundle_sizes:
        say(f"{instance.name}: audit bundle of {count} enrolments")
        out["bundles"][str(count)] = bundles.measure(instance, count, work)
    if services and services.s3:
        count = max(args.bundle_sizes)
        say(f"{instance.name}: audit bundle of {count} enrolments from S3")
        out["bundle_s3"] = objectstore.bundle_from_s3(
            instance, services.s3.config(f"bench-{instance.name}"), count, work
        )
    if services and services.redis:
        say(f"{instance.name}: {args.queue_jobs} jobs through the queue")
        out["queue"] = objectstore.queue_rate(instance.app(), services.redis, args.queue_jobs)
    out["seconds"] = time.perf_counter() - started
    return out


@dataclass
class Services:
    """The S3 server and the queue engine the benchmark started (None: not available)."""

    s3: S3Server | None = None
    redis: str | None = None


def start_services(stack: ExitStack, work: Path, notes: list[str]) -> Services:
    services = Services()
    try:
        # A cohort's evidence and its bundles: gigabytes, in as many volumes as the disk holds.
        services.s3 = stack.enter_context(running_s3(work / "seaweedfs", volume_mb=1024, volumes=0))
    except RuntimeError as error:
        notes.append(f"The S3-compatible store was not measured: {error}")
    if redis_binary() is None:
        notes.append("The job queue was not measured: redis-server is not installed.")
    else:
        services.redis = stack.enter_context(running_redis(work / "redis"))
    return services


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    begun = time.perf_counter()
    results: dict[str, object] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {
            key: value
            for key, value in vars(args).items()
            if key not in ("output", "json", "work_dir", "database_url", "keep")
        },
        "load_average_start": load_average(),
        "databases": {},
        "notes": [],
    }
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="portfolio-bench."))
    work.mkdir(parents=True, exist_ok=True)
    payload = make_payload(work / "upload.bin", args.upload_mb)
    if not bundles.zip_available():
        results["notes"].append("The zip command is not installed: no zip baseline.")
    services_stack = ExitStack()
    try:
        services = start_services(services_stack, work, results["notes"])
        say("unit import: the published texts, then hostile shapes at two sizes")
        results["unit_import"] = unit_import.measure(quick=args.quick)
        if services.s3:
            say(f"S3: uploading and reading {args.upload_mb} MB through the app and through boto3")
            results["object_store"] = objectstore.transfers(services.s3.config("bench"), payload)
        for name in args.databases:
            root = work / name
            root.mkdir(exist_ok=True)
            with ExitStack() as stack:
                if args.database_url:
                    url = args.database_url
                elif name == "sqlite":
                    url = f"sqlite:///{root / 'portfolio.sqlite3'}"
                else:
                    try:
                        pg = stack.enter_context(cluster())
                    except PostgresUnavailable as error:
                        note = f"PostgreSQL was not measured: {error}."
                        say(note)
                        results["notes"].append(note)
                        continue
                    results["machine"]["postgresql"] = pg.version
                    url = pg.create_database("portfolio_bench")
                instance = Instance(name, url, root, fast_hash=args.quick)
                try:
                    results["databases"][name] = run_database(
                        instance, args, work, payload, services
                    )
                finally:
                    instance.close()
                if name == "postgresql" and "postgresql" not in results["machine"]:
                    results["machine"]["postgresql"] = _server_version(url)
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    finally:
        services_stack.close()
        if not args.work_dir and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = time.perf_counter() - begun
    results["load_average_end"] = load_average()
    output = Path(args.output)
    if not output.is_absolute():
        output = Path.cwd() / output
    write_report(results, output)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    say(f"wrote {output} in {results['seconds']:.0f} s")
    if args.keep:
        say(f"kept the work files in {work}")
    return 0


def _server_version(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
