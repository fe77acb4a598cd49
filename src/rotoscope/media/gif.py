"""Streaming GIF writer: a good global palette, frame-difference transparency,
changed-rectangle cropping and exact centisecond timing, in bounded memory.

How it works (global palette, the default):

1. ``write()`` appends each frame's raw pixels to a spool file next to the
   output (``.NAME.gif.part.spool``, never a Python list) and counts its pixels in a fixed-size colour
   histogram (``ColorStats``).
2. ``close()`` builds the palette by k-means++ / k-means on the histogram,
   entropy-constrained (``lossy``: noise does not spread over many rarely
   used indices), then reads the spool back one frame at a time and writes
   the GIF blocks itself; LZW compression is Pillow's C encoder.

Each frame after the first is written as the bounding box of the pixels that
changed; inside it, pixels whose colour is already shown are the transparent
index, or the shown index, whichever LZW packs smaller. Frames use disposal
1 ("do not dispose"), or 2 when the next frame needs pixels to turn
transparent (RGBA input; one frame is held back to decide).

With ``palette="per-frame"`` each frame gets its own local colour table and
the file is written in one pass (no spool).

Timing: delays are centiseconds chosen so the running sum follows the true
end times (15 fps → 7, 6, 7, 7, 6, 7 …; 10 fps → 10, 10 …). No delay is
under 2 cs (browsers show 0–1 cs as 10 cs); the excess is taken back from
the following frames.
"""

from __future__ import annotations

import math
import os
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
from PIL import Image

from rotoscope.core.frames import Frame
from rotoscope.errors import OptionError, OutputError
from rotoscope.media.atomic import clear_stale, fsync_fd, fsync_folder, open_temp_file, output_error, spool_path_for, temp_path_for
from rotoscope.media.options import DITHERS, PALETTES  # declared once, with the options that take them


MIN_DELAY_CS = 2
ALPHA_THRESHOLD = 128
# Measured on samples/cup.mp4 (bench/gif_quality.py): the entropy-constrained
# palette ("lossy") buys far more bytes per SSIM point than a temporal
# tolerance, dithering or fewer colours, so the default leans on it.
DEFAULT_LOSSY = 2.0
DEFAULT_TOLERANCE = 0.0
_KMEANS_ITERS = 12  # measured: more iterations change bytes and SSIM by < 0.05 %
_SEED_POINTS = 4_000  # k-means++ seeds from at most this many bin draws (by weight): its cost is k × points
_NEAREST_CHUNK = 512  # pixels per distance matrix in _nearest (512 × 256 float32 = 512 KB: stays in cache)


@dataclass
class GifOptions:
    """How a GIF is encoded.

    ``colors`` is the number of visible colours (2..256). One more palette
    index is kept for transparency (frame differences, RGBA input), so 256
    becomes 255 visible + transparent. ``dither`` "none" measured best per
    byte (and is what ffmpeg's best setting uses); Floyd–Steinberg maps to
    nearest colours (``lossy`` does not apply to it).
    ``loop``: 0 = forever, N > 0 = the NETSCAPE2.0 repeat count N, -1 = play
    once (no loop extension), as in ffmpeg's ``-loop``.
    ``lossy``: rate–distortion trade-off of the colour mapping (ECVQ; squared
    RGB distance per bit): 0 = nearest colour; higher = fewer distinct
    indices in noisy areas and smaller files (2 ≈ ffmpeg's best SSIM with
    ~17 % fewer bytes on the sample clip; 8 ≈ 45 % fewer, SSIM −0.005).
    ``tolerance``: how far (RGB distance) a pixel may be from the colour
    already shown and still be left as it is; 0 = only when its chosen
    colour is the one shown.
    """

    colors: int = 256
    dither: str = "none"
    palette: str = "global"
    loop: int = 0
    comment: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    lossy: float = DEFAULT_LOSSY

    def validate(self) -> None:
        if isinstance(self.colors, bool) or not isinstance(self.colors, int) or not 2 <= self.colors <= 256:
            raise OptionError(f"GIF colors must be a whole number from 2 to 256, got {self.colors!r}.")
        if self.dither not in DITHERS:
            raise OptionError(f"Unknown GIF dither {self.dither!r}; use one of: {', '.join(DITHERS)}.")
        if self.palette not in PALETTES:
            raise OptionError(f"Unknown GIF palette {self.palette!r}; use one of: {', '.join(PALETTES)}.")
        if isinstance(self.loop, bool) or not isinstance(self.loop, int) or not -1 <= self.loop <= 65535:
            raise OptionError(f"GIF loop must be -1 (play once), 0 (forever) or 1..65535, got {self.loop!r}.")
        if not 0 <= float(self.tolerance) <= 442:
            raise OptionError(f"GIF tolerance must be from 0 to 442, got {self.tolerance!r}.")
        if not 0 <= float(self.lossy) <= 1000:
            raise OptionError(f"GIF lossy must be from 0 (exact colours) to 1000, got {self.lossy!r}.")


