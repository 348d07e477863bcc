"""The S3-compatible store and the job queue, each beside a plain use of the same engine.

- **Upload to S3**: the app's store (``S3Storage.save``: hashed as it streams, 8 MB parts,
  then a copy to its content key) against boto3's own ``upload_fileobj`` of the same bytes,
  with the same client, to the same SeaweedFS. Each runs in a fresh child process whose peak
  memory (VmHWM) is reset first, so the growth is what the upload needed.
- **Read from S3**: the app's ``open`` (a streamed GET, ranged after a seek) read in 64 KB
  chunks against boto3's ``get_object`` body read in the same chunks.
- **Audit bundle from S3**: the files of the largest bundle copied to S3 through the app's
  store, then the bundle built with EVIDENCE_STORAGE=s3 (as in section 3), against reading the
  same objects with boto3 one after another.
- **Job queue**: trivial jobs enqueued on RQ (Redis) and worked in burst by the app's worker:
  jobs per second enqueued and worked, the queue's own cost per job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.benchmarks.server import reset_peak, status_kb

MB = 1024 * 1024
CHUNK = 64 * 1024


def _measure_in_child(kind: str, settings: dict, payload: Path, key: str = "") -> dict:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.objectstore",
            kind,
            json.dumps(settings),
            str(payload),
            key,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(kind: str, settings: dict, payload: Path, key: str) -> None:
    """In this process: one transfer, printed as a line of JSON."""
    from portfolio.files.s3 import s3_client
    from portfolio.files.storage import named_storage

    client = s3_client(settings)
    store = named_storage(settings, "s3")
    pid = os.getpid()
    warm = client.list_objects_v2(Bucket=settings["S3_BUCKET"], MaxKeys=1)  # connect first
    del warm
    reset = reset_peak(pid)
    before = status_kb(pid, "VmHWM")
    started = time.perf_counter()
    size = payload.stat().st_size
    if kind == "app-upload":
        with payload.open("rb") as stream:
            blob = store.save(stream)
        key = blob.key
    elif kind == "plain-upload":
        key = f"{settings['S3_PREFIX']}/plain/{uuid.uuid4().hex}"
        with payload.open("rb") as stream:
            client.upload_fileobj(stream, settings["S3_BUCKET"], key)
    elif kind == "app-read":
        with store.open(key) as stream:
            size = 0
            while chunk := stream.read(CHUNK):
                size += len(chunk)
    elif kind == "plain-read":
        size = 0
        body = client.get_object(Bucket=settings["S3_BUCKET"], Key=key)["Body"]
        for chunk in body.iter_chunks(CHUNK):
            size += len(chunk)
    seconds = time.perf_counter() - started
    grew = (status_kb(pid, "VmHWM") - before) / 1024
    print(
        json.dumps(
            {
                "bytes": size,
                "seconds": seconds,
                "mb_per_s": size / MB / seconds,
                "peak_growth_mb": grew,
                "peak_reset": reset,
                "key": key,
            }
        ),
        flush=True,
    )


def transfers(settings: dict, payload: Path) -> dict:
    """Upload and read ``payload`` through the app's store and plainly through boto3."""
    out = {
        "app_upload": _measure_in_child("app-upload", settings, payload),
        "plain_upload": _measure_in_child("plain-upload", settings, payload),
    }
    out["app_read"] = _measure_in_child("app-read", settings, payload, out["app_upload"]["key"])
    out["plain_read"] = _measure_in_child(
        "plain-read", settings, payload, out["plain_upload"]["key"]
    )
    return out


def bundle_from_s3(instance, settings: dict, count: int, work: Path) -> dict:
    """The files of the instance's ``count``-enrolment bundle copied to S3, then the bundle
    built from there, beside reading the same objects plainly.

    Only the bundle's own files are copied (keys are content-addressed, so a copy has the key
    the records name): moving a whole 2,000-learner instance with ``flask storage migrate``
    (timed by the storage tests, not here) would take most of an hour and measure nothing
    about the bundle."""
    from sqlalchemy import select, union

    from portfolio.extensions import db
    from portfolio.files.s3 import s3_client
    from portfolio.files.storage import named_storage
    from portfolio.models import (
        Closure,
        ClosureFile,
        EvidenceFile,
        EvidenceItem,
        EvidenceVersion,
        GapSignoff,
        SignoffFile,
    )
    from tests.benchmarks.bundle_memory import measure_existing

    app = instance.app()
    stores = {**settings, "EVIDENCE_DIR": str(instance.evidence_dir)}
    local, s3 = named_storage(stores, "local"), named_storage(stores, "s3")
    with app.app_context():
        ids = instance.bundle_enrolments(count)
        keys = sorted(
            db.session.scalars(
                union(
                    select(EvidenceFile.storage_key)
                    .join(EvidenceVersion)
                    .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
                    .where(EvidenceItem.enrolment_id.in_(ids)),
                    select(SignoffFile.storage_key)
                    .join(GapSignoff)
                    .where(GapSignoff.enrolment_id.in_(ids)),
                    select(ClosureFile.storage_key)
                    .join(Closure)
                    .where(Closure.enrolment_id.in_(ids)),
                )
            )
        )
        db.session.remove()
    started = time.perf_counter()
    for key in keys:
        with local.open(key) as stored:
            copied = s3.save(stored)
        if copied.key != key:
            raise RuntimeError(f"{key} was stored in S3 under {copied.key}")
    copy_seconds = time.perf_counter() - started
    target = work / f"bundle-s3-{instance.name}-{count}.zip"
    environment = {key: str(value) for key, value in settings.items()}
    result = measure_existing(
        instance.database_url, str(instance.evidence_dir), ids, target, environment=environment
    )
    target.unlink(missing_ok=True)
    client = s3_client(settings)
    read = 0
    started = time.perf_counter()
    for key in keys:
        body = client.get_object(Bucket=settings["S3_BUCKET"], Key=f"{settings['S3_PREFIX']}/{key}")
        for chunk in body["Body"].iter_chunks(CHUNK):
            read += len(chunk)
    plain_seconds = time.perf_counter() - started
    result.update(
        copy_seconds=copy_seconds,
        evidence_objects=len(keys),
        evidence_bytes=read,
        plain_read_seconds=plain_seconds,
        plain_read_mb_per_s=read / MB / plain_seconds if plain_seconds else 0.0,
        evidence_mb_per_s=read / MB / result["seconds"],
    )
    return result


def nothing(job_id: str) -> None:
    """A job that does nothing: what is left is the queue's own cost."""


def queue_rate(app, url: str, jobs: int) -> dict:
    """``jobs`` trivial jobs enqueued on RQ, then worked in burst by the app's worker."""
    import logging

    from redis import Redis

    from portfolio import queue

    logging.getLogger("rq.worker").setLevel(logging.WARNING)  # a line per job otherwise
    Redis.from_url(url).flushdb()
    app.config["QUEUE_URL"] = url
    try:
        started = time.perf_counter()
        for n in range(jobs):
            queue.enqueue(app, f"{__name__}.nothing", f"bench{n}")
        enqueued = time.perf_counter() - started
        started = time.perf_counter()
        queue.work(app, burst=True)
        worked = time.perf_counter() - started
    finally:
        app.config.pop("QUEUE_URL", None)
    return {
        "jobs": jobs,
        "enqueue_seconds": enqueued,
        "enqueued_per_second": jobs / enqueued,
        "work_seconds": worked,
        "worked_per_second": jobs / worked,
    }


if __name__ == "__main__":
    _child(sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
