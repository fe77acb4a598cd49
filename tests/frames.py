"""A job store's finished frames, as the tests compare them."""

from __future__ import annotations

import hashlib
from pathlib import Path


def frame_digests(folder: Path) -> dict[str, str]:
    """Name → sha256 of each finished frame (``00012.png``). A writer's hidden temp (``.00019.part.png``, which a
    SIGKILL mid-write leaves until the next run removes it) is not a finished frame."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).glob("[0-9]*.png"))}
