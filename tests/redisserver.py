"""A real Redis (Debian's redis-server; Valkey answers the same) for the job queue's tests,
started on a free local port in a folder of its own, keeping nothing on disk."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import running


def redis_binary() -> str | None:
    return shutil.which("redis-server") or shutil.which("valkey-server")


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """The URL of a fresh Redis until the block ends."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    with running(command, ready=answers, what="redis-server", timeout=20):
        yield f"redis://127.0.0.1:{port}/0"
