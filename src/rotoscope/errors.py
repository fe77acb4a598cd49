"""User-facing errors.

Every mistake a user can make (a missing file, a bad option value, a model that
cannot be reached) raises one subclass of :class:`RotoscopeError` whose message
says what was wrong *and* what to do. The CLI prints it on one line and exits 2.
"""

from __future__ import annotations


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
