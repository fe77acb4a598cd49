"""`--frames 12-18`: which frames of a job to (re)do."""

from __future__ import annotations

from ..errors import OptionError


def parse_frame_range(text: str, count: int) -> list[int]:
    """'12-18', '5', '0-3,7,10-12' (0-based, inclusive) → sorted indices, checked against ``count``."""
    indices: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b)
            else:
                lo = hi = int(part)
        except ValueError:
            raise OptionError(f"--frames {text!r} is not understood; write e.g. 12-18 or 0-3,7 (0-based, inclusive).") from None
        if lo > hi:
            raise OptionError(f"--frames {part}: the first frame is after the last; write {hi}-{lo}.")
        if lo < 0 or hi >= count:
            raise OptionError(f"--frames {part} is outside the clip: it has {count} frames (0–{count - 1}).")
        indices.update(range(lo, hi + 1))
    if not indices:
        raise OptionError(f"--frames {text!r} names no frames; write e.g. 12-18.")
    return sorted(indices)
