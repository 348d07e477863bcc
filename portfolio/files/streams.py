"""A stream read from an iterator of chunks: a generated file (an audit bundle's ZIP) saved to
the evidence store the way an upload is, without holding it whole."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any


class ChunkStream(io.RawIOBase):
    """Read-only, unseekable; ``bytes_read`` counts what the reader has taken."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.bytes_read += count
        return count
