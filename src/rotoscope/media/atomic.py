"""Files appear only when complete: write to a hidden temp name beside the target, then rename."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import OutputError


def temp_path_for(path: Path) -> Path:
    """A temp name in the same folder (so the final rename is atomic), keeping the extension."""
    return path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")


def prepare_output(path: Path, *, overwrite: bool) -> None:
    """Create the folder, refuse to clobber a user's file, check we can write there."""
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; pass --overwrite to replace it, or choose another -o.")
    prepare_folder(path.parent)


def prepare_folder(folder: Path) -> None:
    """Create an output folder (and its parents) and check we can write in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder} ({exc.strerror}); choose another -o.") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output folder {folder} is not writable; choose another -o or fix its permissions.")


def commit(temp: Path, final: Path) -> None:
    os.replace(temp, final)


def discard(temp: Path) -> None:
    try:
        temp.unlink()
    except FileNotFoundError:
        pass


def write_bytes_atomic(path: Path, data: bytes) -> None:
    temp = temp_path_for(path)
    temp.write_bytes(data)
    commit(temp, path)
