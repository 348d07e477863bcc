"""Audit bundles on a real job queue (RQ on Redis): asked for on one app server, built by a
worker, followed and downloaded on another; a failing job is retried, then marked failed; a
worker killed mid-bundle leaves the job to another."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from sqlalchemy import select

from portfolio import create_app, queue
from portfolio.extensions import db
from portfolio.models import EvidenceFile, EvidenceItem, EvidenceVersion
from tests.exports.test_views import (
    UNIT,
    bundle,
    fetch,
    job_of,
    messages,
    read_zip,
    start,
)


@pytest.fixture
def queued(app: Flask, redis_url: str) -> str:
    """The app sends its jobs to the queue (nothing runs in the web process)."""
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    app.config["QUEUE_URL"] = redis_url
    return redis_url


def other_node(app: Flask) -> Flask:
    """A second app server: the same database, evidence store and queue, its own process
    state (nothing shared with the first but what it reads from them)."""
    keys = ("SQLALCHEMY_DATABASE_URI", "EVIDENCE_DIR", "QUEUE_URL", "SECRET_KEY", "AUDIT_KEY")
    return create_app(
        {**{key: app.config[key] for key in keys}, "TESTING": True, "WTF_CSRF_ENABLED": False}
    )


def test_a_bundle_asked_on_one_node_is_built_by_a_worker_and_taken_from_another(
    app, client, admin, decided, queued, login, tmp_path, monkeypatch
) -> None:
    decided()
    job = job_of(start(client, unit=UNIT))
    waiting = fetch(client, f"/admin/exports/bundles/{job}")
    assert "Waiting for a worker to start it" in messages(waiting)
    assert bundle(job).state.value == "queued"

    queue.work(app, burst=True)  # what `flask jobs worker` does, until the queue is empty
    built = bundle(job)
    assert (built.state.value, built.attempts, built.done) == ("done", 1, 1)

    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path / "node-b"))
    node_b = other_node(app)
    with node_b.app_context():
        other = node_b.test_client()
        # The admin's session (its signed cookie), presented to node B.
        with other.session_transaction() as session, client.session_transaction() as original:
            session.update(original)
        status = other.get(f"/admin/exports/bundles/{job}/status").get_json()
        assert status["state"] == "done"
        download = other.post(f"/admin/exports/bundles/{job}/download")
        _, manifest = read_zip(download.get_data())
        download.close()
        assert manifest["selection"] == UNIT and manifest["enrolments"] == 1
        db.session.remove()
        db.engine.dispose()


def test_a_failing_bundle_is_retried_then_marked_failed(
    app, client, admin, decided, queued, monkeypatch
) -> None:
    from pathlib import Path

    monkeypatch.setattr(queue, "RETRY_PAUSES", [0, 0])  # retried at once, for the test
    decided()
    for path in Path(app.config["EVIDENCE_DIR"]).rglob("*"):
        if path.is_file():
            path.unlink()  # the bundle cannot read the evidence: every attempt fails
    job = job_of(start(client, unit=UNIT))

    queue.work(app, burst=True, max_jobs=1)
    first = bundle(job)
    assert (first.state.value, first.attempts) == ("queued", 1)
    assert first.message.startswith("Attempt 1 failed (") and "trying again" in first.message
    assert first.message in messages(fetch(client, f"/admin/exports/bundles/{job}"))

    queue.work(app, burst=True)
    last = bundle(job)
    assert (last.state.value, last.attempts) == ("failed", 1 + queue.RETRIES)
    assert "could not be built" in messages(fetch(client, f"/admin/exports/bundles/{job}"))
    assert fetch(client, f"/admin/exports/bundles/{job}/download").status_code == 404
    # Admins see it among the latest bundles, failed after its attempts.
    row = " ".join(
        lxml.html.fromstring(fetch(client, "/admin/exports").data)
        .xpath(f"//tr[@data-job='{job}']")[0]
        .text_content()
        .split()
    )
    assert "Failed" in row and row.endswith(str(1 + queue.RETRIES))


def test_the_worker_command_says_what_to_set_without_a_queue(runner) -> None:
    result = runner.invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 1
    assert "QUEUE_URL is not set" in result.output


def worker_process(app: Flask, tmp_path, name: str, **settings: str) -> subprocess.Popen[bytes]:
    """``flask jobs worker`` as its own process, on this test's database, store and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "EVIDENCE_DIR": app.config["EVIDENCE_DIR"],
        "QUEUE_URL": app.config["QUEUE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "AUDIT_KEY": app.config["AUDIT_KEY"],
        "PORTFOLIO_INSTANCE_PATH": str(tmp_path / name),
        **settings,
    }
    with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portfolio", "jobs", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.2)


