"""Image and video quality measures (numpy in, float out).

All functions take uint8 (or float in 0..255) arrays of the same shape:
H×W (grey) or H×W×C; an alpha channel (C = 4) is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

__all__ = ["Score", "clip_consistency", "paired_frames", "plot_score", "psnr", "score_clip", "score_frames", "ssim", "warp_error"]


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim == 3 and a.shape[2] == 4:
        a, b = a[..., :3], b[..., :3]
    return a.astype(np.float64), b.astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (peak 255) over all channels; inf if identical."""
    x, y = _pair(a, b)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004), the mean over the RGB channels.

    Each channel is compared separately (not luminance only) with a Gaussian
    window σ = 1.5 (11×11, via ``cv2.GaussianBlur``), K1 = 0.01, K2 = 0.03,
    L = 255; the SSIM map is averaged over the whole image (borders
    included, reflected), then over channels. 1.0 means identical.
    """
    x, y = _pair(a, b)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for c in range(x.shape[2]):
        p, q = x[..., c], y[..., c]

        def blur(m: np.ndarray) -> np.ndarray:
            return cv2.GaussianBlur(m, (11, 11), 1.5)

        mu_p, mu_q = blur(p), blur(q)
        pp, qq, pq = mu_p * mu_p, mu_q * mu_q, mu_p * mu_q
        var_p = blur(p * p) - pp
        var_q = blur(q * q) - qq
        cov = blur(p * q) - pq
        num = (2 * pq + c1) * (2 * cov + c2)
        den = (pp + qq + c1) * (var_p + var_q + c2)
        scores.append(float(np.mean(num / den)))
    return float(np.mean(scores))


# -- temporal consistency ------------------------------------------------------------------------
#
# Warp error (Lai et al. 2018, "Learning Blind Video Temporal Consistency"): optical flow between
# consecutive *source* frames, occlusion by core/flow.py's forward–backward check (α = 0.01,
# β = 0.5), and the mean absolute difference (0–255) between output t warped onto t+1 and output
# t+1 over the non-occluded pixels. The same measure on the source itself is its own flicker (motion
# the flow cannot explain: noise, compression, lighting), so output − source is what the
# stylisation added.
#
# Flow across a hard cut means nothing (its warp error is ~85 where a shot's pairs give 5-15), so a
# pair whose second frame starts a new shot (``--shots``: media/shots.py) is left out of every mean
# and counted instead ("4 cuts excluded"); figures are also given per shot. An output steadier than
# its own source by more than ``SMOOTHED`` is flagged "smoothed": detail was lost, not flicker.

#: output warp error below (1 - SMOOTHED) × the source's: "smoothed"
SMOOTHED = 0.10


def warp_error(previous: np.ndarray, current: np.ndarray, backward: np.ndarray, occluded: np.ndarray) -> float:
    """Mean |warp(previous) − current| (0–255, over channels) where ``occluded`` is False."""
    from .core.flow import warp_to

    a = warp_to(np.ascontiguousarray(np.asarray(previous)[..., :3]), backward).astype(np.float32)
    b = np.asarray(current)[..., :3].astype(np.float32)
    keep = ~occluded
    if not keep.any():
        return 0.0
    return float(np.abs(a - b)[keep].mean())


def _per_frame(pairs: list[float], count: int, cuts: Iterable[int] = ()) -> list[float]:
    """Each frame's mean warp error to its neighbours (pair t−1→t and pair t→t+1): a bad frame peaks alone.
    Pairs across a cut (pair c−1 → c for c in ``cuts``) are left out."""
    if count < 2:
        return [0.0] * count
    skip = {c - 1 for c in cuts}
    out = []
    for t in range(count):
        near = [pairs[p] for p in (t - 1, t) if 0 <= p < len(pairs) and p not in skip]
        out.append(float(np.mean(near)) if near else 0.0)
    return out


def _mean_within(pairs: list[float], cuts: Iterable[int], first: int = 0, last: int | None = None) -> float:
    """Mean of pairs t → t+1 with first ≤ t < last (frames), leaving out the pairs across a cut."""
    skip = {c - 1 for c in cuts}
    last = len(pairs) if last is None else last
    kept = [pairs[p] for p in range(first, min(last, len(pairs))) if p not in skip]
    return float(np.mean(kept)) if kept else 0.0


@dataclass
class Score:
    """How steady an output clip is and how much of its source it keeps."""

    frames: int
    flow: str
    warp_error: float  # mean over consecutive pairs of the output
    source_warp_error: float  # the same on the source: its own flicker
    ssim: float  # mean SSIM of each output frame to its source frame
    psnr: float  # mean PSNR (dB; identical frames count as 100 dB)
    pairs: list[float] = field(default_factory=list)  # output warp error of pair t → t+1
    source_pairs: list[float] = field(default_factory=list)
    ssim_frames: list[float] = field(default_factory=list)
    psnr_frames: list[float | None] = field(default_factory=list)  # None = identical (infinite)
    clip: float | None = None  # CLIP frame consistency (mean cosine of consecutive frames)
    clip_note: str = "not computed"
    cuts: list[int] = field(default_factory=list)  # first frames of shots 2..n: pairs into them are excluded

    @property
    def added_flicker(self) -> float:
        return self.warp_error - self.source_warp_error

    @property
    def smoothed(self) -> bool:
        """Steadier than its own source by more than SMOOTHED: detail lost (over-smoothing), not flicker removed."""
        return self.source_warp_error > 0 and self.warp_error < (1 - SMOOTHED) * self.source_warp_error

    @property
    def per_frame(self) -> list[float]:
        return _per_frame(self.pairs, self.frames, self.cuts)

    @property
    def source_per_frame(self) -> list[float]:
        return _per_frame(self.source_pairs, self.frames, self.cuts)

    @property
    def shots(self) -> list[dict]:
        """Per shot: its frames and its warp errors (output, source), pairs inside the shot only."""
        starts = [0, *self.cuts]
        ends = [c - 1 for c in self.cuts] + [self.frames - 1]
        return [{"shot": n + 1, "start_frame": a, "end_frame": b,
                 "warp_error": round(_mean_within(self.pairs, (), a, b), 4),
                 "source_warp_error": round(_mean_within(self.source_pairs, (), a, b), 4)}
                for n, (a, b) in enumerate(zip(starts, ends))]

    def to_dict(self) -> dict:
        return {
            "frames": self.frames, "flow": self.flow,
            "warp_error": round(self.warp_error, 4), "source_warp_error": round(self.source_warp_error, 4),
            "added_flicker": round(self.added_flicker, 4),
            "ssim": round(self.ssim, 4), "psnr": round(self.psnr, 4),
            "clip_consistency": None if self.clip is None else round(self.clip, 4), "clip_note": self.clip_note,
            "smoothed": self.smoothed, "cuts": list(self.cuts), "cuts_excluded": len(self.cuts), "shots": self.shots,
            "per_pair": {"warp_error": [round(v, 4) for v in self.pairs],
                         "source_warp_error": [round(v, 4) for v in self.source_pairs]},
            "per_frame": {"warp_error": [round(v, 4) for v in self.per_frame],
                          "ssim": [round(v, 4) for v in self.ssim_frames],
                          "psnr": [None if v is None else round(v, 4) for v in self.psnr_frames]},
        }


def score_frames(pairs: Iterable[tuple[np.ndarray, np.ndarray]], *, flow: str = "dis",
                 clip_frames: Callable[[Iterable[np.ndarray]], tuple[float | None, str]] | None = None,
                 shots: str = "auto") -> Score:
    """Score (output, source) frame pairs, streamed in order (only the previous pair is held).

    Source frames are resized to the output's size when they differ (the model's processing
    size is a multiple of 8). ``clip_frames`` (see :func:`clip_consistency`) gets the outputs.
    ``shots`` (``--shots``: auto finds the cuts on the source frames): pairs across a cut are left
    out of the means and counted in ``cuts``.
    """
    from .core.flow import motion
    from .core.resize import fit
    from .media.shots import Detector, find_shots

    detector = Detector() if shots == "auto" else None

    result = Score(0, flow, 0.0, 0.0, 0.0, 0.0)
    previous: tuple[np.ndarray, np.ndarray] | None = None
    outputs_for_clip: list[np.ndarray] = []
    for output, source in pairs:
        output = np.asarray(output)[..., :3]
        source = fit(source, output.shape[:2])
        if detector is not None:
            detector.add(source)
        result.ssim_frames.append(ssim(output, source))
        value = psnr(output, source)
        result.psnr_frames.append(None if math.isinf(value) else value)
        if previous is not None:
            prev_out, prev_src = previous
            backward, occluded = motion(prev_src, source, flow)
            result.pairs.append(warp_error(prev_out, output, backward, occluded))
            result.source_pairs.append(warp_error(prev_src, source, backward, occluded))
        if clip_frames is not None:
            outputs_for_clip.append(output)
        previous = (output, source)
        result.frames += 1
    if result.frames == 0:
        raise ValueError("no frames to score")
    found = detector.shots() if detector is not None else find_shots([], result.frames, shots)
    result.cuts = list(found.cuts)
    result.warp_error = _mean_within(result.pairs, result.cuts)
    result.source_warp_error = _mean_within(result.source_pairs, result.cuts)
    result.ssim = float(np.mean(result.ssim_frames))
    result.psnr = float(np.mean([100.0 if v is None else v for v in result.psnr_frames]))
    if clip_frames is not None:
        result.clip, result.clip_note = clip_frames(outputs_for_clip)
    return result


# -- CLIP frame consistency (only with local weights) ---------------------------------------------

CLIP_HUB_ID = "openai/clip-vit-base-patch32"


def find_clip(model: str | None = None) -> str | None:
    """A local CLIP folder: ``model``, else ``$ROTOSCOPE_CLIP``, else the Hub cache's copy of CLIP ViT-B/32; None if absent."""
    import os
    from pathlib import Path

    for candidate in (model, os.environ.get("ROTOSCOPE_CLIP")):
        if candidate and (Path(candidate) / "config.json").exists():
            return candidate
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(CLIP_HUB_ID, "config.json")
    except Exception:  # noqa: BLE001 — no hub library or a broken cache: simply not available
        return None
    return str(Path(cached).parent) if isinstance(cached, str) else None