# ----------------------------------------------------------------- timing


class _Timing:
    """Centisecond delays whose running sum follows the frames' end times."""

    def __init__(self) -> None:
        self._t0: float | None = None
        self._emitted = 0  # cs written so far

    def delay(self, frame: Frame) -> int:
        if self._t0 is None:
            self._t0 = frame.time
        end = frame.time + max(frame.duration, 0.0) - self._t0
        target = math.floor(end * 100 + 0.5 + 1e-6)
        d = max(MIN_DELAY_CS, target - self._emitted)
        d = min(d, 65535)
        self._emitted += d
        return d


# ----------------------------------------------------------------- palette


class ColorStats:
    """What the palette is built from: every opaque pixel written, in bounded memory.

    A histogram over 4×4×4 cubes of RGB (6 bits a channel, 2^18 bins) holds
    each bin's pixel count and RGB sums, so k-means sees exact centroids of
    all pixels, not a sample, and costs the same for 10 or 10,000 frames.
    While the clip has at most ``exact_limit`` distinct colours they are
    also kept exactly (cartoons, pixel art: the palette is those colours).
    """

    BITS = 6

    def __init__(self, exact_limit: int = 256) -> None:
        size = 1 << (3 * self.BITS)
        self._count = np.zeros(size, np.int64)
        self._sums = np.zeros((3, size), np.float64)
        self._limit = exact_limit
        self._distinct: np.ndarray | None = np.empty(0, np.uint32)

    def add(self, rgb: np.ndarray) -> None:
        """Add opaque pixels (N×3 uint8)."""
        rgb = rgb.reshape(-1, 3)
        if len(rgb) == 0:
            return
        q = (rgb >> (8 - self.BITS)).astype(np.int32)
        bins = (q[:, 0] << (2 * self.BITS)) | (q[:, 1] << self.BITS) | q[:, 2]
        size = len(self._count)
        self._count += np.bincount(bins, minlength=size)
        for c in range(3):
            self._sums[c] += np.bincount(bins, weights=rgb[:, c], minlength=size)
        if self._distinct is not None:
            merged = np.union1d(self._distinct, _pack(rgb))
            self._distinct = merged if len(merged) <= self._limit else None

    def distinct(self) -> np.ndarray | None:
        """The exact colours (k×3 uint8) while there are at most ``exact_limit``; else None."""
        return None if self._distinct is None else _unpack(self._distinct)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Each non-empty bin's mean colour (N×3 float32) and pixel count (N float64)."""
        live = np.flatnonzero(self._count)
        weight = self._count[live].astype(np.float64)
        return (self._sums[:, live] / weight).T.astype(np.float32), weight


