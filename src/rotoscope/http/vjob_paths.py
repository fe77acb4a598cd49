"""What a video-job request may name, checked before any path is built from it.

- Job ids are made by the server (``uuid4().hex``); one from a URL must be 32 lowercase hex digits.
- Output names are bare file names (no folder) matched by :data:`OUTPUT_NAME_PATTERN`, and must be one
  the job was given.
- A server-side ``source`` is a relative path inside one folder (``--media-dir``, default
  ``JOBS_DIR/inputs``): URLs, absolute paths, ``..``, percent-encoded text and symlinks leading out of
  the folder are refused before anything is opened. Nothing is ever fetched.
- Options that name files on the server (LoRA, VAE, masks, ``--from``, …) are not taken over HTTP; the
  model is chosen by its title in ``/sdapi/v1/sd-models``.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from .errors import ApiError

JOB_ID = re.compile(r"[0-9a-f]{32}")
OUTPUT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[A-Za-z0-9]{1,5}$"
_OUTPUT_NAME = re.compile(OUTPUT_NAME_PATTERN)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")  # http:, file:, data:, C: …
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")

#: options whose values are files or folders on the server (or hub downloads): not taken from a client
SERVER_FILES = frozenset({"from_", "vae", "lora", "embedding", "model_config", "mask", "control_image_dir",
                          "control_model", "motion_adapter", "video_model", "lcm_lora"})
#: what an uploaded clip's file name may end with (the container is read from the file itself)
CLIP_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif", ".webp", ".apng", ".png")


def job_id(text: str) -> str:
    if not JOB_ID.fullmatch(text):
        raise ApiError(404, "no such job; ids are the ones POST /rotoscope/v1/jobs answered", "NotFound")
    return text


def output_name(text: object, known: list[str] | None = None) -> str:
    if not isinstance(text, str) or not _OUTPUT_NAME.fullmatch(text):
        raise ApiError(422 if known is None else 404, f"output names are bare file names like output.gif, not {text!r}")
    if known is not None and text not in known:
        raise ApiError(404, f"this job has no output {text!r}; it has {', '.join(known)}", "NotFound")
    return text


def clip_suffix(name: object) -> str:
    suffix = PurePosixPath(str(name or "clip.mp4")).suffix.lower()
    if suffix not in CLIP_SUFFIXES:
        raise ApiError(422, f"filename: an uploaded clip ends with one of {', '.join(CLIP_SUFFIXES)}")
    return suffix


def check_source_text(text: object) -> PurePosixPath:
    """The relative path a request's ``source`` names, refused when it could lead anywhere else."""
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ApiError(422, "source: a path relative to the server's media folder")
    if _URL.match(text) or text.startswith("//"):
        raise ApiError(422, "source: a path inside the server's media folder; URLs are not fetched")
    pure = PurePosixPath(text)
    if pure.is_absolute() or ".." in pure.parts or "\\" in text or _PERCENT.search(text):
        raise ApiError(403, "source: a relative path inside the server's media folder (no absolute path, "
                       "no '..', no percent-encoding)", "Forbidden")
    return pure


def resolve_source(root: Path, text: object) -> Path:
    """The file (or image folder) ``text`` names inside ``root``, symlinks followed and required to stay in it."""
    pure = check_source_text(text)
    base = root.resolve()
    path = (base / pure).resolve()
    if not path.is_relative_to(base):
        raise ApiError(403, "source: leads outside the server's media folder", "Forbidden")
    if not path.exists():
        raise ApiError(404, f"source: {text} is not in the server's media folder", "NotFound")
    return path


def relative_source(root: Path, path: Path) -> str:
    return path.relative_to(root.resolve()).as_posix()


def scrub(text: str, folders: list[Path]) -> str:
    """A message without the server's folders in it (an error may name a job's path)."""
    for folder in sorted({str(f.resolve()) for f in folders} | {str(f) for f in folders if f.is_absolute()}, key=len, reverse=True):
        text = text.replace(folder + "/", "").replace(folder, "…")
    return text
