"""The audit bundle of a number of enrolments: peak memory growth and MB/s, beside ``zip``.

The bundle is built in a child process (``bundle_memory.measure_existing``) so that its peak
resident memory is its own. Its members are then extracted to a folder and the ``zip``
command stores the same files (``zip -0 -q -r``: no compression, just reading and writing),
which is the floor for putting those bytes in an archive. MB/s is the members' total size
(uncompressed) over the seconds taken, for both.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from tests.benchmarks.bundle_memory import measure_existing
from tests.benchmarks.dataset import Instance

MB = 1024 * 1024


def zip_available() -> bool:
    return shutil.which("zip") is not None


def measure(instance: Instance, count: int, work: Path) -> dict:
    ids = instance.bundle_enrolments(count)
    target = work / f"bundle-{instance.name}-{count}.zip"
    result = measure_existing(instance.database_url, str(instance.evidence_dir), ids, target)
    folder = work / f"bundle-{instance.name}-{count}"
    with zipfile.ZipFile(target) as archive:
        members = archive.infolist()
        archive.extractall(folder)
    content = sum(m.file_size for m in members)
    result.update(members=len(members), content_bytes=content)
    result["mb_per_s"] = content / MB / result["seconds"]
    if zip_available():
        stored = work / f"stored-{instance.name}-{count}.zip"
        started = time.perf_counter()
        subprocess.run(["zip", "-0", "-q", "-r", str(stored), "."], cwd=folder, check=True)
        seconds = time.perf_counter() - started
        result.update(
            zip_seconds=seconds,
            zip_mb_per_s=content / MB / seconds,
            zip_bytes=stored.stat().st_size,
        )
        stored.unlink()
    shutil.rmtree(folder)
    target.unlink()
    return result
