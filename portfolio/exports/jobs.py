"""Building a bundle in the background, with its progress readable by the page that asked.

A bundle of hundreds of enrolments takes minutes. The request that asks for it starts a thread
and returns at once; the thread writes the ZIP to the instance folder as it streams, and a small
status file that the browser polls. The finished file is then downloaded like any other.

A bundle is a copy of learners' evidence: it is kept ``BUNDLE_KEEP_DAYS`` days after it was
last written, then removed when the next bundle is asked for.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Flask

from portfolio.audit.exports import record_export
from portfolio.errors import ServiceError
from portfolio.exports.bundle import Progress, Selection, selected_ids, stream_bundle
from portfolio.extensions import db
from portfolio.models import Role, User

JOB_ID_BYTES = 12


@dataclass
class JobStatus:
    state: str  # "running", "done" or "failed"
    done: int = 0
    total: int = 0
    size: int = 0
    message: str = ""
    requested_by: int | None = None
    selection: str = ""


def jobs_dir(app: Flask) -> Path:
    path = Path(app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(app: Flask, job_id: str) -> tuple[Path, Path]:
    if not job_id.isalnum():  # ids are generated alphanumeric: anything else is a probe
        raise ServiceError("There is no such bundle.")
    folder = jobs_dir(app)
    return folder / f"{job_id}.json", folder / f"{job_id}.zip"


def read_status(app: Flask, job_id: str) -> JobStatus | None:
    status_path, _ = _paths(app, job_id)
    if not status_path.exists():
        return None
    return JobStatus(**json.loads(status_path.read_text("utf-8")))


def bundle_path(app: Flask, job_id: str) -> Path:
    return _paths(app, job_id)[1]


def _write_status(app: Flask, job_id: str, status: JobStatus) -> None:
    status_path, _ = _paths(app, job_id)
    partial = status_path.with_suffix(".json.part")
    partial.write_text(json.dumps(asdict(status)), "utf-8")
    partial.replace(status_path)  # readers never see half a file


def remove_old_bundles(app: Flask) -> list[str]:
    """Delete bundles (and leftovers of interrupted ones) older than the keep period.

    A running bundle rewrites its status after each enrolment, so an old status file is a
    finished bundle or one whose process ended. Returns the job ids removed.
    """
    cutoff = time.time() - app.config["BUNDLE_KEEP_DAYS"] * 86_400
    files: dict[str, list[Path]] = {}
    for path in jobs_dir(app).iterdir():
        files.setdefault(path.name.split(".", 1)[0], []).append(path)
    removed = []
    for job_id, paths in sorted(files.items()):
        # A job's age is its status file's (written last); leftovers without one, their own.
        status = [p for p in paths if p.name == f"{job_id}.json"]
        if max(p.stat().st_mtime for p in status or paths) >= cutoff:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
        removed.append(job_id)
    return removed


def write_bundle(app: Flask, selection: Selection, target: Path, *, on_progress) -> int:
    """Stream the bundle into ``target``; returns its size in bytes."""
    size = 0
    partial = target.with_name(target.name + ".part")
    try:
        chunks = stream_bundle(db.session, selection, on_progress=on_progress)
        with partial.open("wb") as out, closing(chunks):
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        # Half a bundle is a stray copy of learners' evidence: never leave it behind.
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return size


def start_bundle(app: Flask, selection: Selection, actor: User) -> str:
    """Check the selection now (so a bad one is refused at once), then build it in a thread."""
    total = len(selected_ids(db.session, selection))
    if total == 0:
        raise ServiceError("No decided enrolment matches that selection.")
    remove_old_bundles(app)
    job_id = secrets.token_urlsafe(JOB_ID_BYTES).replace("-", "x").replace("_", "y")
    status = JobStatus("running", 0, total, requested_by=actor.id, selection=selection.describe())
    _write_status(app, job_id, status)
    actor_id = actor.id

    def run() -> None:
        with app.app_context():

            def progress(p: Progress) -> None:
                status.done, status.total = p.done, p.total
                _write_status(app, job_id, status)

            try:
                status.size = write_bundle(
                    app, selection, bundle_path(app, job_id), on_progress=progress
                )
                record_export(
                    db.session,
                    actor=db.session.get(User, actor_id),
                    role=Role.ADMIN,
                    kind="bundle",
                    description=f"Audit bundle: {selection.describe()}",
                    count=status.total,
                    details={"bytes": status.size, "job": job_id},
                )
                db.session.commit()
                status.state = "done"
            except Exception as error:  # the page must learn that it failed, and why
                db.session.rollback()
                status.state = "failed"
                status.message = str(error) or error.__class__.__name__
                app.logger.exception("building bundle %s failed", job_id)
            finally:
                _write_status(app, job_id, status)
                db.session.remove()

    thread = threading.Thread(target=run, name=f"bundle-{job_id}", daemon=True)
    thread.start()
    if app.config.get("EXPORT_JOBS_SYNCHRONOUS"):
        thread.join()
    return job_id
