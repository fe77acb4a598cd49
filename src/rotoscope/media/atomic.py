"""Files appear only when complete; nothing is left behind; the same command can always run again.

* Every file is written to a temp name beside its target, ``.NAME.part.EXT`` (a GIF's frame spool:
  ``.NAME.EXT.part.spool``, a PNG folder: ``.NAME.part/``), fsynced, renamed into place, and the
  folder fsynced, so a reader (or a crash) sees the old file or the new one, never half of one.
* Temp names are fixed (not per process), so a killed run's temps are found and removed by the
  next run for the same target (:func:`clear_stale`, :func:`sweep_temps`). A writer holds an
  ``flock`` on its temp while it writes, so a live writer's temp is never taken for a stale one,
  and two processes writing one target get a clear error instead of a mixed file.
* On any error (disk full, Ctrl-C, a bug) a writer removes its temps and re-raises; an
  :class:`OSError` the user can act on (disk full, read-only, permission) becomes a one-line
  :class:`OutputError` naming the file and the fix (:func:`output_error`).
* :func:`check_outputs` is the one check of ``-o`` paths every command runs before anything is
  opened: the source is never an output, a ``.gif`` that is a folder is refused, a PNG-folder
  output is a new or empty folder or one rotoscope wrote (its marker file), never ``/`` or home.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError, output_error

#: a PNG folder rotoscope wrote holds this (hidden, no image suffix: never read as a frame)
MARKER = ".rotoscope-frames"
MARKER_TEXT = b"PNG frames written by rotoscope; writing this output again replaces the folder whole.\n"
FSYNC = True  # bench/fsync.py turns it off for its baseline


# -- temp names --------------------------------------------------------------------------------------


def temp_path_for(path: Path) -> Path:
    """The temp name of a file output: same folder (so the rename is atomic), fixed, extension kept."""
    path = Path(path)
    return path.with_name(f".{path.stem}.part{path.suffix}")


def spool_path_for(path: Path) -> Path:
    path = Path(path)
    return path.with_name(f".{path.name}.part.spool")


def temp_folder_for(folder: Path) -> Path:
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.part")


def _aside_for(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old.part")


def is_temp_name(name: str) -> bool:
    """Names our writers use for temps: hidden, with a ``part`` component (``.x.part.gif``,
    ``.00003.part.png``, ``.x.gif.part.spool``, ``.frames.part``, ``.frames.old.part``)."""
    return name.startswith(".") and "part" in name.split(".")


def _temp_of(name: str, target: Path) -> bool:
    """Is ``name`` (in the target's folder) a temp of ``target`` (this or an older version's naming)?"""
    stem, full = target.stem, target.name
    if name.startswith(f".{full}.") and name.endswith((".spool", ".tmp")):
        return True  # an older GIF writer's spool / temp (.x.gif.TOKEN.spool)
    if not is_temp_name(name):
        return False
    return any(name.startswith(prefix) for prefix in (f".{stem}.", f"..{stem}.", f".{full}.")) or name == f".{full}.part"


# -- locks on temps: a live writer's temp is never removed -------------------------------------------


def _lock_fd(path: Path, *, create: bool) -> int | None:
    """Open ``path`` and take an exclusive flock; the fd, or None when another process holds it (or
    it is gone). Checks the locked file is still the one at ``path`` (it may have been renamed)."""
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0) | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
        if not create:
            return None
    raise OutputError(f"{path} keeps changing under rotoscope; is another program writing there? Choose another -o.")


def lock_temp(temp: Path, target: Path) -> int:
    """Create (or take over) ``temp`` and hold its lock; refuse when another process is writing it."""
    fd = _lock_fd(temp, create=True)
    if fd is None:
        raise OutputError(f"another rotoscope process is writing {target}; wait for it to finish or choose another -o.")
    return fd


def open_temp(temp: Path, target: Path) -> int:
    """:func:`lock_temp`, with an OSError the user can fix (read-only, disk full) as an OutputError."""
    try:
        return lock_temp(temp, target)
    except OSError as exc:
        error = output_error(exc, target)
        if error is None:
            raise
        raise error from exc


def open_temp_file(temp: Path, target: Path):
    """A binary file object on ``temp``, emptied and locked for as long as it is open."""
    fd = open_temp(temp, target)
    try:
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def _remove_if_free(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        lock = path / MARKER
        fd = _lock_fd(lock, create=False) if lock.exists() else None
        if lock.exists() and fd is None:
            return  # a live writer's folder
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            if fd is not None:
                os.close(fd)
        return
    fd = _lock_fd(path, create=False)
    if fd is None:
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


def clear_stale(target: Path) -> None:
    """Remove what a killed run left for ``target``: its temp, spool, temp folder (not a live writer's)."""
    target = Path(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if _temp_of(entry.name, target):
            _remove_if_free(Path(entry.path))


def sweep_temps(*folders: Path) -> None:
    """Remove every stale temp in these folders (a job dir, its source/ and frames/)."""
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if is_temp_name(entry.name):
                _remove_if_free(Path(entry.path))


# -- errors ------------------------------------------------------------------------------------------


@contextmanager
def writing(target: Path, *temps: Path) -> Iterator[None]:
    """Any error inside: remove ``temps`` and re-raise (an OSError the user can fix as OutputError)."""
    try:
        yield
    except BaseException as exc:
        for temp in temps:
            discard(temp)
        if isinstance(exc, OSError):
            error = output_error(exc, target)
            if error is not None:
                raise error from exc
        raise


# -- checks before anything is opened ----------------------------------------------------------------


def _resolved(text: str | Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(text)))).resolve()


