"""The models a client may pick (``/sdapi/v1/sd-models``): the built-in tiny model and what ``--models-dir``
holds (diffusers folders, ``.safetensors`` / ``.ckpt`` files).

A client names a model by its title only; the path comes from this list, so no request can point the loader
at a path of its own (``../``, absolute, URL-encoded, a hub id).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ApiError

BUILT_IN = ("tiny",)
SINGLE_FILES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class Checkpoint:
    title: str
    model: str  # what the option model's ``model`` takes: a built-in name or a path inside --models-dir
    hash: str | None = None  # the web UI's short hash (sha256, 10 hex) of a single file

    def as_json(self) -> dict:
        return {"title": self.title, "model_name": Path(self.title).stem, "hash": self.hash, "sha256": None,
                "filename": self.model, "config": None}


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def scan(models_dir: Path | None, extra: tuple[str, ...] = ()) -> list[Checkpoint]:
    found = [Checkpoint(name, name) for name in dict.fromkeys((*extra, *BUILT_IN))]
    if models_dir is None or not models_dir.is_dir():
        return found
    from ..api import model_files  # one scanner for every face: A1111 / ComfyUI folders or a flat one

    for f in model_files(models_dir, follow_links=False, compute_hashes=False):  # hashes once known (no gigabytes read per request)
        path = Path(f.path)
        if f.kind != "checkpoint" or not _inside(path, models_dir):  # a symlink out of the folder is not offered
            continue
        if path.is_dir() or path.suffix.lower() in SINGLE_FILES:
            found.append(Checkpoint(path.name, str(path.resolve()), f.hash if f.hash not in ("", "-") else None))
    return found


def find(checkpoints: list[Checkpoint], name: str) -> Checkpoint:
    """By title (case-insensitive, as the client lowers names), or its title without an A1111 "[hash]"."""
    wanted = name.split(" [")[0].strip().lower()
    for c in checkpoints:
        if wanted in (c.title.lower(), Path(c.title).stem.lower()):
            return c
    raise ApiError(404, f"model {name!r} not found; GET /sdapi/v1/sd-models lists the ones this server has",
                   "NotFound")
