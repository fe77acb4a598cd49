"""The model's processing size (multiples of 8); the resize modes themselves are core/resize.py's."""

from __future__ import annotations

from ..notices import notice


def round8(value: int) -> int:
    """Down to a multiple of 8, as the web UI and diffusers' image processor do (never below 8)."""
    return max(8, int(value) // 8 * 8)


def processing_size(frame_w: int, frame_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    """The model's working size: multiples of 8 (latents are 1/8), aspect kept when one side is given."""
    if width and height:
        size = (width, height)
    elif width:
        size = (width, round(width * frame_h / frame_w))
    elif height:
        size = (round(height * frame_w / frame_h), height)
    else:
        size = (frame_w, frame_h)
    rounded = (round8(size[0]), round8(size[1]))
    if rounded != size:
        notice(f"processing size {size[0]}x{size[1]} rounded to {rounded[0]}x{rounded[1]} (the model needs multiples of 8).")
    return rounded

