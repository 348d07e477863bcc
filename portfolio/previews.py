"""Word files read in the browser: converted in a separate process with limits, cached.

A Word file is a zip, and a small one can unpack to gigabytes or take minutes to convert. A
preview is therefore made in three steps:

1. the container is measured first (``files.archives.check_zip``): too many parts, or parts
   that unpack too large, are refused before anything is unpacked;
2. the conversion (mammoth, then the sanitiser) runs in a child process with a ceiling on its
   memory and CPU time and a wall-clock limit, and is killed at the limit; its output is capped;
3. the sanitised HTML, or the reason there is none, is kept under the file's SHA-256 in the
   instance folder, so each file is converted at most once.

``main([MEMORY_MB, CPU_SECONDS, OUTPUT_BYTES])`` is the child: a .docx on stdin, the sanitised
HTML on stdout.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from markupsafe import Markup

from portfolio.files.archives import WORD, ArchiveRefused, check_zip
from portfolio.files.uploads import storage
from portfolio.models.base import StoredFileColumns
from portfolio.rendering import PreviewUnavailable, preview_docx

#: Part of every cached file's name: bump it when the sanitiser's output changes.
FORMAT = 1

_DOWNLOAD = "Download it to open it."
_NOT_WORD = 2
_TOO_LONG = 3
_OUT_OF_MEMORY = 4


@dataclass(frozen=True)
class PreviewLimits:
    seconds: float = 20.0
    memory_mb: int = 768
    output_bytes: int = 8 * 1024 * 1024


#: Seconds a conversion that ran out of time is not tried again. Past the wall-clock limit
#: may mean a busy machine rather than a hostile file, so it is tried again later; anything
#: else a file is refused for (its size, its memory, not being Word) is kept for good.
RETRY_AFTER = 3600


class TimedOut(PreviewUnavailable):
    """The conversion was killed at its wall-clock limit."""


class PreviewCache:
    """Sanitised previews, and the reasons for the files that have none, by SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, sha256: str, suffix: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.folder / f"{sha256}.v{FORMAT}.{suffix}"

    def get(self, sha256: str) -> Markup | None:
        """The cached preview; ``PreviewUnavailable`` if the file is known to have none, or
        timed out less than ``RETRY_AFTER`` ago (a busy machine may manage it later)."""
        refused = self._path(sha256, "refused")
        if refused.exists():
            raise PreviewUnavailable(refused.read_text(encoding="utf-8"))
        timed_out = self._path(sha256, "timed-out")
        try:
            if time.time() - timed_out.stat().st_mtime < RETRY_AFTER:
                raise PreviewUnavailable(timed_out.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        html = self._path(sha256, "html")
        if html.exists():
            return Markup(html.read_text(encoding="utf-8"))  # sanitised before it was kept
        return None

    def forget_timeout(self, sha256: str) -> None:
        self._path(sha256, "timed-out").unlink(missing_ok=True)

    def put(self, sha256: str, suffix: str, text: str) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._path(sha256, suffix)
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        partial.replace(target)


def word_preview(
    fp: BinaryIO, sha256: str, cache: PreviewCache, limits: PreviewLimits = PreviewLimits()
) -> Markup:
    """The file's preview, made once; ``PreviewUnavailable`` says why there is none."""
    cached = cache.get(sha256)
    if cached is not None:
        return cached
    try:
        html = _convert(fp, limits)
    except TimedOut as slow:
        cache.put(sha256, "timed-out", str(slow))
        raise
    except PreviewUnavailable as refused:
        cache.put(sha256, "refused", str(refused))
        raise
    cache.put(sha256, "html", html)
    cache.forget_timeout(sha256)
    return Markup(html)


def _convert(fp: BinaryIO, limits: PreviewLimits) -> str:
    try:
        check_zip(fp, WORD)
    except ArchiveRefused as refused:
        raise PreviewUnavailable(f"{refused} There is no preview. {_DOWNLOAD}") from refused
    command = [
        sys.executable,
        "-c",
        "import sys; from portfolio.previews import main; sys.exit(main(sys.argv[1:]))",
        str(limits.memory_mb),
        str(max(1, int(limits.seconds))),
        str(limits.output_bytes),
    ]
    with _real_file(fp) as source:
        child = subprocess.Popen(
            command, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            out, err = child.communicate(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise TimedOut(
                f"This document takes too long to convert for a preview. {_DOWNLOAD}"
            ) from None
    if child.returncode == 0:
        return out.decode("utf-8")
    if child.returncode == _NOT_WORD:
        raise PreviewUnavailable(err.decode("utf-8", "replace").strip())
    if child.returncode == _TOO_LONG:
        raise PreviewUnavailable(f"This document is too long to show as a preview. {_DOWNLOAD}")
    raise PreviewUnavailable(
        f"This document needs more memory or time than a preview is given. {_DOWNLOAD}"
    )


@contextlib.contextmanager
def _real_file(fp: BinaryIO) -> Iterator[BinaryIO]:
    """``fp`` itself if the child can read it as its stdin, else a temporary copy of it."""
    try:
        fp.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        with tempfile.TemporaryFile() as copy:
            shutil.copyfileobj(fp, copy)
            copy.seek(0)
            yield copy
        return
    yield fp


def _ran_out_of_memory(error: BaseException) -> bool:
    """Whether the limit, not the file, stopped the conversion: a MemoryError, or zlib's own
    "insufficient memory" when inflating a part, somewhere in the chain of causes."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        if isinstance(seen, zlib.error) and "memory" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reached(memory: int) -> bool:
    """Whether this process's address space came within 10% of its ceiling: out of memory,
    whatever exception a C extension turned that into."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) * 1024 >= memory * 0.9
    return False


def main(argv: list[str]) -> int:
    """The child process: limits itself, converts stdin, writes the HTML or an exit code."""
    import resource

    memory_mb, cpu_seconds, output_bytes = (int(arg) for arg in argv[:3])
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    try:
        data = sys.stdin.buffer.read()
        html = str(preview_docx(io.BytesIO(data)))
    except PreviewUnavailable as refused:
        if _ran_out_of_memory(refused) or _reached(memory):
            return _OUT_OF_MEMORY
        sys.stderr.write(str(refused))
        return _NOT_WORD
    except MemoryError:
        return _OUT_OF_MEMORY
    encoded = html.encode("utf-8")
    if len(encoded) > output_bytes:
        return _TOO_LONG
    sys.stdout.buffer.write(encoded)
    return 0


def stored_preview(stored: StoredFileColumns) -> tuple[Markup | None, str | None]:
    """A stored Word file's preview in the running app, or None and why there is none."""
    try:
        with storage().open(stored.storage_key) as fp:
            return word_preview(fp, stored.sha256, *app_previews()), None
    except PreviewUnavailable as error:
        return None, str(error)


def app_previews() -> tuple[PreviewCache, PreviewLimits]:
    """The running app's cache (``instance/previews``) and limits (``PREVIEW_*`` settings)."""
    config = current_app.config
    limits = PreviewLimits(
        seconds=float(config["PREVIEW_SECONDS"]), memory_mb=int(config["PREVIEW_MEMORY_MB"])
    )
    return PreviewCache(Path(current_app.instance_path) / "previews"), limits
