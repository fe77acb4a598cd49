"""User-facing errors.

Every mistake a user can make (a missing file, a bad option value, a model that
cannot be reached) raises one subclass of :class:`RotoscopeError` whose message
says what was wrong *and* what to do. The CLI prints it on one line and exits 2.
"""

from __future__ import annotations

import errno
from pathlib import Path


class RotoscopeError(Exception):
    """Base class: a problem the user can fix. The message names the fix."""


class InputError(RotoscopeError):
    """The source (video, GIF, image folder, mask) is missing, unreadable or empty."""


class OptionError(RotoscopeError):
    """An option value is out of range or inconsistent with another option."""


class OutputError(RotoscopeError):
    """An output cannot be written (unknown format, folder not writable, exists)."""


class ModelError(RotoscopeError):
    """A model, LoRA, VAE or embedding cannot be found, reached or loaded."""


class JobError(RotoscopeError):
    """A job dir is inconsistent with the options given (or locked, or corrupt)."""


def output_error(exc: OSError, target: Path | str | None = None) -> OutputError | None:
    """The one-line error for an OSError a user can act on while writing ``target`` (disk full, a file
    size limit, a read-only filesystem, no permission); None for any other. The writers (media/atomic.py)
    raise it in place of the OSError, and the CLI uses it for one that reaches it from elsewhere."""
    target = Path(target if target is not None else (exc.filename or "the output"))
    folder = target.parent if str(target.parent) not in ("", ".") else Path(".")
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return OutputError(f"disk full writing {target}: free space and run the same command again.")
    if code == errno.EFBIG:
        return OutputError(f"disk full writing {target} (the file size limit was reached): free space or raise "
                           "the limit (ulimit -f) and run the same command again.")
    if code == errno.EROFS:
        return OutputError(f"cannot write {target}: {folder} is on a read-only filesystem; choose a folder on a "
                           "writable disk (another -o or --job) and run the command again.")
    if code in (errno.EACCES, errno.EPERM):
        return OutputError(f"cannot write {target}: permission denied in {folder}; fix its permissions or choose "
                           "another folder (-o or --job) and run the command again.")
    return None


def writes(func):
    """Decorate a facade function that writes files: an OSError a user can act on (disk full, read-only,
    permission) leaves it as the one-line :class:`OutputError`, as the CLI prints it, so a script using the
    Python API gets the same message; any other OSError is left as it is (a real bug stays visible)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OSError as exc:
            error = output_error(exc, exc.filename) if exc.filename else None
            if error is None:
                raise
            raise error from exc

    return wrapper
