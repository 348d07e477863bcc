"""Servers the tests start for real (SeaweedFS, Redis, clamd): a process in a session of its
own, waited for until it answers, stopped (and waited for) when the block ends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running(
    command: list[str],
    *,
    ready: Callable[[], bool],
    what: str,
    log: Path | None = None,
    timeout: float = 60,
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running until the block ends; ``ready()`` says when it answers (it
    returns False, not raises, while the server is still starting)."""
    out = log.open("wb") if log else None
    process = subprocess.Popen(
        command,
        stdout=out or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                if out:
                    out.flush()
                tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{what} did not start: {tail}")
            time.sleep(0.1)
        yield process
    finally:
        # A throwaway server: a few seconds to stop, then killed. (SeaweedFS takes 20 s to
        # shut down on SIGTERM, at the end of every test session and benchmark that used it.)
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if out:
            out.close()
