"""Masks I/O: one H×W uint8 mask per frame (255 = change, 0 = keep), streamed.

Sources, combined by union (then ``invert`` flips the result):

* a mask file: a still image (used for every frame), or a video / GIF /
  animated WebP / image folder / glob (one mask per frame, matched by index);
* shapes: ``X,Y,W,H`` boxes (a rectangle, or the ellipse inside it), optionally
  keyframed ``F:X,Y,W,H/F:X,Y,W,H`` (linear in between, held before the first
  and after the last keyframe);
* a colour key on the source frame (``#00ff00`` or ``#00ff00:TOLERANCE``);
* the source frame's alpha: opaque pixels (alpha > 128, a cut-out's subject) change,
  the transparent rest is kept (``invert`` restyles the transparent part instead).

A mask file is binarised as the web UI does (an RGBA image whose alpha is not
all opaque gives its alpha; otherwise grey > 128 is white). A mask of another
size is resized to the frame, with a notice. Nothing here knows about models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw

from ..errors import InputError, OptionError
from ..notices import notice
from .options import parse_colour
from .sources import image_sequence, is_glob

DEFAULT_KEY_TOLERANCE = 40.0
Box = tuple[float, float, float, float]


class MaskSources(Protocol):
    """Where a job's masks come from: the mask fields of stylize's MaskOptions.

    Declared here because media/ sits below stylize/ and must not import it; any
    object with these attributes will do.
    """

    mask: str | None  # a mask file, video, GIF, folder or glob
    mask_rects: Sequence[str]  # "X,Y,W,H" or keyframed "F:X,Y,W,H/F:X,Y,W,H"
    mask_ellipses: Sequence[str]
    mask_key: str | None  # "#00ff00" or "#00ff00:TOLERANCE"
    mask_from_alpha: bool
    invert_mask: bool
    mask_hold_last: bool


# -- parsing -------------------------------------------------------------------------


def _parse_box(text: str, flag: str, whole: str) -> Box:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise OptionError(f"{flag} {whole!r} is not understood; write X,Y,W,H in pixels (e.g. 10,20,64,48), "
                          "or keyframes F:X,Y,W,H/F:X,Y,W,H (e.g. 0:10,20,64,48/30:90,20,64,48).")
    if values[2] <= 0 or values[3] <= 0:
        raise OptionError(f"{flag} {whole!r}: width and height must be more than 0.")
    return values[0], values[1], values[2], values[3]


def parse_shape(text: str, flag: str = "--mask-rect") -> list[tuple[int, Box]]:
    """'X,Y,W,H' → [(0, box)]; 'F:X,Y,W,H/F:X,Y,W,H' → keyframes sorted by frame."""
    keys: dict[int, Box] = {}
    for part in str(text).replace(" ", "").split("/"):
        if not part:
            continue
        frame = 0
        if ":" in part:
            head, part = part.split(":", 1)
            try:
                frame = int(head)
            except ValueError:
                raise OptionError(f"{flag} {text!r}: keyframe {head!r} is not a frame number (0-based).") from None
            if frame < 0:
                raise OptionError(f"{flag} {text!r}: keyframe {frame} is negative; frames count from 0.")
            if frame in keys:
                raise OptionError(f"{flag} {text!r}: frame {frame} is given twice.")
        keys[frame] = _parse_box(part, flag, text)
    if not keys:
        raise OptionError(f"{flag} is empty; write X,Y,W,H (e.g. 10,20,64,48).")
    return sorted(keys.items())


def box_at(keys: list[tuple[int, Box]], index: int) -> Box:
    """The box at frame ``index``: linear between keyframes, held outside them."""
    if index <= keys[0][0]:
        return keys[0][1]
    for (f0, b0), (f1, b1) in zip(keys, keys[1:]):
        if index <= f1:
            t = (index - f0) / (f1 - f0)
            return tuple(a + (b - a) * t for a, b in zip(b0, b1))  # type: ignore[return-value]
    return keys[-1][1]


def parse_key(text: str) -> tuple[tuple[int, int, int], float]:
    """'#00ff00' or '#00ff00:30' → (rgb, tolerance as an RGB distance)."""
    colour, _, tol = str(text).partition(":")
    rgb = parse_colour(colour)
    tolerance = DEFAULT_KEY_TOLERANCE
    if tol:
        try:
            tolerance = float(tol)
        except ValueError:
            tolerance = -1
        if not 0 <= tolerance <= 442:
            raise OptionError(f"--mask-key {text!r}: tolerance {tol!r} must be a number from 0 to 442 (RGB distance; default 40).")
    return rgb, tolerance


def check_mask_path(path: str) -> None:
    text = str(path)
    if Path(text).exists():
        if Path(text).is_file() and Path(text).stat().st_size == 0:
            raise InputError(f"mask {text} is empty (0 bytes); export the mask again.")
        return
    if is_glob(text) and image_sequence(text):
        return
    raise InputError(f"mask {text} does not exist; give a mask image, mask video / GIF, or a folder of mask images.")


# -- pixels ---------------------------------------------------------------------------


def binarize(image: np.ndarray | Image.Image) -> np.ndarray:
    """The web UI's create_binary_mask: RGBA with some transparency → alpha; else grey; > 128 → 255."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(np.ascontiguousarray(image))
    if pil.mode in ("RGBA", "LA", "PA") or "transparency" in pil.info:
        pil = pil.convert("RGBA")
        alpha = np.asarray(pil)[..., 3]
        if alpha.min() != 255:
            return np.where(alpha > 128, 255, 0).astype(np.uint8)
    grey = np.asarray(pil.convert("L"))
    return np.where(grey > 128, 255, 0).astype(np.uint8)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a binary mask to ``size`` = (width, height), staying binary."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask
    scaled = np.asarray(Image.fromarray(mask).resize(size, Image.Resampling.BILINEAR))
    return np.where(scaled > 127, 255, 0).astype(np.uint8)


