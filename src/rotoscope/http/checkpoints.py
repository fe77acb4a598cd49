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

    def as_json(self) -> dict:
        return {"title": self.title, "model_name": Path(self.title).stem, "hash": None, "sha256": None,
                "filename": self.model, "config": None}


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def scan(models_dir: Path | None, extra: tuple[str, ...] = ()) -> list[Checkpoint]:
    found = [Checkpoint(name, name) for name in dict.fromkeys((*extra, *BUILT_IN))]
    if models_dir is None or not models_dir.is_dir():
        return found
    for entry in sorted(models_dir.iterdir()):
        if not _inside(entry, models_dir):  # a symlink out of the folder is not offered
            continue
        if entry.is_dir() and (entry / "model_index.json").is_file():
            found.append(Checkpoint(entry.name, str(entry.resolve())))
        elif entry.is_file() and entry.suffix.lower() in SINGLE_FILES:
            found.append(Checkpoint(entry.name, str(entry.resolve())))
    return found


def find(checkpoints: list[Checkpoint], name: str) -> Checkpoint:
    """By title (case-insensitive, as the client lowers names), or its title without an A1111 "[hash]"."""
    wanted = name.split(" [")[0].strip().lower()
    for c in checkpoints:
        if wanted in (c.title.lower(), Path(c.title).stem.lower()):
            return c
    raise ApiError(404, f"model {name!r} not found; GET /sdapi/v1/sd-models lists the ones this server has",
                   "NotFound")
