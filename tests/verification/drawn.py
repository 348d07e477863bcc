"""A verifier as the tests name them, and signatures as a signature pad posts them (PNG
images as data: addresses)."""

from __future__ import annotations

import base64
import io

from PIL import Image, ImageDraw

#: The workplace supervisor the learner names.
SUPERVISOR = {
    "name": "Sam Supervisor",
    "email": "sam.supervisor@depot.example.com",
    "position": "Depot manager",
    "organisation": "Harbour Freight Depot",
    "relationship": "Direct supervisor since March 2024",
}


def png(width: int = 600, height: int = 160, *, ink: bool = True, mode: str = "RGBA") -> bytes:
    """A transparent canvas with a scrawl across it (or nothing drawn)."""
    image = Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else 255)
    if ink:
        draw = ImageDraw.Draw(image)
        draw.line(
            [(10, height - 20), (width // 3, 20), (width // 2, height - 30), (width - 10, 30)],
            fill=(0, 0, 0, 255) if mode == "RGBA" else 0,
            width=4,
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def signed() -> str:
    """A signature as the pad sends it."""
    return data_url(png())