def clip_consistency(frames: Iterable[np.ndarray], model: str | None = None) -> tuple[float | None, str]:
    """Mean cosine similarity of consecutive frames' CLIP image embeddings, or (None, why not)."""
    where = find_clip(model)
    if where is None:
        return None, ("not computed: no CLIP weights found locally (pass --clip-model FOLDER or set "
                      f"ROTOSCOPE_CLIP; the Hub cache has no {CLIP_HUB_ID})")
    import torch
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPModel

    clip = CLIPModel.from_pretrained(where, local_files_only=True).eval()
    processor = CLIPImageProcessor.from_pretrained(where, local_files_only=True)
    sims, previous = [], None
    with torch.inference_mode():
        for frame in frames:
            pixels = processor(images=[Image.fromarray(np.ascontiguousarray(frame[..., :3]))], return_tensors="pt")
            emb = clip.get_image_features(pixel_values=pixels["pixel_values"])
            emb = getattr(emb, "pooler_output", emb)
            emb = torch.nn.functional.normalize(emb, dim=-1)
            if previous is not None:
                sims.append(float((emb * previous).sum()))
            previous = emb
    if not sims:
        return None, "not computed: one frame only"
    return float(np.mean(sims)), f"CLIP image embeddings from {where}"


# -- per-frame plot ----------------------------------------------------------------------------------

