"""Word previews cannot be turned against the server: zip bombs and swarms of entries are
refused unopened, the conversion runs in a child process killed at its limits, and each file
is converted at most once."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from portfolio.files.archives import ArchiveRefused, ZipLimits, check_zip, directory_of
from portfolio.files.filetypes import sniff_file
from portfolio.previews import RETRY_AFTER, PreviewCache, PreviewLimits, word_preview
from portfolio.rendering import PreviewUnavailable
from tests.files import docx_bytes

MB = 1024 * 1024
_PARAGRAPH = b"<w:p><w:r><w:t>All work and no play makes a dull portfolio.</w:t></w:r></w:p>" * 64


def rebuilt(extra_parts: int = 0, document_mb: int = 0) -> bytes:
    """A real .docx with its main text inflated to ``document_mb`` or ``extra_parts`` added."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes("Complaint log")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml" and document_mb:
                head, _, tail = data.partition(b"</w:body>")
                with target.open(info.filename, "w", force_zip64=True) as part:
                    part.write(head)
                    for _ in range(document_mb * MB // len(_PARAGRAPH)):
                        part.write(_PARAGRAPH)
                    part.write(b"</w:body>" + tail)
            else:
                target.writestr(info.filename, data)
        for n in range(extra_parts):
            target.writestr(f"word/extra/part{n}.xml", b"<x/>")
    return out.getvalue()


def test_a_bomb_that_unpacks_far_beyond_its_size_is_refused_unopened() -> None:
    bomb = rebuilt(document_mb=64)
    assert len(bomb) < MB  # under a megabyte on disk, 64 MB of text inside
    started = time.perf_counter()
    with pytest.raises(ArchiveRefused, match=r"main text \(word/document.xml\) unpacks to 64 MB"):
        check_zip(io.BytesIO(bomb), ZipLimits(parts=(("word/document.xml", 48 * MB),)))
    assert time.perf_counter() - started < 1  # the directory is read, nothing is unpacked


def test_a_swarm_of_entries_is_refused_from_the_end_record_alone() -> None:
    swarm = io.BytesIO(rebuilt(extra_parts=20_000))
    assert directory_of(swarm)[0] > 20_000
    with pytest.raises(ArchiveRefused, match=r"holds 20,0\d\d parts; more than 5,000"):
        check_zip(swarm)
    # The type check does not parse such a directory either: it is not a document we take.
    assert sniff_file(swarm, "log.docx") is None
    assert sniff_file(io.BytesIO(docx_bytes("Log")), "log.docx").name == "docx"


def test_a_file_that_is_not_a_zip_is_refused_in_words() -> None:
    with pytest.raises(ArchiveRefused, match="not a complete zip container"):
        check_zip(io.BytesIO(b"PK\x03\x04 and then nothing"))


def cache_in(tmp_path: Path) -> PreviewCache:
    return PreviewCache(tmp_path / "previews")


def test_the_preview_is_made_in_a_child_and_kept_by_its_sha256(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    sha = "a" * 64
    html = word_preview(io.BytesIO(docx_bytes("Complaint log")), sha, cache)
    assert "Resolved within 24 hours." in html
    kept = tmp_path / "previews" / f"{sha}.v1.html"
    assert kept.read_text() == str(html)
    assert kept.stat().st_mode & 0o077 == 0  # readable by the app alone
    # Asked again, the kept copy answers: not even the file is read.
    assert word_preview(io.BytesIO(b""), sha, cache) == html


def test_a_conversion_past_its_time_is_killed_and_the_reason_kept(tmp_path: Path) -> None:
    cache = cache_in(tmp_path)
    sha = "b" * 64
    hurried = PreviewLimits(seconds=0.05)
    with pytest.raises(PreviewUnavailable, match="takes too long to convert"):
        word_preview(io.BytesIO(rebuilt(document_mb=8)), sha, cache, hurried)
    # The same file is not converted again for an hour: its reason is kept with it...
    with pytest.raises(PreviewUnavailable, match="takes too long to convert"):
        word_preview(io.BytesIO(b""), sha, cache)
    # ...then it is tried again (a busy machine, not the file, may have been too slow).
    kept = tmp_path / "previews" / f"{sha}.v1.timed-out"
    an_hour_ago = time.time() - RETRY_AFTER - 1
    os.utime(kept, (an_hour_ago, an_hour_ago))
    html = word_preview(io.BytesIO(docx_bytes("Complaint log")), sha, cache)
    assert "Resolved within 24 hours." in html
    assert not kept.exists()


def test_a_conversion_past_its_memory_dies_in_the_child_not_the_server(tmp_path: Path) -> None:
    starved = PreviewLimits(memory_mb=64)
    with pytest.raises(PreviewUnavailable, match="needs more memory or time than a preview"):
        word_preview(io.BytesIO(rebuilt(document_mb=8)), "c" * 64, cache_in(tmp_path), starved)
