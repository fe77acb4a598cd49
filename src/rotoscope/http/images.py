"""Images in and out of the API: base64 (raw or ``data:image/...;base64,``) → a PNG file in the request's
folder, and a PNG file → raw base64 with its "parameters" chunk kept.

Images are only ever inline: a URL or a path is refused, so the server never fetches a network address
nor reads a file a client names.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import warnings
from pathlib import Path

from PIL import Image

from .errors import ApiError

_DATA_URI = re.compile(r"^data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def decode_image(text: object, field: str, max_pixels: int) -> Image.Image:
    """The image a field holds; 422 for anything not inline base64, 413 for more than ``max_pixels`` pixels."""
    if not isinstance(text, str) or not text:
        raise ApiError(422, f"{field}: expected a base64-encoded image")
    if _URL.match(text):
        raise ApiError(422, f"{field}: images are sent inline as base64; URLs are not fetched")
    payload = _DATA_URI.sub("", text, count=1)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, f"{field}: not valid base64") from None
    Image.MAX_IMAGE_PIXELS = None  # our own cap below, checked from the header before any pixel is decoded
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            raise ApiError(413, f"{field}: {image.width}x{image.height} is more than the server's cap of "
                           f"{max_pixels} pixels")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
    except ApiError:
        raise
    except Exception as exc:  # PIL raises many types for a broken file
        raise ApiError(422, f"{field}: not a readable image ({type(exc).__name__})") from None
    return image


def save_input(image: Image.Image, path: Path) -> Path:
    """Written as PNG (RGBA kept: the mask reader takes a transparent mask's alpha, as the web UI does)."""
    keep = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA" if "transparency" in image.info else "RGB")
    keep.save(path, format="PNG")
    return path


# the server-side path of the request's mask file: not the client's business, and it names our folders
_MASK_PATH = re.compile(r', Mask: (?:"(?:[^"\\]|\\.)*"|[^,\n]*)')


def infotext_of(path: Path, model: str, title: str) -> str:
    """The infotext written with the image, naming the model by its title, not by where it lies on the server."""
    with Image.open(path) as image:
        text = _MASK_PATH.sub("", image.info.get("parameters", ""))
    for written in (json.dumps(model), model):
        text = text.replace(f"Model: {written}", f"Model: {title}")
    return text


def encode_png(path: Path, parameters: str) -> str:
    """A PNG as raw base64 with ``parameters`` in its "parameters" chunk (pixels as written)."""
    from PIL import PngImagePlugin

    with Image.open(path) as image:
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", parameters)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def png_base64(pixels) -> str:
    """An RGB array (a control map) as raw base64 PNG."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
