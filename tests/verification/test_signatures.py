"""A drawn signature is taken only as a PNG of sane size with something drawn on it, and is
kept as a PNG the app wrote."""

from __future__ import annotations

import base64
import io
import zlib

import pytest
from PIL import Image

from portfolio.errors import ServiceError
from portfolio.files.signatures import MAX_BYTES, signature_png
from tests.verification.drawn import data_url, png, signed


def test_a_drawn_signature_is_kept_as_a_png_written_here():
    """What is kept decodes as a PNG with the drawing in it, and carries none of the sender's
    chunks (a text chunk smuggled in is gone)."""
    original = png()
    text = _chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")
    smuggled = original[:33] + text + original[33:]
    kept = signature_png(data_url(smuggled))
    assert kept.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<script>" not in kept and b"tEXt" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.size == (600, 160)
        assert image.getextrema()[1] == (0, 255)  # transparent background, opaque ink


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ("", "Sign in the box"),
        ("   ", "Sign in the box"),
        (data_url(png(ink=False)), "The signature box is empty"),
        ("data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff").decode(), "must be a PNG"),
        ("data:image/svg+xml;base64,PHN2Zz4=", "must be a PNG"),
        ("javascript:alert(1)", "must be a PNG"),
        ("data:image/png;base64,not base64 at all!", "could not be read"),
        (data_url(b"GIF89a" + b"\x00" * 100), "could not be read"),
        (data_url(png()[:200]), "could not be read"),
        (data_url(png(4000, 300)), "between 50x20 and 2400x1200"),
        (data_url(png(600, 1500)), "between 50x20 and 2400x1200"),
        (data_url(png(30, 10)), "between 50x20 and 2400x1200"),
        ("data:image/png;base64," + "A" * (MAX_BYTES * 2), "too large"),
    ],
    ids=[
        "nothing",
        "blank",
        "nothing drawn",
        "jpeg",
        "svg",
        "script address",
        "not base64",
        "gif bytes",
        "cut short",
        "too wide",
        "too tall",
        "too small",
        "too many bytes",
    ],
)
def test_anything_but_a_sane_drawn_png_is_refused_in_words(posted: str, message: str):
    """Each refusal says what to do, on the signature field."""
    with pytest.raises(ServiceError) as refused:
        signature_png(posted)
    assert message in refused.value.message and refused.value.field == "signature"


def test_a_png_that_claims_a_huge_canvas_is_refused_before_its_pixels_are_read():
    """A decompression bomb: a few hundred bytes that would be gigabytes of pixels."""
    width = height = 60_000
    header = b"\x89PNG\r\n\x1a\n" + _chunk(
        b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x06\x00\x00\x00"
    )
    row = b"\x00" + b"\x00" * (width * 4)
    bomb = header + _chunk(b"IDAT", zlib.compress(row * 10, 9)) + _chunk(b"IEND", b"")
    with pytest.raises(ServiceError, match="between 50x20"):
        signature_png(data_url(bomb))


def test_a_greyscale_drawing_on_white_counts_as_signed():
    """A pad that paints a white background: the dark strokes are the ink."""
    assert signature_png(data_url(png(mode="L")))
    assert signature_png(signed())


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data).to_bytes(4, "big")
    return len(data).to_bytes(4, "big") + kind + data + crc
