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
import struct
import warnings
import zlib
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
    keep.save(path, format="PNG", compress_level=1)  # a working file, read once: speed over size
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
    """A PNG as raw base64 with ``parameters`` in its "parameters" chunk: the file's chunks as written (pixels
    not decoded nor compressed again), its old "parameters" text chunk replaced by the new one."""
    data = path.read_bytes()
    if data[:8] != _PNG_SIGNATURE:
        raise ValueError(f"{path} is not a PNG")
    chunks, at, written = [], 8, False
    while at < len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        end = at + 12 + length
        if kind in (b"IDAT", b"IEND") and not written:  # before the pixels: readers see it without decoding them
            chunks.append(_text_chunk(parameters))
            written = True
        if not (kind in (b"tEXt", b"iTXt", b"zTXt") and body.split(b"\0", 1)[0] == b"parameters"):
            chunks.append(data[at:end])
        at = end
    return base64.b64encode(_PNG_SIGNATURE + b"".join(chunks)).decode("ascii")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _text_chunk(text: str) -> bytes:
    """A tEXt chunk (Latin-1 text), else an uncompressed iTXt (UTF-8), as PIL's PngInfo writes them."""
    try:
        kind, body = b"tEXt", b"parameters\0" + text.encode("latin-1")
    except UnicodeEncodeError:
        kind, body = b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8")
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_base64(pixels) -> str:
    """An RGB array (a control map) as raw base64 PNG."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
