"""Building a bundle in the background, with its progress readable from any app server.

A bundle of hundreds of enrolments takes minutes. The request that asks for it records a job
(``portfolio.models.Job``) and hands it to the queue (``portfolio.queue``: a worker process
on the queue engine, or a thread of the web process by default) and returns at once. The job
streams the ZIP into the evidence store, hashing it as it goes, and writes its progress to its
row, which the page polls; the finished file is then downloaded like any other stored file.
A job that fails is run again by the queue engine (twice) before it is marked failed.

A bundle is a copy of learners' evidence: it is kept ``BUNDLE_KEEP_DAYS`` days after it was
built, then removed (row and file) when the next bundle is asked for.
"""

from __future__ import annotations

import secrets
from contextlib import closing
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from portfolio.audit.exports import record_export
from portfolio.errors import ServiceError
from portfolio.exports.bundle import Extra, Progress, Selection, selected_ids, stream_bundle
from portfolio.exports.pdf import Converter
from portfolio.extensions import db
from portfolio.files.streams import ChunkStream
from portfolio.files.uploads import storage
from portfolio.models import Job, JobState, Role, User
from portfolio.models.base import utcnow
from portfolio.queue import JOB_TIMEOUT, RETRIES, enqueue, retries_left

JOB_ID_BYTES = 12
KIND = "bundle"


def _params(selection: Selection) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in asdict(selection).items()
    }


def _selection(params: dict[str, Any]) -> Selection:
    return Selection(
        **{
            key: date.fromisoformat(value) if key.startswith("decided_") and value else value
            for key, value in params.items()
        }
    )


def find_bundle(session: Session, job_id: str) -> Job | None:
    """A bundle job by its id (ids are generated alphanumeric: anything else is a probe)."""
    if not job_id.isalnum():
        raise ServiceError("There is no such bundle.")
    job = session.get(Job, job_id)
    if job is None or job.kind != KIND:
        return None
    _give_up_if_stuck(session, job)
    return job


def _give_up_if_stuck(session: Session, job: Job) -> None:
    """A bundle still waiting or running long after any run would have ended (its process
    was stopped mid-way) is marked failed, so its page stops waiting and says what to do."""
    if job.state in (JobState.QUEUED, JobState.RUNNING) and job.created_at < utcnow() - (
        timedelta(seconds=JOB_TIMEOUT * (1 + RETRIES))
    ):
        job.state, job.finished_at = JobState.FAILED, utcnow()
        job.message = "It did not finish (the process building it was stopped). Ask for it again."
        session.commit()


