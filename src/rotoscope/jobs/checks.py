"""Checks a job makes before any work: its folder, its outputs, and which source it was made from.

Everything here only reads: a run that fails a check creates no folder and no file, and prints no
note (not even the drawn seed) before its one-line error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import JobError, OutputError
from ..media.atomic import check_creatable, prepare_output

#: a file up to this size is hashed whole; a larger one by samples (see source_identity)
WHOLE_HASH_LIMIT = 64 * 1024 * 1024
SAMPLE = 1024 * 1024
MIDDLE_SAMPLES = 8


def _file_digest(path: Path, size: int) -> str:
    """blake2b of the file's bytes: the whole file up to 64 MiB (~50 ms); a larger one by its first and last
    MiB and eight 1 MiB samples spread between them (10 MiB read, whatever the size). A re-encoded or
    replaced video differs in its header and index and almost everywhere else, so samples find it while
    a multi-GB source costs no more than a small one; the exact size is part of the identity too."""
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with open(path, "rb") as handle:
        if size <= WHOLE_HASH_LIMIT:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
            return digest.hexdigest()
        offsets = [0, *(size * k // (MIDDLE_SAMPLES + 1) for k in range(1, MIDDLE_SAMPLES + 1)), size - SAMPLE]
        for offset in offsets:
            handle.seek(offset)
            digest.update(handle.read(SAMPLE))
    return digest.hexdigest()


def source_identity(source: str) -> dict | None:
    """What the job's source *is*, by content: ``{"size": bytes, "blake2b": hex, "files": n}`` (a folder or
    glob of images: every image's name, size and bytes). None when there is no file to read (img2vid from
    a prompt, or a source the decoder will reject anyway)."""
    if not source:
        return None
    from ..media.sources import image_sequence

    try:
        files = image_sequence(source)
    except Exception:  # noqa: BLE001 -- the decoder gives the one-line error for a bad source
        return None
    path = Path(source)
    if files is None:
        if not path.is_file():
            return None
        size = path.stat().st_size
        return {"size": size, "blake2b": _file_digest(path, size), "files": 1}
    digest = hashlib.blake2b(digest_size=16)
    total = 0
    for file in files:
        size = file.stat().st_size
        total += size
        digest.update(f"{file.name}\0{size}\0{_file_digest(file, size)}\n".encode())
    return {"size": total, "blake2b": digest.hexdigest(), "files": len(files)}


def source_change(recorded: dict, now: dict | None) -> str | None:
    """How the source differs from the one the job was made from, in words; None when it is the same."""
    if now is None or recorded.get("blake2b") == now["blake2b"]:
        return None
    if recorded.get("files", 1) != now["files"]:
        return f"{recorded.get('files')} → {now['files']} files"
    if recorded.get("size") != now["size"]:
        return f"size {recorded.get('size')} → {now['size']} bytes"
    return f"same size, different content (blake2b {recorded.get('blake2b', '')[:8]}… → {now['blake2b'][:8]}…)"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(path: str | Path, *, overwrite: bool, source: str = "", what: str = "-o") -> None:
    """One output file, before any work: not the source, not a file of the user's (without --overwrite),
    in a folder we can write to or create. Creates nothing."""
    target = Path(path)
    if source and _same(target, Path(source)):
        raise OutputError(f"{what} {target} is the source; choose another {what}.")
    if str(path).endswith(("/", "\\")) or target.is_dir():  # a folder of PNG frames
        if target.is_dir() and any(target.glob("*.png")) and not overwrite:
            raise OutputError(f"{target} already holds PNG frames; pass --overwrite to replace them, or choose another folder.")
        if target.is_dir():
            if not os.access(target, os.W_OK | os.X_OK):
                raise OutputError(f"output folder {target} is not writable; choose another {what} or fix its permissions.")
        else:
            check_creatable(target, what)
        return
    if target.exists() and not overwrite and what != "-o":  # prepare_output's message names -o
        raise OutputError(f"{target} already exists; pass --overwrite to replace it, or choose another {what}.")
    if target.parent.is_dir():
        prepare_output(target, overwrite=overwrite)  # the folder exists: this only checks
    else:
        check_creatable(target.parent, what)


#: files a run leaves in a job folder before job.json exists (the lock, a temp file of an atomic write)
_NOT_CONTENT = ("lock",)


def check_job_folder(path: Path, source: str) -> None:
    """The job folder, before any work: a folder rotoscope made (job.json present and readable), or an
    empty or new one; never the source, never a folder of the user's files. Creates nothing."""
    if source and (_same(path, Path(source)) or path.resolve() in Path(source).resolve().parents):
        raise JobError(f"--job {path} is the source (or holds it); choose another folder for the job.")
    if path.exists() and not path.is_dir():
        raise JobError(f"--job {path} is a file, not a folder; choose another --job.")
    if not path.exists():
        try:
            check_creatable(path, "--job")
        except OutputError as exc:
            raise JobError(str(exc)) from None
        return
    if not os.access(path, os.W_OK | os.X_OK):
        raise JobError(f"job folder {path} is not writable; choose another --job or fix its permissions.")
    if (path / "job.json").exists():
        from .store import JobDir

        JobDir(path).read_record()  # unreadable: one line naming the fix
        return
    content = [p.name for p in path.iterdir() if p.name not in _NOT_CONTENT and not (p.name.startswith(".") and ".part" in p.name)]
    if content:
        shown = ", ".join(sorted(content)[:3]) + (", …" if len(content) > 3 else "")
        raise JobError(f"--job {path} is not a rotoscope job (no job.json) and is not empty ({shown}); "
                       "give a new or empty folder, or the folder of a job rotoscope made.")
