"""Media fixtures written by the tests themselves (PyAV and Pillow): nothing is downloaded.

Every picture carries its own frame number as a *barcode*: a strip along the
bottom (the lowest eighth of the picture) split into 8 cells, cell ``b`` white
when bit ``b`` of the index is set and black otherwise. The cells are large,
so the number survives H.264, palette quantisation and scaling;
:func:`read_index` reads it back, which is how tests check *which* source
frame an output frame shows (fps resampling, VFR, trimming, ordering).

Above the strip: a horizontal gradient with a bright box that moves right by
``BOX_STEP`` pixels a frame (the "moving box" of the design notes).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

BITS = 8
BOX = 16
BOX_STEP = 4
# 40 ms then 120 ms, alternating: an obviously variable frame rate.
VFR_DURATIONS_MS = (40, 120)


# -- pictures ------------------------------------------------------------------


def picture(index: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    """RGB frame ``index`` (H×W×3 uint8) of ``size`` = (width, height): gradient, moving box, barcode."""
    w, h = size
    image = np.zeros((h, w, 3), np.uint8)
    ramp = np.linspace(30, 200, w, dtype=np.float32).astype(np.uint8)
    image[..., 0] = ramp[None, :]
    image[..., 1] = 60
    image[..., 2] = ramp[::-1][None, :]
    strip = h - h // 8
    room = max(1, w - BOX)
    x = (index * BOX_STEP) % room
    y = max(0, (strip - BOX) // 2)
    image[y : y + BOX, x : x + BOX] = (255, 255, 120)
    image[strip:] = 0
    for bit in range(BITS):
        if (index >> bit) & 1:
            image[strip:, bit * w // BITS : (bit + 1) * w // BITS] = 255
    return image


def read_index(image: np.ndarray) -> int:
    """The frame number written by :func:`picture` (works after scaling, H.264, GIF, rotation undone)."""
    h, w = image.shape[:2]
    rgb = image[..., :3].astype(np.float32)
    top = h - h // 8
    row0, row1 = top + (h - top) // 4, h - (h - top) // 4
    value = 0
    for bit in range(BITS):
        c0, c1 = bit * w // BITS, (bit + 1) * w // BITS
        pad = max(1, (c1 - c0) // 4)
        cell = rgb[row0 : max(row0 + 1, row1), c0 + pad : max(c0 + pad + 1, c1 - pad)]
        if cell.mean() > 128:
            value |= 1 << bit
    return value


def rgba_picture(index: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """RGBA frame: :func:`picture` with its top-left quarter fully transparent (pure red under it)."""
    w, h = size
    rgb = picture(index, size)
    alpha = np.full((h, w, 1), 255, np.uint8)
    rgba = np.concatenate([rgb, alpha], axis=2)
    rgba[: h // 4, : w // 4] = (255, 0, 0, 0)
    return rgba


def textured(size: tuple[int, int] = (128, 96), seed: int = 0) -> np.ndarray:
    """Smooth random texture (width, height): every patch is distinct, so optical flow locks on."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC))


# -- video clips -----------------------------------------------------------------


def _sine(rate: int, start: int, count: int, hz: float = 440.0) -> np.ndarray:
    t = (np.arange(start, start + count, dtype=np.float64)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)[None, :]