def recent_bundles(session: Session, limit: int = 10) -> list[Job]:
    """The latest bundles asked for, newest first, with who asked (one query)."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.kind == KIND)
            .options(joinedload(Job.requested_by).lazyload("*"))
            .order_by(Job.created_at.desc())
            .limit(limit)
        )
    )


def old_bundles(app: Flask, session: Session) -> list[Job]:
    """Bundles asked for more than BUNDLE_KEEP_DAYS ago: their copies of evidence go."""
    cutoff = utcnow() - timedelta(days=app.config["BUNDLE_KEEP_DAYS"])
    return list(
        session.scalars(
            select(Job).where(Job.kind == KIND, Job.created_at < cutoff).order_by(Job.id)
        )
    )


def remove_old_bundles(app: Flask, session: Session) -> list[str]:
    """Delete the rows of bundles built, or last tried, more than the keep period ago (in the
    caller's transaction). Returns their stored files no other bundle names: the caller
    deletes them once the rows' removal is committed."""
    old = old_bundles(app, session)
    removed = [job.id for job in old]
    if not removed:
        return []
    keys = {job.result_key for job in old if job.result_key}
    # The same bundle built twice is stored once: a file a newer job names stays.
    kept = set(
        session.scalars(
            select(Job.result_key).where(Job.result_key.in_(keys), Job.id.not_in(removed))
        )
    )
    session.execute(delete(Job).where(Job.id.in_(removed)))
    return sorted(keys - kept)


BUILD = "portfolio.exports.jobs.build_bundle"


def start_bundle(app: Flask, selection: Selection, actor: User, *, task: str = BUILD) -> str:
    """Check the selection now (so a bad one is refused at once), then queue its building
    (by ``task``, the dotted name of a function of the job id: ``build_bundle`` or one that
    calls it with the members its kind of bundle adds)."""
    total = len(selected_ids(db.session, selection))
    if total == 0:
        raise ServiceError("No decided enrolment matches that selection.")
    if selection.pdfs and not Converter.from_config(app.config).available():
        raise ServiceError(
            "PDFs need LibreOffice on the server, and it is not installed (on Debian or "
            "Ubuntu: apt install libreoffice-writer-nogui). Build the bundle without them.",
            "pdfs",
        )
    stale_files = remove_old_bundles(app, db.session)
    job = Job(
        id=secrets.token_urlsafe(JOB_ID_BYTES).replace("-", "x").replace("_", "y"),
        kind=KIND,
        params=_params(selection),
        description=selection.describe(),
        total=total,
        requested_by_id=actor.id,
    )
    db.session.add(job)
    db.session.commit()  # the worker must find it
    for key in stale_files:
        storage().delete(key)
    try:
        enqueue(app, task, job.id)
    except Exception as error:  # the queue engine cannot be reached
        app.logger.exception("queueing bundle %s failed", job.id)
        job.state, job.finished_at = JobState.FAILED, utcnow()
        job.message = "The job queue could not be reached."
        db.session.commit()
        raise ServiceError(
            "The bundle could not be started: the job queue could not be reached. Try again "
            "in a few minutes; if it keeps happening, check QUEUE_URL and the queue server."
        ) from error
    return job.id


def _progress(job_id: str, **values: Any) -> None:
    """Written beside the bundle's own reading (in a transaction of its own), so the page
    sees it at once and the bundle's queries are not disturbed."""
    with Session(db.engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))
        session.commit()


def build_bundle(job_id: str, *, extra: Extra | None = None, kind: str = "Audit bundle") -> None:
    """The job: stream the bundle into the evidence store, then record who took the copy."""
    job = db.session.get(Job, job_id)
    if job is None or job.state is JobState.DONE:
        return  # removed meanwhile, or already built by an earlier run
    job.state, job.started_at, job.message = JobState.RUNNING, utcnow(), ""
    job.attempts += 1
    db.session.commit()
    try:

        def progress(p: Progress) -> None:
            _progress(job_id, done=p.done, total=p.total)

        chunks = stream_bundle(
            db.session, _selection(job.params), on_progress=progress, extra=extra
        )
        with closing(chunks):
            blob = storage().save(ChunkStream(chunks))
        job = db.session.get(Job, job_id)
        record_export(
            db.session,
            actor=job.requested_by,
            role=Role.ADMIN,
            kind="bundle",
            description=f"{kind}: {job.description}",
            count=job.total,
            details={"bytes": blob.size, "job": job_id},
        )
        job.state, job.finished_at = JobState.DONE, utcnow()
        job.result_key, job.result_size = blob.key, blob.size
        db.session.commit()
    except Exception as error:  # the page must learn that it failed, and why
        db.session.rollback()
        left = retries_left()
        reason = str(error) or error.__class__.__name__
        current_app.logger.exception("building bundle %s failed", job_id)
        _progress(
            job_id,
            state=JobState.QUEUED if left else JobState.FAILED,
            message=f"Attempt {job.attempts} failed ({reason}); trying again." if left else reason,
            finished_at=None if left else utcnow(),
        )
        if left:
            raise  # the queue engine runs it again
    finally:
        db.session.remove()


def write_bundle(app: Flask, selection: Selection, target: Path, *, on_progress) -> int:
    """Stream the bundle into the file ``target`` (``flask exports bundle``); its size."""
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


def open_bundle(job: Job):
    """The finished bundle's file, for reading."""
    assert job.result_key is not None
    return storage().open(job.result_key)
