"""A throwaway PostgreSQL cluster for the benchmarks, started the way ``.ci/run`` starts one.

``initdb`` into a temporary folder, ``pg_ctl`` on a free port on 127.0.0.1 (as the postgres
user through ``runuser`` when running as root, since PostgreSQL refuses to run as root), and
everything removed again on the way out. ``fsync`` and ``full_page_writes`` are off, as in CI:
the data is thrown away, and writing it is not what is measured.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine, or the cluster would not start."""


@dataclass
class Cluster:
    port: int
    bindir: str
    version: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        subprocess.run(
            _as_postgres(
                [f"{self.bindir}/createdb", "-h", "127.0.0.1", "-p", str(self.port), name]
            ),
            check=True,
            capture_output=True,
        )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        subprocess.run(
            _as_postgres(
                [
                    f"{self.bindir}/dropdb",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "--if-exists",
                    name,
                ]
            ),
            check=False,
            capture_output=True,
        )


def find_bindir() -> str | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), or one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in p.split("/")[-2].split(".") if x.isdigit()],
    )
    for candidate in reversed(found):
        if os.access(os.path.join(candidate, "initdb"), os.X_OK):
            return candidate
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster; stop it and delete its files however the block ends."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable("no PostgreSQL server binaries (initdb, pg_ctl) were found")
    root = tempfile.mkdtemp(prefix="portfolio-bench-pg.")
    if os.geteuid() == 0:
        try:
            shutil.chown(root, "postgres")
        except (LookupError, OSError) as error:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"cannot run PostgreSQL as root: {error}") from error
    data = os.path.join(root, "data")
    port = free_port()
    started = False
    try:
        try:
            initdb = [f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust"]
            subprocess.run(
                _as_postgres([*initdb, "-E", "UTF8", "--no-sync"]),
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError as error:
            raise PostgresUnavailable(
                f"initdb failed: {(error.stderr or b'').decode(errors='replace')}"
            ) from error
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off "
            "-c full_page_writes=off"
        )
        start = [f"{bindir}/pg_ctl", "-D", data, "-l", f"{root}/server.log", "-w"]
        result = subprocess.run(
            _as_postgres([*start, "-o", options, "start"]),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {result.stderr or result.stdout}")
        started = True
        version = subprocess.run(
            [f"{bindir}/postgres", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        found = re.search(r"\(PostgreSQL\) (\S+)", version)
        yield Cluster(port=port, bindir=bindir, version=found.group(1) if found else version)
    finally:
        if started:
            subprocess.run(
                _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
