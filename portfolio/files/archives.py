"""Zip containers (Word, Excel, OpenDocument files) measured before anything unpacks them.

A .docx of half a megabyte can inflate to gigabytes, or hold half a million entries whose
directory alone takes seconds and hundreds of megabytes to parse. ``check_zip`` reads the
end-of-directory record first (a few bytes at the end of the file), refuses a directory too
large before Python parses it, then adds up the sizes the directory declares. Python's
``zipfile`` never returns more than an entry's declared size, so the declared sizes bound
what any later reader gets.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF


class ArchiveRefused(ValueError):
    """The file is not a zip we will open; the message says why in plain words."""


class ArchiveTooLarge(ArchiveRefused):
    """A sound zip, but one that holds too many parts or unpacks too large."""


@dataclass(frozen=True)
class ZipLimits:
    """What a container may hold before it is refused unopened."""

    entries: int = 5_000
    directory_bytes: int = 2 * 1024 * 1024
    total_bytes: int = 256 * 1024 * 1024
    #: Named parts with their own limit, e.g. ``{"word/document.xml": 64 MiB}``.
    parts: tuple[tuple[str, int], ...] = ()


#: Any office document: what the type check will look into.
DOCUMENT = ZipLimits()
#: Word documents read for a preview.
WORD = ZipLimits(total_bytes=128 * 1024 * 1024, parts=(("word/document.xml", 48 * 1024 * 1024),))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def directory_of(fp: BinaryIO) -> tuple[int, int]:
    """The number of entries and the size in bytes of a zip's central directory, from its
    end record alone; raises ``ArchiveRefused`` if the file is not a zip."""
    fp.seek(0, 2)
    size = fp.tell()
    tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or at + _EOCD_SIZE > len(tail):
        raise ArchiveRefused("This file is not a complete zip container.")
    entries, directory_bytes = struct.unpack_from("<HI", tail, at + 10)
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        # ZIP64: the locator just before the end record points at the 64-bit record.
        locator = at - 20
        if locator < 0 or tail[locator : locator + 4] != _EOCD64_LOCATOR:
            raise ArchiveRefused("This file's zip directory is damaged.")
        (record_offset,) = struct.unpack_from("<Q", tail, locator + 8)
        fp.seek(record_offset)
        record = fp.read(56)
        if len(record) < 56 or not record.startswith(_EOCD64):
            raise ArchiveRefused("This file's zip directory is damaged.")
        entries, directory_bytes = struct.unpack_from("<QQ", record, 32)
    return entries, directory_bytes


def check_zip(fp: BinaryIO, limits: ZipLimits = ZipLimits()) -> None:
    """Refuse a zip that would cost too much to open or unpack; leaves ``fp`` at the start."""
    try:
        entries, directory_bytes = directory_of(fp)
        if entries > limits.entries or directory_bytes > limits.directory_bytes:
            raise ArchiveTooLarge(
                f"This file holds {entries:,} parts; more than {limits.entries:,} are not opened."
            )
        fp.seek(0)
        try:
            with zipfile.ZipFile(fp) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error) as error:
            raise ArchiveRefused("This file's zip directory is damaged.") from error
        total = sum(info.file_size for info in infos)
        if total > limits.total_bytes:
            raise ArchiveTooLarge(
                f"This file unpacks to {_megabytes(total)}; more than "
                f"{_megabytes(limits.total_bytes)} is not opened."
            )
        sizes = {info.filename: info.file_size for info in infos}
        for name, limit in limits.parts:
            if sizes.get(name, 0) > limit:
                raise ArchiveTooLarge(
                    f"Its main text ({name}) unpacks to {_megabytes(sizes[name])}; more than "
                    f"{_megabytes(limit)} is not opened."
                )
    finally:
        fp.seek(0)