def draw_shapes(size: tuple[int, int], index: int, rects=(), ellipses=()) -> np.ndarray:
    """Shapes (each a keyframe list from :func:`parse_shape`) at frame ``index``, drawn on a (width, height) mask."""
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    for keys, kind in [(k, "rect") for k in rects] + [(k, "ellipse") for k in ellipses]:
        x, y, w, h = box_at(keys, index)
        box = [round(x), round(y), round(x + w) - 1, round(y + h) - 1]
        if box[2] < box[0] or box[3] < box[1]:
            continue
        (draw.rectangle if kind == "rect" else draw.ellipse)(box, fill=255)
    return np.asarray(canvas)


def key_mask(image: np.ndarray, rgb: tuple[int, int, int], tolerance: float) -> np.ndarray:
    """255 where the frame's colour is within ``tolerance`` (RGB distance) of ``rgb``."""
    diff = image[..., :3].astype(np.float32) - np.array(rgb, np.float32)
    return np.where(np.sqrt((diff * diff).sum(axis=2)) <= tolerance, 255, 0).astype(np.uint8)


def alpha_mask(image: np.ndarray) -> np.ndarray:
    """255 (change) where the frame is opaque (alpha > 128), 0 (keep) where it is transparent."""
    if image.ndim != 3 or image.shape[2] != 4:
        raise InputError("--mask-from-alpha: the source frames have no alpha channel (or --background flattened it); "
                         "give a source with transparency, or another mask.")
    return np.where(image[..., 3] > 128, 255, 0).astype(np.uint8)


# -- a mask file: still image or one mask per frame ----------------------------------------


class MaskFile:
    """Masks from a file or folder, decoded in order (never all in memory)."""

    def __init__(self, path: str) -> None:
        check_mask_path(path)
        self.path = str(path)
        self.count = self._count()
        self._iter: Iterator[np.ndarray] | None = None
        self._position = -1
        self._current: np.ndarray | None = None
        self.still = self.count == 1

    def _frames(self) -> Iterator[np.ndarray]:
        from .decode import iter_frames  # PyAV: only when a mask file is used

        try:
            for frame in iter_frames(self.path):
                yield frame.image
        except InputError as exc:
            raise InputError(f"mask {self.path} cannot be read: {exc}") from exc

    def _count(self) -> int:
        files = image_sequence(self.path)
        if files is not None:
            return len(files)
        return sum(1 for _ in self._frames())

    def get(self, index: int) -> np.ndarray:
        """Mask number ``index`` (0-based), binarised."""
        if self.still and self._current is not None:
            return self._current
        if index < self._position or self._iter is None:
            self._iter, self._position = self._frames(), -1
        while self._position < index:
            try:
                image = next(self._iter)
            except StopIteration:
                raise InputError(f"mask {self.path} has only {self._position + 1} masks; mask {index} was asked for.") from None
            self._position += 1
            if self._position == index:
                self._current = binarize(image)
        assert self._current is not None
        return self._current