def _source_paths(source: str | Path | None) -> list[Path]:
    """The files (and folders) a source reads: a file, a folder of frames, a glob's matches."""
    if not source:
        return []
    text = str(source)
    paths = [Path(p) for p in glob.glob(text)] if any(ch in text for ch in "*?[") and not Path(text).exists() else [Path(text)]
    return [_resolved(p) for p in paths if p.exists()]


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def is_ours(folder: Path) -> bool:
    return (Path(folder) / MARKER).is_file()


def check_outputs(paths: Iterable[str | Path], *, source: str | Path | None = None, overwrite: bool = False,
                  owned: Iterable[str] = (), check_exists: bool = True, prepare: bool = True) -> None:
    """Check every output before any writer opens: all pass, or nothing is touched (folders are
    created, and a killed run's temps removed, only once every output has passed).

    ``owned``: resolved paths this job wrote before (its to replace). ``check_exists`` False: only
    the checks that do not depend on what exists there now (the source, folders, duplicates).
    ``prepare`` False: only read (a run checks before any work; its writers prepare later)."""
    from .options import output_format

    owned = set(owned)
    sources = _source_paths(source)
    seen: dict[Path, str] = {}
    ready: list[Path] = []
    for raw in paths:
        kind = output_format(str(raw))
        path = _resolved(raw)
        if path in seen:
            raise OutputError(f"{raw} is given twice as an output (also as {seen[path]}); give each -o once.")
        seen[path] = str(raw)
        replace = overwrite or str(path) in owned
        if kind == "png-folder":
            _check_png_folder(raw, path, overwrite=replace, check_exists=check_exists)
        for src in sources:
            if _same(path, src) or (kind == "png-folder" and _inside(src, path)):
                raise OutputError(f"output {raw} is the source {source} (or holds it); the source is never "
                                  "overwritten: choose another -o.")
        if kind != "png-folder":
            if path.is_dir():
                raise OutputError(f"output {raw} is a folder, but {path.suffix} names a file format: remove or "
                                  f"rename the folder, or end -o with / for a folder of PNG frames.")
            if check_exists and path.exists() and not replace:
                raise OutputError(f"{raw} already exists; pass --overwrite to replace it, or choose another -o.")
        ready.append(Path(str(raw).rstrip("/\\") or str(raw)))
    if check_exists:
        for target in ready:
            if prepare:
                prepare_folder(target.parent)
                clear_stale(target)
            else:
                check_creatable(target.parent, "-o")


def check_creatable(folder: Path, what: str) -> None:
    """``folder`` exists or can be made: its nearest existing ancestor is a writable folder. Creates nothing."""
    folder = Path(folder)
    ancestor = folder
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"cannot create {folder}: {ancestor} is a file; choose another {what}.")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot create {folder}: {ancestor} is not writable; choose another {what} or fix its permissions.")


