"""Background jobs: on a queue engine when ``QUEUE_URL`` names one (RQ on Redis or Valkey,
worked by ``flask jobs worker`` on any machine), else in a thread of the web process that
asked (the embedded default). Either way a job is a function named by its import path, run
in an app context, called with the id of its row in the jobs table, where it keeps its state.

A worker beats while it runs a job (every JOB_HEARTBEAT_SECONDS). One that stops mid-job
(killed, its machine lost) stops beating; any other worker notices within a few beats, and
the job is run again (it has RETRIES) or marked failed on its row, saying why.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import update

from portfolio.extensions import db
from portfolio.models import Job, JobState
from portfolio.models.base import utcnow

if TYPE_CHECKING:
    from rq import SimpleWorker

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


def enqueue(app: Flask, function: str, job_id: str) -> None:
    """Run ``function(job_id)`` in the background, with retries on the queue engine."""
    url = app.config.get("QUEUE_URL")
    if url:
        from rq import Callback, Queue, Retry

        Queue(QUEUE_NAME, connection=_connection(url)).enqueue(
            function,
            job_id,
            retry=Retry(max=RETRIES, interval=RETRY_PAUSES),
            job_timeout=JOB_TIMEOUT,
            on_failure=Callback(f"{__name__}.abandoned"),
        )
        return
    target = _function(function)

    def run() -> None:
        with app.app_context():
            target(job_id)

    thread = threading.Thread(target=run, name=function, daemon=True)
    thread.start()
    if app.config.get("JOBS_SYNCHRONOUS"):
        thread.join()


def on_queue() -> bool:
    """Whether the code in hand runs as a job of the queue engine (not in-process)."""
    from rq import get_current_job

    return get_current_job() is not None


def retries_left() -> int:
    """How many more times the queue engine will run the job in hand if it fails now (none
    for a job run in-process)."""
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover - rq is a dependency
        return 0
    job = get_current_job()
    return int(job.retries_left or 0) if job is not None else 0


def abandoned(queued: Any, connection: Any, kind: type, error: Any, traceback: Any) -> None:
    """The queue engine's failure callback. A job whose worker stopped beating mid-way is
    found by another worker: its row says so, and whether it is being run again. (A job
    that fails by raising says why itself.)"""
    from rq.exceptions import AbandonedJobError

    if kind is not AbandonedJobError or not queued.args:
        return
    left = int(queued.retries_left or 0)
    db.session.execute(
        update(Job)
        .where(Job.id == queued.args[0], Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
        .values(
            state=JobState.QUEUED if left else JobState.FAILED,
            message="The worker running it stopped part way; "
            + ("trying again." if left else "ask for it again."),
            finished_at=None if left else utcnow(),
        )
    )
    db.session.commit()


def _worker_class() -> type[SimpleWorker]:
    from rq import SimpleWorker
    from rq.utils import now
    from rq.worker import WorkerStatus

    class BeatingWorker(SimpleWorker):
        """SimpleWorker runs each job in this process, inside the app context pushed by
        ``work`` (a forked work horse would share the parent's database connections). It
        does not beat while a job runs, so a killed worker's job would wait out the job
        timeout (hours): this one beats from a thread, and its beat lapses in a few."""

        beat = 10

        def subscribe(self) -> None:
            """RQ's listener on the worker's command channel waits up to a minute for a
            message. A stopping worker unsubscribes, then waits for the listener (redis-py
            8.2 without a time limit); a listener that has already read the reply waits out
            its minute first, so a warm stop (SIGTERM) could take a minute. It waits a
            second here."""
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
            )

        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            return 3 * self.beat

        def execute_job(self, job: Any, queue: Any) -> None:
            execution = self.prepare_execution(job)
            job.started_at = now()
            stop = threading.Event()

            def keep_beating() -> None:
                while not stop.wait(self.beat):
                    try:
                        self.maintain_heartbeats(job, execution)
                    except Exception:  # the next beat tries again
                        self.log.warning("heartbeat of job %s failed", job.id, exc_info=True)

            beating = threading.Thread(target=keep_beating, name=f"beat-{job.id}", daemon=True)
            beating.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                stop.set()
                beating.join()
            self.set_state(WorkerStatus.IDLE)

    return BeatingWorker


def worker(app: Flask) -> SimpleWorker:
    """A worker for the app's queue, beating every JOB_HEARTBEAT_SECONDS."""
    url = app.config.get("QUEUE_URL")
    if not url:
        raise RuntimeError(
            "QUEUE_URL is not set: jobs run inside the web process. Set QUEUE_URL "
            "(redis://host:6379/0) on the web servers and the workers to use a queue."
        )
    from rq import Queue

    connection = _connection(url)
    beat = int(app.config["JOB_HEARTBEAT_SECONDS"])
    worker_class = _worker_class()
    worker_class.beat = beat
    return worker_class(
        [Queue(QUEUE_NAME, connection=connection)],
        connection=connection,
        # An idle worker wakes at least every few beats to look for jobs whose worker
        # stopped beating (RQ's maintenance: they are retried or failed).
        worker_ttl=3 * beat + 15,
        maintenance_interval=3 * beat,
    )


def work(app: Flask, *, burst: bool = False, max_jobs: int | None = None) -> None:
    """Work the queue in this process until stopped (``burst``: until it is empty;
    ``max_jobs``: after that many)."""
    running = worker(app)
    with app.app_context():
        running.work(burst=burst, with_scheduler=not burst, max_jobs=max_jobs)


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
