"""The app under gunicorn with ``gunicorn.conf.py``, as ``make serve`` runs it, on a free port.

The environment differs from production in one setting only: ``PORTFOLIO_ENV`` is not
"production", so the session cookie is not marked Secure and a plain-http client can send it
back. gunicorn's access log goes to a file, as a service manager would take it.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from portfolio.config import PROJECT_ROOT
from tests.benchmarks.dataset import Instance
from tests.benchmarks.postgres import free_port


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes: the master's children."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return _children_by_scan(self.process.pid)


def _children_by_scan(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def status_kb(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in kB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (Linux: ``5 > /proc/<pid>/clear_refs``)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@contextmanager
def gunicorn(
    instance: Instance,
    work: Path,
    *,
    workers: int | None = None,
    max_upload_mb: int = 150,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """gunicorn serving ``instance`` (with more ``settings`` in its environment); stopped
    (and waited for) when the block ends."""
    port = free_port()
    extra = {
        **(settings or {}),
        "PORTFOLIO_BIND": f"127.0.0.1:{port}",
        "MAX_UPLOAD_MB": str(max_upload_mb),
    }
    if workers:
        extra["WEB_CONCURRENCY"] = str(workers)
    env = instance.environment(**extra)
    log = work / f"gunicorn-{instance.name}-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "portfolio:create_app()"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server("127.0.0.1", port, process, log)
    try:
        _wait_until_serving(server, expected_workers=workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(server: Server, expected_workers: int | None) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{tail}")
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                break
        except OSError:
            pass  # not listening yet, or a worker restarted mid-answer: ask again
        finally:
            connection.close()
        time.sleep(0.2)
    else:
        raise RuntimeError("gunicorn did not answer within 90 s")
    # Every worker has booted (each imports the app on its own: preload_app is off) and gone
    # quiet, so no worker is still starting up when the measurements begin.
    previous: dict[int, int] = {}
    while time.monotonic() < deadline:
        time.sleep(0.3)
        pids = server.worker_pids()
        if not pids or (expected_workers is not None and len(pids) < expected_workers):
            continue
        now = {pid: cpu_ticks(pid) for pid in pids}
        if now == previous:
            return
        previous = now


def cpu_ticks(pid: int) -> int:
    """User and system CPU time of a process so far, in clock ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])


def cpu_count() -> int:
    return os.cpu_count() or 1