# -- every source together ----------------------------------------------------------------


class FrameMasks:
    """``masks(index, source_image)`` → the frame's mask, at the source image's size.

    ``frame_count`` is the clip's length; ``selected`` the frames a ``--frames``
    run redoes (a mask sequence with exactly that many masks maps onto them in
    order). A mask sequence shorter than the clip is an error naming both counts,
    unless ``mask_hold_last``.
    """

    def __init__(self, options: MaskSources, frame_count: int | None, selected: list[int] | None = None) -> None:
        self.options = options
        self.rects = [parse_shape(t, "--mask-rect") for t in options.mask_rects]
        self.ellipses = [parse_shape(t, "--mask-ellipse") for t in options.mask_ellipses]
        self.key = parse_key(options.mask_key) if options.mask_key else None
        self.file = MaskFile(options.mask) if options.mask else None
        self.position: dict[int, int] | None = None
        self._resized_notice = False
        if self.file is not None and not self.file.still and frame_count is not None:
            self._match(frame_count, selected)

    def _match(self, frame_count: int, selected: list[int] | None) -> None:
        count, path = self.file.count, self.file.path
        if count >= frame_count:
            if count > frame_count:
                notice(f"mask {path} has {count} masks for {frame_count} frames; the last {count - frame_count} are not used.")
            return
        if selected is not None and count == len(selected):
            self.position = {index: i for i, index in enumerate(selected)}
            return
        if self.options.mask_hold_last:
            notice(f"mask {path} has {count} masks for {frame_count} frames; the last mask is held for frames {count}–{frame_count - 1}.")
            return
        also = f", exactly {len(selected)} (one per frame of --frames)" if selected is not None else ""
        raise InputError(f"mask {path} has {count} masks but the clip has {frame_count} frames; give one mask per frame{also}, "
                         "or add --mask-hold-last to hold the last mask.")

    def _file_mask(self, index: int, size: tuple[int, int]) -> np.ndarray:
        assert self.file is not None
        if self.position is not None:
            number = self.position.get(index, len(self.position) - 1)
        elif self.options.mask_hold_last or self.file.still:
            number = min(index, self.file.count - 1)
        else:
            number = index
        mask = self.file.get(number)
        if (mask.shape[1], mask.shape[0]) != size:
            if not self._resized_notice:
                notice(f"mask {self.file.path} is {mask.shape[1]}x{mask.shape[0]}; resized to the frame size {size[0]}x{size[1]}.")
                self._resized_notice = True
            mask = resize_mask(mask, size)
        return mask

    def __call__(self, index: int, source: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        """The mask of frame ``index`` at ``size`` = (width, height), default the source frame's size.

        Shapes are in pixels of that size; the colour key and alpha read ``source``.
        """
        size = size or (source.shape[1], source.shape[0])
        if (source.shape[1], source.shape[0]) != size and (self.key is not None or self.options.mask_from_alpha):
            source = np.asarray(Image.fromarray(np.ascontiguousarray(source)).resize(size, Image.Resampling.NEAREST))
        mask = np.zeros((size[1], size[0]), np.uint8)
        if self.file is not None:
            mask = np.maximum(mask, self._file_mask(index, size))
        if self.rects or self.ellipses:
            mask = np.maximum(mask, draw_shapes(size, index, self.rects, self.ellipses))
        if self.key is not None:
            mask = np.maximum(mask, key_mask(source, *self.key))
        if self.options.mask_from_alpha:
            mask = np.maximum(mask, alpha_mask(source))
        return 255 - mask if self.options.invert_mask else mask