#: Plot geometry (pixels): the picture size and the plotting area's margins.
PLOT_SIZE = (720, 300)
PLOT_MARGINS = (56, 16, 28, 40)  # left, right, top, bottom
OUTPUT_COLOUR = (214, 39, 40)
SOURCE_COLOUR = (140, 140, 140)
CUT_COLOUR = (31, 119, 180)
SHOT_COLOUR = (120, 20, 20)  # a shot's mean output warp error: a thin line over the shot


def plot_x(frame: int, count: int) -> float:
    """The x pixel of ``frame`` (0-based) in a plot of ``count`` frames."""
    left, right, _, _ = PLOT_MARGINS
    span = PLOT_SIZE[0] - left - right
    return left + (span * frame / (count - 1) if count > 1 else span / 2)


def plot_score(score: Score, path, title: str = "") -> None:
    """A PNG of each frame's warp error (output in red, source in grey) over time: where it flickers."""
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    from .media.atomic import write_bytes_atomic

    w, h = PLOT_SIZE
    left, right, top, bottom = PLOT_MARGINS
    image = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    values, source = score.per_frame, score.source_per_frame
    peak = max([*values, *source, 1e-6])
    top_value = _nice_ceiling(peak)

    def y_of(v: float) -> float:
        return top + (h - top - bottom) * (1 - v / top_value)

    for k in range(5):
        v = top_value * k / 4
        y = y_of(v)
        draw.line([(left, y), (w - right, y)], fill=(230, 230, 230))
        draw.text((4, y - 6), f"{v:g}", fill=(60, 60, 60), font=font)
    n = score.frames
    step = max(1, n // 12)
    for i in range(0, n, step):
        x = plot_x(i, n)
        draw.line([(x, h - bottom), (x, h - bottom + 4)], fill=(60, 60, 60))
        draw.text((x - 6, h - bottom + 6), str(i), fill=(60, 60, 60), font=font)
    draw.rectangle([left, top, w - right, h - bottom], outline=(60, 60, 60))
    starts, ends = [0, *score.cuts], [c - 1 for c in score.cuts] + [n - 1]
    for cut in score.cuts:  # a cut: a dashed line between its two frames; lines are not drawn across it
        x = (plot_x(cut - 1, n) + plot_x(cut, n)) / 2
        for y in range(top, h - bottom, 6):
            draw.line([(x, y), (x, min(y + 3, h - bottom))], fill=CUT_COLOUR, width=1)
        draw.text((x + 2, top + 2), "cut", fill=CUT_COLOUR, font=font)
    for shot, a, b in zip(score.shots, starts, ends):  # each shot's mean output warp error
        y = y_of(shot["warp_error"])
        draw.line([(plot_x(a, n), y), (plot_x(b, n), y)], fill=SHOT_COLOUR, width=1)
    for series, colour in ((source, SOURCE_COLOUR), (values, OUTPUT_COLOUR)):
        for a, b in zip(starts, ends):
            points = [(plot_x(i, n), y_of(series[i])) for i in range(a, b + 1)]
            if len(points) > 1:
                draw.line(points, fill=colour, width=2)
        for i, v in enumerate(series):
            x, y = plot_x(i, n), y_of(v)
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
    label = title or "warp error per frame (0-255; lower is steadier)"
    cuts = f"   {len(score.cuts)} cuts excluded (dashed)" if score.cuts else ""
    draw.text((left, 4), f"{label}   red: output {score.warp_error:.2f}   grey: source {score.source_warp_error:.2f}{cuts}",
              fill=(0, 0, 0), font=font)
    draw.text((w // 2 - 20, h - 14), "frame", fill=(60, 60, 60), font=font)
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, buffer.getvalue())


def _nice_ceiling(value: float) -> float:
    """1, 2 or 5 × 10^k at or above ``value``."""
    exp = math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * 10**exp >= value:
            return m * 10**exp
    return 10 ** (exp + 1)


# -- scoring clips ------------------------------------------------------------------------------------


def paired_frames(output, source, source_media=None) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """(output frame, source frame) pairs, streamed: each output frame meets the source frame shown at its time.

    Same frame count and timing pair one to one; an output made at another fps (or a
    GIF with rounded delays) still meets the right source frame. A folder of frames has
    no timing of its own, so with one on either side frames pair by index.
    """
    from .media.decode import iter_frames
    from .media.sources import image_sequence

    sources = iter(iter_frames(source, source_media))
    if image_sequence(output) is not None or image_sequence(source) is not None:
        for frame, src in zip(iter_frames(output), sources):
            yield frame.image, src.image
        return
    current = next(sources)
    upcoming = next(sources, None)
    for frame in iter_frames(output):
        while upcoming is not None and upcoming.time <= frame.time + 1e-3:
            current, upcoming = upcoming, next(sources, None)
        yield frame.image, current.image


def score_clip(output, source, *, source_media=None, flow: str = "dis", clip: bool = True,
               clip_model: str | None = None) -> Score:
    """Score a stylised clip against the clip it was made from (any format rotoscope reads)."""
    clip_frames = (lambda frames: clip_consistency(frames, clip_model)) if clip and find_clip(clip_model) else None
    shots = source_media.shots if source_media is not None else "auto"
    result = score_frames(paired_frames(output, source, source_media), flow=flow, clip_frames=clip_frames, shots=shots)
    if clip_frames is None:
        result.clip_note = clip_consistency([], clip_model)[1] if clip else "not computed (not asked for)"
    return result