def _nearest(pixels: np.ndarray, palette: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Index of the nearest palette colour (RGB squared distance + ``bias``) for N×3 pixels.

    Brute force, one matrix product per chunk: argmin |p − c|² + b = argmin (|c|² + b)/2 − p·c.
    For a palette of ≤ 256 colours that is as fast as a k-d tree, without importing
    scipy.spatial (which costs more than a whole GIF conversion). In float32 it is exact for
    uint8 pixels and an integer palette (every product and sum is an integer below 2^24);
    k-means' fractional centres and the bias are off by at most ~0.01 in squared distance.
    The product is ``einsum``, not ``@``: BLAS would start its threads for these thin
    matrices, and their spinning halved the speed of everything else on a 2-core machine.
    """
    x = pixels.reshape(-1, 3).astype(np.float32)
    pal = palette.astype(np.float32)
    half = 0.5 * (pal * pal).sum(1)
    if bias is not None and len(bias):
        half += 0.5 * bias.astype(np.float32)
    pal_t = np.ascontiguousarray(pal.T)
    index = np.empty(len(x), np.int32)
    for start in range(0, len(x), _NEAREST_CHUNK):
        d = np.einsum("nk,kc->nc", x[start : start + _NEAREST_CHUNK], pal_t)
        np.subtract(half, d, out=d)
        index[start : start + _NEAREST_CHUNK] = d.argmin(1)
    return index


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.reshape(-1, 3).astype(np.uint32)
    return (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


def _unpack(packed: np.ndarray) -> np.ndarray:
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], 1).astype(np.uint8)


def _kmeans_pp(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (weighted points)."""
    centers = np.empty((k, 3), np.float32)
    centers[0] = x[rng.choice(len(x), p=w / w.sum())]
    d = ((x - centers[0]) ** 2).sum(1)
    for i in range(1, k):
        p = d * w
        total = p.sum()
        if total <= 0:
            return centers[:i]
        centers[i] = x[rng.choice(len(x), p=p / total)]
        d = np.minimum(d, ((x - centers[i]) ** 2).sum(1))
    return centers


def build_palette(
    stats: ColorStats, n: int, iters: int = _KMEANS_ITERS, seed: int = 0, rate: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` RGB colours (k×3 uint8) for the pixels counted in ``stats``,
    and a per-colour cost (k float32) to add to squared distances when mapping.

    Weighted k-means (RGB) over the histogram bins' centroids, seeded by
    k-means++. With ``rate`` > 0 it is entropy-constrained (ECVQ): a pixel goes
    to the colour minimising ``d² + rate · log2(1/p)``, p the colour's share,
    so rare colours are used only where they help enough; the index stream
    gets less noisy and LZW packs it tighter. If the pixels have at most ``n``
    distinct colours they are the palette, exactly.
    """
    exact = stats.distinct()
    if exact is not None and len(exact) <= n:
        if len(exact) == 0:
            return np.zeros((1, 3), np.uint8), np.zeros(1, np.float32)
        return exact, np.zeros(len(exact), np.float32)
    x, w = stats.points()
    rng = np.random.default_rng(seed)
    if len(x) > _SEED_POINTS:
        # Seeds from a weight-drawn subset, each drawn bin counted as often as it was drawn.
        pick, times = np.unique(rng.choice(len(x), size=_SEED_POINTS, p=w / w.sum()), return_counts=True)
        centers = _kmeans_pp(x[pick], times.astype(np.float64), n, rng)
    else:
        centers = _kmeans_pp(x, w, n, rng)
    bias = np.zeros(len(centers), np.float32)
    for _ in range(iters):
        lab = _nearest(x, centers, bias if rate > 0 else None)
        mass = np.bincount(lab, weights=w, minlength=len(centers))
        sums = np.stack([np.bincount(lab, weights=w * x[:, c], minlength=len(centers)) for c in range(3)], 1)
        live = mass > 0
        new = (sums[live] / mass[live, None]).astype(np.float32)
        if rate > 0:
            bias = (rate * -np.log2(mass[live] / mass.sum())).astype(np.float32)
        elif len(new) == len(centers) and np.abs(new - centers).max() < 0.05:
            centers = new
            break
        centers = new
    pal = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    if rate <= 0:
        pal = _unpack(np.unique(_pack(pal)))
        return pal, np.zeros(len(pal), np.float32)
    # final shares with rounded colours
    lab = _nearest(x, pal, bias)
    mass = np.bincount(lab, weights=w, minlength=len(pal))
    live = mass > 0
    pal, mass = pal[live], mass[live]
    return pal, (rate * -np.log2(mass / mass.sum())).astype(np.float32)


_BAYER8 = np.array(
    [
        [0, 32, 8, 40, 2, 34, 10, 42],
        [48, 16, 56, 24, 50, 18, 58, 26],
        [12, 44, 4, 36, 14, 46, 6, 38],
        [60, 28, 52, 20, 62, 30, 54, 22],
        [3, 35, 11, 43, 1, 33, 9, 41],
        [51, 19, 59, 27, 49, 17, 57, 25],
        [15, 47, 7, 39, 13, 45, 5, 37],
        [63, 31, 55, 23, 61, 29, 53, 21],
    ],
    np.float32,
)


class _Quantizer:
    """Maps RGB images to palette indices, with the chosen dither."""

    def __init__(self, palette: np.ndarray, dither: str, bias: np.ndarray | None = None) -> None:
        self.palette = palette
        self.bias = bias
        self.dither = dither
        self._lookup: np.ndarray | None = None  # see _exact
        if dither == "bayer":
            if len(palette) > 1:
                pal = palette.astype(np.float32)
                d = ((pal[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
                np.fill_diagonal(d, np.inf)
                self._spread = float(np.median(np.sqrt(d.min(1))))
            else:
                self._spread = 0.0
        if dither == "floyd-steinberg":
            flat = np.zeros((256, 3), np.uint8)
            flat[: len(palette)] = palette
            flat[len(palette) :] = palette[0]
            self._pal_img = Image.new("P", (1, 1))
            self._pal_img.putpalette(flat.ravel().tolist())

    def __call__(self, rgb: np.ndarray, packed: np.ndarray | None = None) -> np.ndarray:
        """Palette indices (H×W uint8: a palette has at most 256 colours) of an RGB image
        (``packed``: the same pixels as ``_pack`` gives them, when already at hand)."""
        h, w = rgb.shape[:2]
        if self.dither == "floyd-steinberg":
            q = Image.fromarray(rgb, "RGB").quantize(palette=self._pal_img, dither=Image.Dither.FLOYDSTEINBERG)
            return np.minimum(np.asarray(q), len(self.palette) - 1).astype(np.uint8)
        if self.dither == "bayer" and self._spread > 0:
            x = rgb.reshape(-1, 3).astype(np.float32)
            thr = (_BAYER8 + 0.5) / 64.0 - 0.5
            tile = np.tile(thr, (h // 8 + 1, w // 8 + 1))[:h, :w].reshape(-1, 1)
            x = np.clip(x + tile * self._spread, 0, 255)
            packed = _pack(np.rint(x).astype(np.uint8))
        elif packed is None:
            packed = _pack(rgb)
        return (self._exact(packed.ravel()) - 1).astype(np.uint8).reshape(h, w)

    def _exact(self, packed: np.ndarray) -> np.ndarray:
        """Nearest index + 1 for packed colours.

        Consecutive frames share most colours: remember each colour's index + 1
        (0 = not looked up yet) and search only for new ones. The 2^24 table is
        calloc'ed zeros, so only the pages of colours that occur use memory.
        """
        if self._lookup is None:
            self._lookup = np.zeros(1 << 24, np.uint16)
        index = self._lookup[packed]
        missing = index == 0
        if missing.any():
            new = np.unique(packed[missing])
            self._lookup[new] = _nearest(_unpack(new), self.palette, self.bias) + 1
            index = self._lookup[packed]
        return index


def _run_fill(idx: np.ndarray, keep: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """Kept pixels take the shown index where that continues the run from the
    left, else stay transparent.

    Kept pixels fall into runs (along a row) of one shown index; a run is
    filled exactly when the pixel left of its start is drawn with that index.
    """
    continues = np.zeros_like(keep)
    continues[:, 1:] = keep[:, :-1] & (shown[:, 1:] == shown[:, :-1])
    start = keep & ~continues
    joins = np.zeros_like(keep)
    joins[:, 1:] = ~keep[:, :-1] & (idx[:, :-1] == shown[:, 1:])
    start, joins = start.ravel(), (joins & start).ravel()
    run = np.cumsum(start)  # run number of each pixel (meaningful where kept)
    filled = np.zeros(int(run[-1]) + 1, bool)
    filled[run[start]] = joins[start]
    fill = keep.ravel() & filled[run]
    out = idx.copy().ravel()
    out[fill] = shown.ravel()[fill]
    return out.reshape(idx.shape)


# ----------------------------------------------------------------- GIF blocks


def _bits_for(n_entries: int) -> int:
    return max(1, (max(n_entries, 2) - 1).bit_length())


def _color_table(palette: np.ndarray, bits: int) -> bytes:
    table = np.zeros((1 << bits, 3), np.uint8)
    table[: len(palette)] = palette
    return table.tobytes()


def _sub_blocks(data: bytes) -> bytes:
    out = bytearray()
    for s in range(0, len(data), 255):
        chunk = data[s : s + 255]
        out.append(len(chunk))
        out += chunk
    out.append(0)
    return bytes(out)


def _lzw(indices: np.ndarray, bits: int) -> bytes:
    """Code size byte + LZW sub-blocks + terminator for a 2-D index array."""
    code_size = max(2, bits)
    h, w = indices.shape
    im = Image.frombuffer("P", (w, h), np.ascontiguousarray(indices, np.uint8), "raw", "P", 0, 1)
    return bytes([code_size]) + im.tobytes("gif", "P", code_size, 0) + b"\0"


@dataclass
class _Pending:
    """A frame computed but not yet written (its disposal depends on the next)."""

    rect: tuple[int, int, int, int]  # x0, y0, x1, y1
    indices: np.ndarray  # rect-sized palette indices
    palette: np.ndarray | None  # local colour table (per-frame mode)
    transparent: int | None
    delay: int
    data: bytes  # LZW of ``indices`` (redone if the rect grows)


# ----------------------------------------------------------------- writer


class GifWriter:
    """Write frames to an animated GIF at ``path``; the file appears on ``close()``.

    Memory stays flat in clip length: the global-palette mode spools frames
    to a temporary file next to the output; only one frame (plus the canvas
    shown so far) is in memory at a time. Nothing is opened before the first
    frame; the temp and spool have fixed names beside the target (a killed
    run's are removed by the next one) and are removed on any error.
    """

    def __init__(self, path: Path, options: GifOptions | None = None) -> None:
        self.options = options if options is not None else GifOptions()
        self.options.validate()
        self.path = Path(path)
        folder = self.path.parent
        if not folder.is_dir():
            raise OutputError(f"Cannot write {self.path}: folder {folder} does not exist; create it first.")
        self.temp_path = temp_path_for(self.path)
        self.spool_path: Path | None = spool_path_for(self.path) if self.options.palette == "global" else None
        self._fp: BinaryIO | None = None
        self._spool: BinaryIO | None = None
        self._closed = False
        self._size: tuple[int, int] | None = None  # (h, w)
        self._meta: list[tuple[float, float, int]] = []  # (time, duration, channels): spool index
        self._count = 0
        self._timing = _Timing()
        self._stats = ColorStats()
        # encoder state
        self._canvas: np.ndarray | None = None  # colour shown so far, packed 0xRRGGBB (uint32)
        self._opaque: np.ndarray | None = None  # bool, shown pixel is opaque
        self._pending: _Pending | None = None
        self._cidx: np.ndarray | None = None  # palette index shown (global palette)
        self._quant: _Quantizer | None = None
        self._transparent: int | None = None
        self._global_palette = np.zeros((0, 3), np.uint8)  # set by the second pass
        self._opened = False

    def _open(self) -> None:
        """On the first frame: remove a killed run's temps for this target, open (and lock) ours."""
        clear_stale(self.path)
        if self.options.palette == "global":
            self._spool = open_temp_file(self.spool_path, self.path)
        else:
            self._fp = open_temp_file(self.temp_path, self.path)
        self._opened = True

    def _fail(self, exc: BaseException) -> None:
        """Any error: remove every temp; a disk-full / read-only OSError is re-raised as OutputError."""
        self.abort()
        if isinstance(exc, OSError):
            error = output_error(exc, self.path)
            if error is not None:
                raise error from exc

    # -- context manager
    def __enter__(self) -> "GifWriter":
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if et is None:
            self.close()
        else:
            self.abort()

    # -- public API
    def write(self, frame: Frame) -> None:
        if self._closed:
            raise RuntimeError("GifWriter is closed")
        try:
            self._write(frame)
        except BaseException as exc:
            self._fail(exc)
            raise

    def _write(self, frame: Frame) -> None:
        img = np.asarray(frame.image)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] not in (3, 4):
            raise ValueError(f"frame {frame.index}: expected H×W×3 or H×W×4 uint8, got {img.dtype} {img.shape}")
        if self._size is None:
            if img.shape[0] > 65535 or img.shape[1] > 65535:
                raise OutputError("A GIF cannot be larger than 65535 px on a side; scale the output down.")
            self._size = (img.shape[0], img.shape[1])
            self._open()
        elif img.shape[:2] != self._size:
            raise OutputError(
                f"Frame {frame.index} is {img.shape[1]}×{img.shape[0]} but the GIF is "
                f"{self._size[1]}×{self._size[0]}; all frames of one GIF must have the same size."
            )
        if self.options.palette == "global":
            assert self._spool is not None
            self._spool.write(np.ascontiguousarray(img).tobytes())
            self._meta.append((frame.time, frame.duration, img.shape[2]))
            if img.shape[2] == 4:
                self._stats.add(img[..., :3][img[..., 3] >= ALPHA_THRESHOLD])
            else:
                self._stats.add(img.reshape(-1, 3))
        else:
            self._encode(img, self._timing.delay(frame))
        self._count += 1

    def close(self) -> None:
        """Finish the file and move it to ``path``."""
        if self._closed:
            return
        try:
            if self._count == 0:
                raise OutputError(f"No frames were written to {self.path}; a GIF needs at least one frame.")
            if self.options.palette == "global":
                self._second_pass()
            self._flush(next_clear=None)
            assert self._fp is not None
            self._fp.write(b";")
            self._fp.flush()
            fsync_fd(self._fp.fileno())
            os.replace(self.temp_path, self.path)  # still locked: no other writer can take the inode
            self._fp.close()
            self._fp = None
            self._opened = False  # the temp is the output now; its name is free for another writer
            fsync_folder(self.path.parent)
        except BaseException as exc:
            self._fail(exc)
            raise
        self._closed = True
        self._cleanup()

    def abort(self) -> None:
        """Stop and remove every temporary file; nothing appears at ``path``."""
        self._closed = True
        self._cleanup()

    # -- internals
    def _cleanup(self) -> None:
        for f in (self._fp, self._spool):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._fp = self._spool = None
        if not self._opened:
            return  # never opened: the names may be another writer's
        for p in (self.temp_path, self.spool_path):
            if p is not None:
                try:
                    p.unlink()
                except OSError:
                    pass

    def _second_pass(self) -> None:
        assert self._spool is not None and self._size is not None
        self._spool.close()
        self._spool = None
        n_visible = min(self.options.colors, 255)
        palette, bias = build_palette(self._stats, n_visible, rate=self.options.lossy)
        self._transparent = len(palette)
        self._global_palette = np.concatenate([palette, np.zeros((1, 3), np.uint8)])
        self._quant = _Quantizer(palette, self.options.dither, bias)
        self._fp = open_temp_file(self.temp_path, self.path)
        h, w = self._size
        timing = _Timing()
        # Without dithering a pixel's index does not depend on its neighbours, so a
        # second thread reads and quantises frame i + 1 while frame i is compared,
        # cropped and LZW-packed (numpy's distances and table reads and Pillow's
        # LZW encoder release the GIL): the same bytes, on two cores.
        ahead = self.options.dither == "none"
        quant = self._quant

        def load(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
            img = np.frombuffer(spool.read(h * w * self._meta[i][2]), np.uint8).reshape(h, w, -1)
            packed = _pack(img[..., :3]).reshape(h, w)
            return img, packed, quant(img[..., :3], packed) if ahead else None

        with open(self.spool_path, "rb") as spool, ThreadPoolExecutor(1) as worker:  # type: ignore[arg-type]
            pending = worker.submit(load, 0)
            for i, (t, dur, _) in enumerate(self._meta):
                img, packed, indices = pending.result()
                if i + 1 < len(self._meta):
                    pending = worker.submit(load, i + 1)
                self._encode(img, timing.delay(Frame(i, t, dur, img)), indices, packed)
        self.spool_path.unlink()  # type: ignore[union-attr]  (the GIF temp stays locked; the spool is done)

    def _write_header(self, h: int, w: int) -> None:
        assert self._fp is not None
        fp = self._fp
        fp.write(b"GIF89a")
        if self.options.palette == "global":
            bits = _bits_for(len(self._global_palette))
            fp.write(struct.pack("<HHBBB", w, h, 0x80 | 0x70 | (bits - 1), self._transparent or 0, 0))
            fp.write(_color_table(self._global_palette, bits))
        else:
            fp.write(struct.pack("<HHBBB", w, h, 0x70, 0, 0))
        if self.options.loop >= 0:
            fp.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", self.options.loop) + b"\x00")
        if self.options.comment:
            fp.write(b"\x21\xfe" + _sub_blocks(self.options.comment.encode("utf-8")))

    def _encode(self, img: np.ndarray, delay: int, indices: np.ndarray | None = None,
                packed: np.ndarray | None = None) -> None:
        """Write one frame; ``indices``: the whole frame already quantised (global palette, no dither);
        ``packed``: its RGB as ``_pack`` gives it (H×W).

        Colours are compared packed (one uint32 a pixel, the canvas too): a third of
        the memory traffic of H×W×3 compares, and palette look-ups are 1-D gathers."""
        h, w = img.shape[:2]
        rgb = np.ascontiguousarray(img[..., :3])
        alpha = img[..., 3] >= ALPHA_THRESHOLD if img.shape[2] == 4 else None
        if self._canvas is None:
            if self._fp is None:
                self._fp = open_temp_file(self.temp_path, self.path)
            self._write_header(h, w)
            self._canvas = np.zeros((h, w), np.uint32)
            self._opaque = np.zeros((h, w), bool)
            self._cidx = np.zeros((h, w), np.uint8) if self.options.palette == "global" else None
            first = True
        else:
            first = False
        assert self._opaque is not None
        # Does this frame need shown pixels to become transparent? Then the
        # pending frame is disposed to background (its rect grown to cover them).
        clear = None
        if alpha is not None:
            clear = self._opaque & ~alpha
            if not clear.any():
                clear = None
        self._flush(next_clear=clear)

        # What must be drawn: visible pixels that differ (beyond tolerance) from
        # what is shown. Transparent-in-source pixels over transparent canvas stay.
        vis = alpha if alpha is not None else np.ones((h, w), bool)
        tol = float(self.options.tolerance)
        if packed is None:
            packed = _pack(rgb).reshape(h, w)
        if tol > 0:
            diff = rgb.astype(np.int32) - _unpack(self._canvas.ravel()).reshape(h, w, 3).astype(np.int32)
            same = (diff * diff).sum(-1) <= tol * tol
        else:
            same = packed == self._canvas
        unchanged = self._opaque & vis & same
        draw = vis & ~unchanged
        if first:
            x0, y0, x1, y1 = 0, 0, w, h
        else:
            ys = np.flatnonzero(draw.any(1))
            if len(ys) == 0:
                x0, y0, x1, y1 = 0, 0, 1, 1
            else:
                xs = np.flatnonzero(draw.any(0))
                x0, y0, x1, y1 = int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1
        if self.options.palette == "per-frame":
            sample = rgb[draw]  # only what is redrawn needs colours
            stats = ColorStats()
            stats.add(sample)
            has_t = not first or alpha is not None
            n_visible = min(self.options.colors, 255 if has_t else 256)
            palette, bias = build_palette(stats, n_visible, iters=6, rate=self.options.lossy)
            quant = _Quantizer(palette, self.options.dither, bias)
            transparent: int | None = len(palette) if has_t else None
            local = np.concatenate([palette, np.zeros((1, 3), np.uint8)]) if has_t else palette
        else:
            assert self._quant is not None
            quant, palette, transparent, local = self._quant, self._global_palette, self._transparent, None

        sub = rgb[y0:y1, x0:x1]
        idx = indices[y0:y1, x0:x1] if indices is not None else quant(sub, packed[y0:y1, x0:x1])
        chosen = _pack(palette)[idx]  # the colour each pixel gets, packed
        cv = self._canvas[y0:y1, x0:x1]
        # Quantising can land on the colour already shown: keep it transparent then.
        sub_draw = draw[y0:y1, x0:x1]
        if transparent is not None:
            shown_same = (chosen == cv) & self._opaque[y0:y1, x0:x1]
            sub_draw = sub_draw & ~shown_same
            idx = np.where(sub_draw, idx, transparent)
        # update canvas
        np.copyto(cv, chosen, where=sub_draw)
        self._opaque[y0:y1, x0:x1] |= sub_draw
        bits = _bits_for(len(local) if local is not None else len(palette))
        data = _lzw(idx, bits)
        if local is None and self._cidx is not None and not first:
            # Pixels left as they are can be written as the transparent index or as
            # the index already shown: same picture, different LZW strings. Keep
            # the variant that packs smallest.
            keep = (idx == transparent) & self._opaque[y0:y1, x0:x1]
            if keep.any():
                shown = self._cidx[y0:y1, x0:x1]
                for alt in (np.where(keep, shown, idx), _run_fill(idx, keep, shown)):
                    alt_data = _lzw(alt, bits)
                    if len(alt_data) < len(data):
                        idx, data = alt, alt_data
        if self._cidx is not None:
            np.copyto(self._cidx[y0:y1, x0:x1], idx, where=sub_draw)
        self._pending = _Pending((x0, y0, x1, y1), idx.astype(np.uint8), local, transparent, delay, data)

    def _flush(self, next_clear: np.ndarray | None) -> None:
        """Write the pending frame; dispose it to background if ``next_clear``."""
        p = self._pending
        if p is None:
            return
        assert self._fp is not None and self._canvas is not None and self._opaque is not None
        x0, y0, x1, y1 = p.rect
        idx = p.indices
        disposal = 1
        if next_clear is not None:
            disposal = 2
            ys = np.flatnonzero(next_clear.any(1))
            xs = np.flatnonzero(next_clear.any(0))
            nx0, ny0 = min(x0, int(xs[0])), min(y0, int(ys[0]))
            nx1, ny1 = max(x1, int(xs[-1]) + 1), max(y1, int(ys[-1]) + 1)
            if (nx0, ny0, nx1, ny1) != (x0, y0, x1, y1):
                t = p.transparent
                if t is None:  # a frame without a transparent index cannot grow; cannot happen
                    raise AssertionError("frame without transparent index needs disposal")
                grown = np.full((ny1 - ny0, nx1 - nx0), t, np.uint8)
                grown[y0 - ny0 : y1 - ny0, x0 - nx0 : x1 - nx0] = idx
                idx, (x0, y0, x1, y1) = grown, (nx0, ny0, nx1, ny1)
                p.data = b""
        fp = self._fp
        flags = (disposal << 2) | (1 if p.transparent is not None else 0)
        fp.write(struct.pack("<BBBBHBB", 0x21, 0xF9, 4, flags, p.delay, p.transparent or 0, 0))
        if p.palette is not None:
            bits = _bits_for(len(p.palette))
            fp.write(struct.pack("<BHHHHB", 0x2C, x0, y0, x1 - x0, y1 - y0, 0x80 | (bits - 1)))
            fp.write(_color_table(p.palette, bits))
        else:
            bits = _bits_for(len(self._global_palette))
            fp.write(struct.pack("<BHHHHB", 0x2C, x0, y0, x1 - x0, y1 - y0, 0))
        fp.write(p.data or _lzw(idx, bits))
        if disposal == 2:
            self._opaque[y0:y1, x0:x1] = False
            self._canvas[y0:y1, x0:x1] = 0
        self._pending = None
