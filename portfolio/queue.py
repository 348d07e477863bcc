"""Background jobs: on a queue engine when ``QUEUE_URL`` names one (RQ on Redis or Valkey,
worked by ``flask jobs worker`` on any machine), else in a thread of the web process that
asked (the embedded default). Either way a job is a function named by its import path, run
in an app context, whose state the job itself keeps in the database.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

QUEUE_NAME = "portfolio"
#: A failed job is run again this many times, after these pauses (seconds).
RETRIES = 2
RETRY_PAUSES = [10, 60]
#: A job still running after this long is stopped (and retried).
JOB_TIMEOUT = 6 * 3600


def _function(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _connection(url: str) -> Any:
    from redis import Redis

    return Redis.from_url(url)


def enqueue(app: Flask, function: str, *args: Any) -> None:
    """Run ``function(*args)`` in the background, with retries on the queue engine."""
    url = app.config.get("QUEUE_URL")
    if url:
        from rq import Queue, Retry

        Queue(QUEUE_NAME, connection=_connection(url)).enqueue(
            function,
            *args,
            retry=Retry(max=RETRIES, interval=RETRY_PAUSES),
            job_timeout=JOB_TIMEOUT,
        )
        return
    target = _function(function)

    def run() -> None:
        with app.app_context():
            target(*args)

    thread = threading.Thread(target=run, name=function, daemon=True)
    thread.start()
    if app.config.get("EXPORT_JOBS_SYNCHRONOUS"):
        thread.join()


def retries_left() -> int:
    """How many more times the queue engine will run the job in hand if it fails now (none
    for a job run in-process)."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return 0
    job = get_current_job()
    return int(job.retries_left or 0) if job is not None else 0


def work(app: Flask, *, burst: bool = False, max_jobs: int | None = None) -> None:
    """Work the queue in this process until stopped (``burst``: until it is empty;
    ``max_jobs``: after that many)."""
    url = app.config.get("QUEUE_URL")
    if not url:
        raise RuntimeError(
            "QUEUE_URL is not set: jobs run inside the web process. Set QUEUE_URL "
            "(redis://host:6379/0) on the web servers and the workers to use a queue."
        )
    from rq import Queue, SimpleWorker

    connection = _connection(url)
    with app.app_context():
        # SimpleWorker runs each job in this process, inside the app context pushed here
        # (a forked work horse would share the parent's database connections).
        SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(
            burst=burst, with_scheduler=not burst, max_jobs=max_jobs
        )


jobs_cli = AppGroup("jobs", help="Background jobs on the queue engine.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker_command(burst: bool) -> None:
    """Work the job queue (QUEUE_URL) until stopped: run one or more on any machine that
    reaches the database, the evidence store and the queue."""
    try:
        work(current_app._get_current_object(), burst=burst)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