def test_a_stopping_worker_lets_go_of_its_command_channel_at_once(app, queued) -> None:
    """A worker told to stop (SIGTERM, ``systemctl stop``) unsubscribes from its command
    channel and waits for the thread listening on it. When that thread has already read the
    reply, it waits for a message for as long as its pause before it sees it must stop: a
    pause of a minute kept the worker from stopping for that minute."""
    listening = queue.worker(app)
    listening.subscribe()
    wait_for(lambda: listening.pubsub.subscribed, "the worker to listen on its channel")
    listening.pubsub.unsubscribe()  # the first step of stopping: the listener reads the reply
    wait_for(lambda: not listening.pubsub.subscribed, "the listener to read the reply")

    asked = time.monotonic()
    listening.unsubscribe()
    assert time.monotonic() - asked < 10, "the worker stopped a minute after it was told to"
    assert not listening.pubsub_thread.is_alive()


def test_a_worker_killed_mid_bundle_leaves_the_job_to_another_worker(
    app, client, admin, decided, queued, monkeypatch, tmp_path
) -> None:
    """Its heartbeat lapses, another worker runs the job again, and the bundle is whole."""
    monkeypatch.setattr(queue, "RETRY_PAUSES", [0, 0])  # run again at once, for the test
    enrolment = decided()
    stored = db.session.scalar(
        select(EvidenceFile)
        .join(EvidenceVersion)
        .join(EvidenceItem, EvidenceItem.id == EvidenceVersion.item_id)
        .where(EvidenceItem.enrolment_id == enrolment.id, EvidenceFile.display_name.like("%.pdf"))
    )
    path = Path(app.config["EVIDENCE_DIR"]) / stored.storage_key
    content = path.read_bytes()
    # The first worker blocks on this file part way through the bundle: opening a named pipe
    # waits for a writer, as a read from a hung disk or network store would.
    path.unlink()
    os.mkfifo(path)
    job = job_of(start(client, unit=UNIT))
    fast = {"JOB_HEARTBEAT_SECONDS": "1"}

    first = worker_process(app, tmp_path, "first", **fast)
    second = None
    try:
        wait_for(lambda: fresh(job).state.value == "running", "the first worker to start")
        time.sleep(1)
        assert first.poll() is None and fresh(job).state.value == "running"
        os.killpg(first.pid, signal.SIGKILL)  # mid-bundle, no chance to say anything
        first.wait()
        path.unlink()
        path.write_bytes(content)

        second = worker_process(app, tmp_path, "second", **fast)
        wait_for(lambda: fresh(job).state.value == "done", "the second worker to finish it")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)  # not left behind the test
                    process.wait()
                    raise
    built = fresh(job)
    assert built.attempts == 2 and built.message == ""
    download = client.post(f"/admin/exports/bundles/{job}/download")
    archive, manifest = read_zip(download.get_data())
    download.close()
    assert manifest["enrolments"] == 1
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    assert any(entry["sha256"] == stored.sha256 for entry in manifest["files"])


def fresh(job_id: str):
    db.session.expire_all()
    found = bundle(job_id)
    db.session.rollback()
    return found
