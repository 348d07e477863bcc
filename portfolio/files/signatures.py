"""Drawn signatures: what a signature pad posts, checked and written again as a plain PNG.

The browser sends the drawing as a ``data:image/png;base64,...`` address. Only a PNG of sane
size is taken: its bytes are bounded before they are decoded, its width and height before its
pixels are, and what is kept is a new PNG written from the pixels (no text chunks, no colour
profile, nothing of the sender's file but the drawing), so the image the pack and the pages
show is one this app made.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

from PIL import Image, ImageChops, UnidentifiedImageError

from portfolio.errors import ServiceError

#: What a drawing on a phone or a desktop canvas comes to, with room to spare.
MAX_BYTES = 300 * 1024
MAX_WIDTH = 2400
MAX_HEIGHT = 1200
MIN_INKED_PIXELS = 30
UNREADABLE = "The signature could not be read: clear the box and sign again."
_PREFIX = "data:image/png;base64,"


def signature_png(posted: str, *, field: str = "signature") -> bytes:
    """The drawing ``posted`` by a signature pad as a PNG written here, or a refusal in words."""
    posted = (posted or "").strip()
    if not posted:
        raise ServiceError(
            "Sign in the box: draw your signature with a finger or the mouse.", field
        )
    if not posted.startswith(_PREFIX):
        raise ServiceError("The signature must be a PNG image drawn in the box.", field)
    encoded = posted[len(_PREFIX) :]
    if len(encoded) > MAX_BYTES * 4 // 3 + 4:
        raise ServiceError("The signature image is too large: clear the box and sign again.", field)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError(UNREADABLE, field) from None
    return _rewritten(data, field)


def _rewritten(data: bytes, field: str) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                width, height = image.size
                if width > MAX_WIDTH or height > MAX_HEIGHT or width < 50 or height < 20:
                    raise _wrong_size(field)
                image.load()
                drawing = image.convert("LA")
    except ServiceError:
        raise
    except Image.DecompressionBombError:
        raise _wrong_size(field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning):
        raise ServiceError(UNREADABLE, field) from None
    # Ink: a pixel that is neither (nearly) transparent nor (nearly) white, counted in C.
    luminance, alpha = drawing.split()
    ink = ImageChops.multiply(
        luminance.point(lambda v: 255 if v < 224 else 0),
        alpha.point(lambda v: 255 if v > 32 else 0),
    )
    inked = ink.histogram()[255]
    if inked < MIN_INKED_PIXELS:
        raise ServiceError("The signature box is empty: sign in the box before you send.", field)
    out = io.BytesIO()
    drawing.save(out, format="PNG", optimize=True)
    return out.getvalue()


def declaration_signature(posted: str | None, *, required: bool) -> bytes | None:
    """The drawing under a declaration: needed where the RTO asks for one (SIGNED_DECLARATIONS),
    kept if one was drawn anyway, else none."""
    if not required and not (posted or "").strip():
        return None
    return signature_png(posted or "")


def _wrong_size(field: str) -> ServiceError:
    return ServiceError(
        f"The signature image must be between 50x20 and {MAX_WIDTH}x{MAX_HEIGHT} pixels: clear "
        "the box and sign again.",
        field,
    )


def data_url(png: bytes) -> str:
    """A stored signature as an address an <img> shows without another request."""
    return _PREFIX + base64.b64encode(png).decode("ascii")