def _mux_tone(container, stream, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    total = int(round(seconds * rate))
    written = 0
    while written < total:
        n = min(1024, total - written)
        frame = av.AudioFrame.from_ndarray(_sine(rate, written, n), format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = written
        frame.time_base = Fraction(1, rate)
        written += n
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def _video_stream(container, codec: str, fps: int, size: tuple[int, int]):
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    if codec == "libx264":
        # Near lossless and quick: the barcode and box must survive.
        stream.options = {"crf": "12", "preset": "ultrafast"}
    return stream


def moving_box_clip(
    path: str | Path,
    *,
    frames: int = 30,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
    codec: str = "libx264",
    audio: bool = False,
    faststart: bool = False,
) -> Path:
    """A constant-frame-rate clip of :func:`picture` frames 0..frames-1 (optionally with a 440 Hz AAC tone)."""
    path = Path(path)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = _video_stream(container, codec, fps, size)
        if audio:
            tone = container.add_stream("aac", rate=44100)
            tone.layout = "mono"
            _mux_tone(container, tone, frames / fps)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(i, size), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def upright_portrait(index: int, size: tuple[int, int] = (96, 160)) -> np.ndarray:
    """A portrait :func:`picture` with a pure green marker in its top-left corner (to check orientation)."""
    image = picture(index, size)
    w, h = size
    image[: h // 8, : w // 4] = (0, 255, 0)
    return image


def rotated_clip(path: str | Path, rotation: int = 90, *, frames: int = 10, fps: int = 10,
                 size: tuple[int, int] = (96, 160)) -> Path:
    """A clip that *displays* as :func:`upright_portrait` frames of ``size`` (portrait).

    The picture is stored turned the other way (landscape for 90/270) with a
    display matrix saying "rotate ``rotation`` degrees counter-clockwise", the
    way phones store portrait video.
    """
    path = Path(path)
    k = (rotation // 90) % 4
    stored_size = (size[1], size[0]) if k % 2 else size
    with av.open(str(path), mode="w") as container:
        stream = _video_stream(container, "libx264", fps, stored_size)
        stream.set_display_rotation(rotation)
        for i in range(frames):
            # Displaying turns the stored picture k quarter turns counter-clockwise,
            # so store it k quarter turns clockwise.
            stored = np.ascontiguousarray(np.rot90(upright_portrait(i, size), k=-k))
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def vfr_times(frames: int = 20) -> list[tuple[float, float]]:
    """(start, duration) in seconds of each frame of :func:`vfr_clip`."""
    out, t = [], 0
    for i in range(frames):
        d = VFR_DURATIONS_MS[i % len(VFR_DURATIONS_MS)]
        out.append((t / 1000, d / 1000))
        t += d
    return out


def vfr_clip(path: str | Path, *, frames: int = 20, size: tuple[int, int] = (160, 120)) -> Path:
    """Variable frame rate MP4: frame durations alternate 40 ms / 120 ms (time base 1/1000)."""
    path = Path(path)
    tb = Fraction(1, 1000)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(25, 2))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = tb
        stream.codec_context.time_base = tb
        stream.options = {"crf": "12", "preset": "ultrafast", "bframes": "0"}
        for i, (start, duration) in enumerate(vfr_times(frames)):
            frame = av.VideoFrame.from_ndarray(picture(i, size), format="rgb24")
            frame.pts = round(start * 1000)
            frame.time_base = tb
            frame.duration = round(duration * 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def truncated_mp4(src: str | Path, dst: str | Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``src``'s bytes, as a download cut off half way leaves it."""
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


# -- images and animations ---------------------------------------------------------


def rgba_gif(path: str | Path, *, frames: int = 6, size: tuple[int, int] = (64, 48), duration_ms: int = 100) -> Path:
    """A GIF whose frames have fully transparent pixels (the top-left quarter)."""
    path = Path(path)
    images = []
    for i in range(frames):
        rgba = rgba_picture(i, size)
        # Palette image: a few flat colours plus index 255 for "transparent".
        rgb = Image.fromarray(rgba[..., :3]).quantize(colors=200, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        indices = np.array(rgb)
        indices[rgba[..., 3] == 0] = 255
        palette = rgb.getpalette()[: 200 * 3] + [0, 0, 0] * 56
        image = Image.fromarray(indices, "P")
        image.putpalette(palette)
        image.info["transparency"] = 255
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0,
                   transparency=255, disposal=2, optimize=False)
    return path


def rgba_png_sequence(folder: str | Path, *, frames: int = 12, size: tuple[int, int] = (64, 48),
                      name: str = "frame{}.png") -> Path:
    """A folder of RGBA PNGs named frame0.png … frame11.png (not zero-padded: natural sort matters)."""
    return png_sequence(folder, frames=frames, size=size, name=name, alpha=True)


def png_sequence(folder: str | Path, *, frames: int = 12, size: tuple[int, int] = (64, 48),
                 name: str = "frame{}.png", alpha: bool = False) -> Path:
    """A folder of RGB (or RGBA) PNGs named frame0.png … (not zero-padded)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        image = Image.fromarray(rgba_picture(i, size), "RGBA") if alpha else Image.fromarray(picture(i, size), "RGB")
        image.save(folder / name.format(i))
    return folder


def one_frame_png(path: str | Path, size: tuple[int, int] = (64, 48), index: int = 7) -> Path:
    """A single still PNG (frame number ``index``)."""
    path = Path(path)
    Image.fromarray(picture(index, size), "RGB").save(path)
    return path


def webp_anim(path: str | Path, *, durations_ms: tuple[int, ...] = (100, 200, 100, 300), size: tuple[int, int] = (64, 48)) -> Path:
    """An animated WebP (Pillow), one frame per duration, lossless so the barcode is exact."""
    path = Path(path)
    images = [Image.fromarray(rgba_picture(i, size), "RGBA") for i in range(len(durations_ms))]
    images[0].save(path, save_all=True, append_images=images[1:], duration=list(durations_ms), loop=0, lossless=True)
    return path


def apng(path: str | Path, *, durations_ms: tuple[int, ...] = (100, 200, 100, 300), size: tuple[int, int] = (64, 48)) -> Path:
    """An animated PNG (Pillow), RGBA, one frame per duration."""
    path = Path(path)
    images = [Image.fromarray(rgba_picture(i, size), "RGBA") for i in range(len(durations_ms))]
    images[0].save(path, save_all=True, append_images=images[1:], duration=list(durations_ms), loop=0,
                   default_image=False, disposal=1, blend=0)
    return path


# -- reading outputs back ------------------------------------------------------------


def gif_frames(path: str | Path) -> tuple[list[np.ndarray], list[int], dict]:
    """Every frame of a GIF (RGBA arrays), its delay in ms, and the first frame's info (loop …)."""
    images, delays = [], []
    with Image.open(path) as image:
        info = dict(image.info)
        for i in range(getattr(image, "n_frames", 1)):
            image.seek(i)
            image.load()
            delays.append(int(image.info.get("duration", 0)))
            images.append(np.asarray(image.convert("RGBA")))
    return images, delays, info


def video_timing(path: str | Path) -> list[tuple[float, float]]:
    """(pts, duration) in seconds of each video packet of a container, in presentation order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        out = [
            (float(p.pts * p.time_base), float((p.duration or 0) * p.time_base))
            for p in container.demux(stream)
            if p.pts is not None and p.size
        ]
    return sorted(out)


def decode_all(path: str | Path) -> list[np.ndarray]:
    """Every video frame of a file as RGB(A) arrays, via PyAV."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


# -- clips with and without cuts (scripts/make_cuts_clip.py draws them) ----------------------------


def cuts_script():
    """scripts/make_cuts_clip.py as a module (its scenes, SHOTS, CUTS, FPS)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "make_cuts_clip.py"
    spec = importlib.util.spec_from_file_location("make_cuts_clip", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cuts_clip(path: str | Path, size: tuple[int, int] = (64, 40), shots: tuple[int, ...] | None = None,
              first: int = 0) -> Path:
    """The clip with cuts at 25 fps (``shots``: frames per shot; ``first``: the first shot's scene)."""
    script = cuts_script()
    return script.write_mp4(path, script.cuts_frames(size, shots or script.SHOTS, first=first))


def busy_clip(path: str | Path, size: tuple[int, int] = (64, 40)) -> Path:
    """The busy clip without a cut (a whip pan) at 25 fps."""
    script = cuts_script()
    return script.write_mp4(path, script.busy_frames(size))
