"""Images as the browser uploads them: encoded in memory, wrapped as dcc.Upload data URLs."""

from __future__ import annotations

import base64
import io

from PIL import Image


def encode_image(img: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    """Save a Pillow image to bytes in memory."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def to_data_url(data: bytes, mime: str = "image/png") -> str:
    """Wrap bytes as a dcc.Upload-style data URL."""
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