def _check_png_folder(raw: str | Path, path: Path, *, overwrite: bool, check_exists: bool) -> None:
    if path == Path(path.anchor) or path == _resolved("~") or _inside(_resolved("."), path):
        raise OutputError(f"output {raw} would replace {path} (a PNG-frames output replaces its folder whole); "
                          "give a new folder, e.g. -o out/frames/.")
    if path.exists() and not path.is_dir():
        raise OutputError(f"output {raw} is a file; a folder of PNG frames needs a new or empty folder: choose another -o.")
    if path.is_dir():
        others = [p.name for p in path.iterdir() if p.name != MARKER]
        if others and not is_ours(path):
            raise OutputError(f"{raw} holds files rotoscope did not write ({others[0]}, …); PNG frames need a new "
                              "or empty folder (it is replaced whole): choose another -o.")
        if others and check_exists and not overwrite:
            raise OutputError(f"{raw} already holds PNG frames; pass --overwrite to replace them, or choose another folder.")


def prepare_output(path: Path, *, overwrite: bool) -> None:
    """Create the folder, refuse to clobber a user's file, check we can write there."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder, but {path.suffix or 'its name'} names a file: remove or rename "
                          "the folder, or choose another -o.")
    if path.exists() and not overwrite:
        raise OutputError(f"{path} already exists; pass --overwrite to replace it, or choose another -o.")
    prepare_folder(path.parent)
    clear_stale(path)


def prepare_folder(folder: Path) -> None:
    """Create an output folder (and its parents) and check we can write in it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise OutputError(f"cannot create output folder {folder}: read-only filesystem; choose a folder on a "
                              "writable disk (another -o).") from exc
        raise OutputError(f"cannot create output folder {folder} ({exc.strerror}); choose another -o.") from exc
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder; choose another -o.")
    if not os.access(folder, os.W_OK | os.X_OK):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            raise OutputError(f"output folder {folder} is on a read-only filesystem; choose a folder on a writable "
                              "disk (another -o).")
        raise OutputError(f"output folder {folder} is not writable; choose another -o or fix its permissions.")


# -- writing -----------------------------------------------------------------------------------------


def fsync_folder(folder: Path) -> None:
    if not FSYNC:
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the file itself is synced
    finally:
        os.close(fd)


def fsync_fd(fd: int) -> None:
    if FSYNC:
        os.fsync(fd)


def fsync_file(path: Path) -> None:
    if not FSYNC:
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(temp: Path, final: Path) -> None:
    """Sync ``temp``'s bytes, rename it to ``final``, sync the folder: ``final`` is whole, even after a crash."""
    fsync_file(temp)
    os.replace(temp, final)
    fsync_folder(Path(final).parent)


def discard(temp: Path) -> None:
    try:
        if Path(temp).is_dir() and not Path(temp).is_symlink():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            Path(temp).unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # best effort: the next run for this target removes it (clear_stale)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole, or is as it was: temp beside it, fsync, rename, fsync the folder.
    On any error the temp is removed; disk full / read-only / permission become an OutputError."""
    path = Path(path)
    temp = temp_path_for(path)
    fd = open_temp(temp, path)
    with writing(path, temp):
        try:
            os.ftruncate(fd, 0)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            fsync_fd(fd)
            os.replace(temp, path)  # still holding the lock: no one else can take this inode over
        finally:
            os.close(fd)
        fsync_folder(path.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """A plain write, synced (a file inside a temp folder: the folder is what gets renamed)."""
    with open(path, "wb") as handle:
        handle.write(data)
        if FSYNC:
            handle.flush()
            os.fsync(handle.fileno())


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


def replace_folder(temp: Path, final: Path) -> None:
    """Put the finished folder ``temp`` at ``final``; an old ``final`` (ours: checked) is removed whole.

    The old and new folders are swapped in one step where the system can (renameat2), so a reader
    or a crash sees the old folder or the new one; elsewhere the old one is moved aside first."""
    final = Path(final)
    fsync_folder(temp)
    old = None
    if final.exists():
        try:
            os.rmdir(final)  # an empty folder: the rename takes its place
        except OSError:
            if _exchange(temp, final):
                old = temp  # now holds the old frames
            else:
                old = _aside_for(final)
                discard(old)
                os.replace(final, old)
    if old is not temp:
        os.replace(temp, final)
    fsync_folder(final.parent)
    if old is not None:
        discard(old)
