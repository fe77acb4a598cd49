"""The `rotoscope` command: thin — parse, build a spec, call the library, show progress.

User errors print one line and exit 2; --debug shows the traceback.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .errors import RotoscopeError
from .media.options import MediaOptions, OutputOptions, parse_size

app = typer.Typer(
    name="rotoscope",
    help="Turn a short video or GIF into a stylised AI animation.\n\nExample: rotoscope run clip.mp4 -p 'ink drawing' --seed 7 -o out.gif",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False)
# Paths and messages are printed verbatim (no rich markup: "out [v2].gif" stays intact), unwrapped.
out = Console(highlight=False, markup=False, soft_wrap=True)
_state = {"debug": False}


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks for errors.")] = False) -> None:
    _state["debug"] = debug
    _setup_logging()


class _NoteHandler(logging.Handler):
    """Notices as "note: …" lines on whatever stderr is now (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]note:[/] {escape(record.getMessage())}", soft_wrap=True)


def _setup_logging() -> None:
    logger = logging.getLogger("rotoscope")
    if not any(isinstance(h, _NoteHandler) for h in logger.handlers):
        logger.addHandler(_NoteHandler())
        logger.setLevel(logging.INFO)


def friendly(command):
    """Turn RotoscopeError into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RotoscopeError as exc:
            if _state["debug"]:
                raise
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted; finished frames are kept — run the same command again to resume.")
            raise typer.Exit(130) from None

    return wrapper


class RateColumn(ProgressColumn):
    """frames/s, the number users compare tools by."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.2f} fr/s" if speed else "  -- fr/s")


class RichProgress:
    """The library's Progress hooks drawn as a rich bar with frames/s and ETA."""

    LABELS = {"decode": "decoding", "stylize": "stylising", "encode": "encoding", "convert": "converting"}

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=False)
        self.task = None

    def start(self, stage: str, total: int | None) -> None:
        if self.task is None:
            self.bar.start()
        self.task = self.bar.add_task(self.LABELS.get(stage, stage), total=total)

    def advance(self, count: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, count)

    def finish(self) -> None:
        if self.task is not None:
            task = self.bar.tasks[-1]
            self.bar.update(self.task, total=task.completed)

    def close(self) -> None:
        if self.task is not None:
            self.bar.stop()


# -- shared options ------------------------------------------------------------

Source = Annotated[str, typer.Argument(help="Video (mp4, mov, webm, mkv, avi), GIF, animated WebP/APNG, image, folder of images or a glob.")]
Outputs = Annotated[Optional[list[str]], typer.Option("-o", "--output", help="Output path; format from the extension (.gif .mp4 .webp .apng .png) or a folder ending in / for PNG frames. Repeat for several formats from one pass.")]
Start = Annotated[float, typer.Option(help="Seconds to skip at the start (ffmpeg -ss).", rich_help_panel="Media")]
Duration = Annotated[Optional[float], typer.Option(help="Seconds to keep (ffmpeg -t).", rich_help_panel="Media")]
Fps = Annotated[Optional[float], typer.Option(help="Frame rate to resample to, by presentation time (image sequences: their rate).", rich_help_panel="Media")]
EveryNth = Annotated[int, typer.Option(help="Keep every n-th frame (each lasts until the next kept one).", rich_help_panel="Media")]
MaxFrames = Annotated[Optional[int], typer.Option(help="Stop after this many frames.", rich_help_panel="Media")]
Width = Annotated[Optional[int], typer.Option(help="Output width (aspect kept if --height is not given; lanczos).", rich_help_panel="Media")]
Height = Annotated[Optional[int], typer.Option(help="Output height (aspect kept if --width is not given).", rich_help_panel="Media")]
Background = Annotated[Optional[str], typer.Option(help="Composite transparent sources over this colour (#rrggbb); default keeps alpha where the output has it.", rich_help_panel="Media")]
MaxSize = Annotated[Optional[str], typer.Option(help="GIF byte budget, e.g. 1.5MB: fewer colours, then smaller, then lower fps until it fits.", rich_help_panel="Output")]
Colors = Annotated[int, typer.Option(help="GIF palette size (2–256).", rich_help_panel="Output")]
Dither = Annotated[str, typer.Option(help="GIF dithering: none | floyd-steinberg | bayer.", rich_help_panel="Output")]
Palette = Annotated[str, typer.Option(help="GIF palette: global | per-frame.", rich_help_panel="Output")]
Lossy = Annotated[float, typer.Option(help="GIF colour mapping: 0 = nearest colour; 2 (default) beats ffmpeg's best palette; 8 ≈ gifski-sized files.", rich_help_panel="Output")]
Loop = Annotated[int, typer.Option(help="Loop count for GIF/WebP/APNG (0 = forever).", rich_help_panel="Output")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs / redo a job made with other settings.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def media_options(start, duration, fps, every_nth, max_frames, width, height, background) -> MediaOptions:
    return MediaOptions(start=start, duration=duration, fps=fps, every_nth=every_nth, max_frames=max_frames,
                        width=width, height=height, background=background)


def output_options(outputs, colors, dither, palette, loop, max_size, overwrite, lossy=OutputOptions.lossy) -> OutputOptions:
    return OutputOptions(outputs=list(outputs or []), colors=colors, dither=dither, palette=palette, loop=loop,
                         max_size=parse_size(max_size) if max_size else None, overwrite=overwrite, lossy=lossy)


# -- probe -----------------------------------------------------------------------


@app.command()
@friendly
def probe(source: Source, as_json: Json = False) -> None:
    """Show a clip's facts: duration, frames, fps (and VFR), size, rotation, pixel format, alpha, audio.

    Example: rotoscope probe samples/cup.mp4 --json
    """
    from .media.probe import probe as run_probe

    info = run_probe(source)
    if as_json:
        out.print_json(json.dumps(info.to_dict()))
        return
    table = Table(show_header=False, box=None)
    audio = f"{info.audio.codec}, {info.audio.sample_rate} Hz, {info.audio.channels} ch" if info.audio else "none"
    rows = [("file", info.path), ("container", info.container), ("codec", info.codec),
            ("duration", f"{info.duration:.3f} s"), ("frames", str(info.frame_count)),
            ("fps", f"{info.fps:g}" + (" (variable frame rate)" if info.variable_frame_rate else "")),
            ("size", f"{info.width}x{info.height}"), ("rotation", f"{info.rotation}°"),
            ("pixel format", info.pixel_format + (" (alpha)" if info.has_alpha else "")), ("audio", audio)]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(value))
    out.print(table)


# -- convert ---------------------------------------------------------------------


@app.command()
@friendly
def convert(
    source: Source,
    output: Outputs = None,
    start: Start = 0.0, duration: Duration = None, fps: Fps = None, every_nth: EveryNth = 1,
    max_frames: MaxFrames = None, width: Width = None, height: Height = None, background: Background = None,
    max_size: MaxSize = None, colors: Colors = 256, dither: Dither = "none", palette: Palette = "global",
    lossy: Lossy = OutputOptions.lossy, loop: Loop = 0, overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Cut, resample and scale a clip into GIF / MP4 / WebP / APNG / PNG frames, with palette quality.

    Example: rotoscope convert samples/cup.mp4 --duration 3 --fps 10 --width 320 -o out/cup.gif
    """
    from .media.convert import convert as run_convert, default_output

    media = media_options(start, duration, fps, every_nth, max_frames, width, height, background)
    opts = output_options(output or [default_output(source)], colors, dither, palette, loop, max_size, overwrite, lossy)
    progress = RichProgress()
    try:
        result = run_convert(source, media, opts, progress)
    finally:
        progress.close()
    if as_json:
        data = asdict(result)
        data["outputs"] = [str(p) for p in result.outputs]
        out.print_json(json.dumps(data))
        return
    out.print(f"decoded {result.frames} frames, {result.width}x{result.height}, {result.duration:.2f} s")
    for path in result.outputs:
        out.print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} KB)")


# -- run / preview ----------------------------------------------------------------

Prompt = Annotated[Optional[str], typer.Option("-p", "--prompt", help="What the frames should look like.", rich_help_panel="Look")]
Negative = Annotated[Optional[str], typer.Option("-n", "--negative-prompt", help="What to avoid.", rich_help_panel="Look")]
Model = Annotated[Optional[str], typer.Option("--model", "-m", help="Hub id, local diffusers folder, .safetensors/.ckpt file, 'tiny' (offline test model) or classic:cartoon|pencil|watercolor|oil (no weights).", rich_help_panel="Model")]
Seed = Annotated[Optional[int], typer.Option(help="Seed; -1 draws one once, prints and records it.", rich_help_panel="Look")]
Steps = Annotated[Optional[int], typer.Option(help="Sampling steps (img2img runs steps × strength of them).", rich_help_panel="Look")]
Cfg = Annotated[Optional[float], typer.Option("--cfg", help="CFG scale.", rich_help_panel="Look")]
Strength = Annotated[Optional[float], typer.Option(help="Denoising strength in (0, 1]; 0.2–0.4 for video.", rich_help_panel="Look")]
Sampler = Annotated[Optional[str], typer.Option(help="Sampler, web-UI name ('Euler a', 'DPM++ 2M Karras', …) or diffusers class.", rich_help_panel="Look")]
SWidth = Annotated[Optional[int], typer.Option("--width", help="Processing width (multiple of 8; aspect kept if --height is not given).", rich_help_panel="Look")]
SHeight = Annotated[Optional[int], typer.Option("--height", help="Processing height (multiple of 8).", rich_help_panel="Look")]
ResizeMode = Annotated[Optional[str], typer.Option(help="just-resize | crop-and-resize | resize-and-fill.", rich_help_panel="Look")]
ClipSkip = Annotated[Optional[int], typer.Option(help="Skip the last N-1 CLIP layers (web-UI clip skip).", rich_help_panel="Look")]
BatchSize = Annotated[Optional[int], typer.Option(help="Frames per model call.", rich_help_panel="Look")]
Noise = Annotated[Optional[str], typer.Option(help="shared (every frame starts from the same noise) | per-frame.", rich_help_panel="Look")]
Vae = Annotated[Optional[str], typer.Option(help="VAE override: hub id, folder or single file; tiny = TAESD (madebyollin/taesd, fast encode/decode); model = the model's own.", rich_help_panel="Model")]
Lora = Annotated[Optional[list[str]], typer.Option("--lora", help="LoRA file[:weight]; repeatable.", rich_help_panel="Model")]
Embedding = Annotated[Optional[list[str]], typer.Option("--embedding", help="Textual-inversion embedding file; repeatable.", rich_help_panel="Model")]
ModelConfig = Annotated[Optional[str], typer.Option("--model-config", help="Local diffusers folder whose configs a single-file checkpoint uses (needed offline).", rich_help_panel="Model")]
Device = Annotated[str, typer.Option(help="auto (cuda → mps → cpu) | cpu | cuda | cuda:N | mps.", rich_help_panel="Model")]
Dtype = Annotated[str, typer.Option(help="auto (fp16 on cuda, fp32 on cpu) | fp32 | fp16 | bf16 | half (fp16 on cuda, bf16 on a cpu that has it).", rich_help_panel="Model")]
MediaWidth = Annotated[Optional[int], typer.Option("--scale-width", help="Scale source frames to this width before stylising (aspect kept).", rich_help_panel="Media")]


# -- masks (inpainting) ------------------------------------------------------------

MaskFile = Annotated[Optional[str], typer.Option("--mask", help="Mask: an image (every frame), or a video / GIF / image folder with one mask per frame. White = change, black = keep.", rich_help_panel="Mask")]
MaskRect = Annotated[Optional[list[str]], typer.Option("--mask-rect", help="Rectangle X,Y,W,H (pixels); keyframes F:X,Y,W,H/F:X,Y,W,H move it (linear in between). Repeatable.", rich_help_panel="Mask")]
MaskEllipse = Annotated[Optional[list[str]], typer.Option("--mask-ellipse", help="The ellipse inside the box X,Y,W,H; keyframes as --mask-rect. Repeatable.", rich_help_panel="Mask")]
MaskKey = Annotated[Optional[str], typer.Option("--mask-key", help="Colour key: source pixels near #rrggbb[:TOLERANCE] (RGB distance, default 40) are the mask.", rich_help_panel="Mask")]
MaskAlpha = Annotated[bool, typer.Option("--mask-from-alpha", help="The source's opaque pixels are the mask.", rich_help_panel="Mask")]
InvertMask = Annotated[bool, typer.Option("--invert-mask", help="Change the black part instead (web UI: inpaint not masked).", rich_help_panel="Mask")]
MaskBlur = Annotated[Optional[int], typer.Option("--mask-blur", help="Mask blur: Gaussian sigma of the mask edge, 0-64 (default 4).", rich_help_panel="Mask")]
InpaintArea = Annotated[Optional[str], typer.Option("--inpaint-area", help="whole (default) | only-masked: crop around the mask + padding, generate it at the processing size, paste back.", rich_help_panel="Mask")]
Padding = Annotated[Optional[int], typer.Option("--padding", help="Only-masked padding in pixels, 0-256 (default 32).", rich_help_panel="Mask")]
MaskedContent = Annotated[Optional[str], typer.Option("--masked-content", help="fill | original (default) | latent-noise | latent-nothing.", rich_help_panel="Mask")]
MaskHoldLast = Annotated[bool, typer.Option("--mask-hold-last", help="A mask sequence shorter than the clip: hold its last mask.", rich_help_panel="Mask")]
InpaintBase = Annotated[Optional[str], typer.Option("--inpaint-base", help="With --frames and a mask: inpaint over the stylised frames (output, default) or the source frames (source).", rich_help_panel="Mask")]


def mask_options(mask, mask_rect, mask_ellipse, mask_key, mask_from_alpha, invert_mask, mask_blur, inpaint_area,
                 padding, masked_content, mask_hold_last=False, inpaint_base=None):
    """MaskOptions from CLI values; inpaint settings without a mask are refused rather than ignored."""
    from .errors import OptionError
    from .stylize.mask_options import MaskOptions

    tuned = dict(mask_blur=mask_blur, inpaint_area=inpaint_area, padding=padding, masked_content=masked_content,
                 inpaint_base=inpaint_base)
    opts = MaskOptions(mask=mask, mask_rects=list(mask_rect or []), mask_ellipses=list(mask_ellipse or []),
                       mask_key=mask_key, mask_from_alpha=mask_from_alpha, invert_mask=invert_mask,
                       mask_hold_last=mask_hold_last, **{k: v for k, v in tuned.items() if v is not None})
    given = [f"--{k.replace('_', '-')}" for k, v in tuned.items() if v is not None]
    if given and not opts.active:
        raise OptionError(f"{', '.join(given)} need a mask: add --mask FILE, --mask-rect, --mask-ellipse, --mask-key or --mask-from-alpha.")
    return opts


# -- temporal consistency -----------------------------------------------------------

ConsistencyNames = Annotated[Optional[str], typer.Option("--consistency", help="Techniques, comma-separated, cheapest first: shared-noise (default) | per-frame, color-match, loopback, flow-warp, cross-frame-attention, deflicker. E.g. flow-warp,color-match.", rich_help_panel="Consistency")]
FlowMethod = Annotated[Optional[str], typer.Option("--flow", help="Optical flow for flow-warp and deflicker: dis (default) | farneback.", rich_help_panel="Consistency")]
ColorRef = Annotated[Optional[str], typer.Option("--color-match-reference", help="color-match to the first output (default) or the latest keyframe.", rich_help_panel="Consistency")]
ColorInterval = Annotated[Optional[int], typer.Option("--color-match-interval", help="color-match keyframe every N frames (default 12).", rich_help_panel="Consistency")]
LoopAlpha = Annotated[Optional[float], typer.Option("--loopback-alpha", help="loopback: weight of the previous output in the next init, 0-1 (default 0.3).", rich_help_panel="Consistency")]
LoopDecay = Annotated[Optional[float], typer.Option("--loopback-decay", help="loopback: alpha × decay^frame, (0, 1] (default 1: no decay).", rich_help_panel="Consistency")]
WarpWeight = Annotated[Optional[float], typer.Option("--flow-warp-weight", help="flow-warp: weight of the warped previous output in the init (rest: the source frame), 0-1 (default 0.3).", rich_help_panel="Consistency")]
WarpFuse = Annotated[Optional[float], typer.Option("--flow-warp-fuse", help="flow-warp: blend the warped previous output into the result where the flow is reliable, 0-1 (default 0.7; 0 = init only).", rich_help_panel="Consistency")]
CrossRefs = Annotated[Optional[str], typer.Option("--cross-frame-refs", help="cross-frame-attention reads keys/values from: first | first+previous (default).", rich_help_panel="Consistency")]
DeflickerStrength = Annotated[Optional[float], typer.Option("--deflicker-strength", help="deflicker: weight of the flow-warped previous frame in each encoded frame, 0-1 (default 0.5).", rich_help_panel="Consistency")]

#: each technique knob and the technique it belongs to
_KNOBS = {"color_match_reference": "color-match", "color_match_interval": "color-match", "loopback_alpha": "loopback",
          "loopback_decay": "loopback", "flow_warp_weight": "flow-warp", "flow_warp_fuse": "flow-warp",
          "cross_frame_refs": "cross-frame-attention", "deflicker_strength": "deflicker",
          "flow": ("flow-warp", "deflicker")}


def apply_consistency(spec, names: str | None, noise: str | None, **knobs):
    """--consistency and its knobs into the spec: noise names set style.noise (the one source of truth), the rest
    ConsistencyOptions; a knob whose technique is not chosen is refused rather than ignored."""
    from .consistency.options import parse_consistency
    from .errors import OptionError

    given = {k: v for k, v in knobs.items() if v is not None}
    if names is None and not given:
        return spec
    mode, techniques = parse_consistency(names) if names is not None else (None, list(spec.consistency.techniques))
    if mode is not None and noise is not None and mode != noise:
        raise OptionError(f"--noise {noise} and --consistency {names} disagree; give the noise mode once.")
    for key in given:
        owners = _KNOBS[key] if isinstance(_KNOBS[key], tuple) else (_KNOBS[key],)
        if not any(o in techniques for o in owners):
            raise OptionError(f"--{key.replace('_', '-')} needs --consistency {' or '.join(owners)}.")
    style = replace(spec.style, noise=mode) if mode is not None else spec.style
    consistency = replace(spec.consistency, techniques=techniques, **given)
    return replace(spec, style=style, consistency=consistency)


# -- model-side video methods (animatediff, img2vid) and interpolation ----------------------

OptSource = Annotated[Optional[str], typer.Argument(help="Video (mp4, mov, webm, mkv, avi), GIF, animated WebP/APNG, image, folder of images or a glob. --method img2vid: an image, or none with -p (txt2img makes the still).", show_default=False)]
MethodName = Annotated[str, typer.Option("--method", help="gif2gif (per-frame img2img) | keyframes (TemporalKit: keys stylised together in plates, flow propagation) | ebsynth (ControlNet keys, guided propagation) | animatediff (AnimateDiff video-to-video, motion module, context windows) | img2vid (Stable Video Diffusion from a still or a prompt).", rich_help_panel="Method")]
MotionAdapter = Annotated[Optional[str], typer.Option("--motion-adapter", help="animatediff: motion adapter, hub id (default guoyww/animatediff-motion-adapter-v1-5-2; tiny with --model tiny), diffusers folder or .safetensors/.ckpt motion module.", rich_help_panel="Method")]
ContextLength = Annotated[Optional[int], typer.Option("--context-length", help="animatediff: frames per context window, 2-32 (default 16, the motion module's training length).", rich_help_panel="Method")]
ContextOverlap = Annotated[Optional[int], typer.Option("--context-overlap", help="animatediff: finished frames each later window repeats as anchors (default 4).", rich_help_panel="Method")]
VideoModel = Annotated[Optional[str], typer.Option("--video-model", help="img2vid: Stable Video Diffusion model, hub id (default stabilityai/stable-video-diffusion-img2vid-xt; tiny with --model tiny) or diffusers folder. --model is the txt2img model for -p.", rich_help_panel="Method")]
VideoFrames = Annotated[Optional[int], typer.Option("--video-frames", help="img2vid: frames per clip, 2-64 (default 14).", rich_help_panel="Method")]
VideoFps = Annotated[Optional[int], typer.Option("--video-fps", help="img2vid: SVD's fps conditioning and the output frame rate (default 7).", rich_help_panel="Method")]
MotionBucket = Annotated[Optional[int], typer.Option("--motion-bucket", help="img2vid: amount of motion, 0-255 (default 127).", rich_help_panel="Method")]
NoiseAug = Annotated[Optional[float], typer.Option("--noise-aug", help="img2vid: noise added to the still, 0-1 (default 0.02; more = freer motion).", rich_help_panel="Method")]
VideoCfg = Annotated[Optional[float], typer.Option("--video-cfg", help="img2vid: SVD guidance, from 1 on the first frame to this on the last (default 3).", rich_help_panel="Method")]
DecodeChunk = Annotated[Optional[int], typer.Option("--decode-chunk", help="animatediff / img2vid: frames the VAE decodes at once (default 8; lower = less memory).", rich_help_panel="Method")]
Segments = Annotated[Optional[int], typer.Option("--segments", help="img2vid: clips chained, the last frame of one seeding the next (default 1).", rich_help_panel="Method")]
Interpolate = Annotated[Optional[int], typer.Option("--interpolate", help="Multiply the output frame rate by flow-based frame synthesis, 2-8 (any method; timing kept exact).", rich_help_panel="Output")]

#: each video knob and the method it belongs to
_VIDEO_KNOBS = {"motion_adapter": "animatediff", "context_length": "animatediff", "context_overlap": "animatediff",
                "video_model": "img2vid", "video_frames": "img2vid", "video_fps": "img2vid", "motion_bucket": "img2vid",
                "noise_aug": "img2vid", "video_cfg": "img2vid", "segments": "img2vid",
                "decode_chunk": "animatediff or img2vid"}


def apply_video(spec, method: str, interpolate: int | None = None, **knobs):
    """--method, its knobs (VideoOptions) and --interpolate into the spec; a knob of another method is refused."""
    from .errors import OptionError

    given = {k: v for k, v in knobs.items() if v is not None}
    for key in given:
        if method not in _VIDEO_KNOBS[key]:
            raise OptionError(f"--{key.replace('_', '-')} needs --method {_VIDEO_KNOBS[key]}.")
    output = replace(spec.output, interpolate=interpolate) if interpolate is not None else spec.output
    return replace(spec, method=method, video=replace(spec.video, **given), output=output)


# -- speed (issue 10): presets and their pieces --------------------------------------------

PresetOpt = Annotated[Optional[str], typer.Option("--preset", help="quality | balanced | fast: sets the speed options below (the ones you give win). balanced = bf16 (CPU) / fp16 (CUDA) + step cache; fast = that + LCM-LoRA (4 steps, CFG 1) + TAESD, or 2 steps CFG 0 with an SD-Turbo model.", rich_help_panel="Speed")]
LcmLora = Annotated[Optional[str], typer.Option("--lcm-lora", help="Fuse an LCM-LoRA: auto (the model family's, from the hub) | FILE | hub id | none. Use with --sampler LCM --steps 4 --cfg 1.", rich_help_panel="Speed")]
Spacing = Annotated[Optional[str], typer.Option("--spacing", help="Timestep spacing: auto | leading | trailing (SD-Turbo) | linspace.", rich_help_panel="Speed")]
ChannelsLast = Annotated[Optional[bool], typer.Option("--channels-last/--no-channels-last", help="NHWC memory format for UNet + VAE (for CUDA; measured slower on CPU, bench/speed.py).", rich_help_panel="Speed")]
AttentionOpt = Annotated[Optional[str], typer.Option("--attention", help="sdpa (PyTorch scaled-dot-product, default) | classic.", rich_help_panel="Speed")]
Threads = Annotated[Optional[int], typer.Option("--threads", help="CPU threads for the model (0 = torch's default: one per core).", rich_help_panel="Speed")]
LowMemory = Annotated[bool, typer.Option("--low-memory", help="For 8 GB machines / small GPUs: half precision unless --dtype is given (bf16 on CPU: the weights are most of the memory), attention slicing, VAE slicing + tiling, CUDA model CPU offload.", rich_help_panel="Speed")]
CompileOpt = Annotated[bool, typer.Option("--compile", help="torch.compile the UNet (CUDA only; the first frame is slow).", rich_help_panel="Speed")]
ReuseThreshold = Annotated[Optional[float], typer.Option("--reuse-threshold", help="Similar-frame reuse: a frame whose source differs from the last computed one by less than this (mean |Δ|, 0-255) reuses its output. 0 = off (default); 1-3 for still shots.", rich_help_panel="Speed")]
StepCacheOpt = Annotated[Optional[int], typer.Option("--step-cache", help="DeepCache-style: run the whole UNet every N-th step, only its outer blocks between (0 = off; 2 in --preset balanced).", rich_help_panel="Speed")]


def speed_options(spec, preset, given, *, lcm_lora=None, spacing=None, channels_last=None, attention=None, threads=None,
                  low_memory=False, compile_=False, reuse_threshold=None, step_cache=None):
    """The speed pieces the user gave, then --preset for the rest (stylize/presets.py). ``given``: the names of
    the look options the user gave explicitly (they win over the preset)."""
    from .stylize.presets import apply_preset

    model = {k: v for k, v in dict(lcm_lora=lcm_lora, channels_last=channels_last, attention=attention,
                                   threads=threads).items() if v is not None}
    if model.get("lcm_lora", "").lower() in ("none", "off"):
        model["lcm_lora"] = None
    if low_memory:
        model["low_memory"] = True
    if compile_:
        model["compile"] = True
    if spec.model.vae in ("model", "none"):  # --vae model: the model's own VAE, also under --preset fast
        model["vae"] = None
    style = {k: v for k, v in dict(timestep_spacing=spacing, reuse_threshold=reuse_threshold,
                                   step_cache=step_cache).items() if v is not None}
    spec = replace(spec, model=replace(spec.model, **model), style=replace(spec.style, **style))
    named = {k for k, v in given.items() if v is not None} | set(model) | set(style)
    return apply_preset(spec, preset, named)


# -- ControlNet and the keyframe methods (keyframes, ebsynth) ------------------------------

Control = Annotated[Optional[list[str]], typer.Option("--control", help="ControlNet unit TYPE[:WEIGHT[:START-END]], repeatable (multi-ControlNet): canny | tile (no annotator weights) | depth | softedge | lineart | openpose (annotator models, or --control-image-dir). Weight 0-2 (default 1); START-END: fraction of the denoising steps (default 0-1).", rich_help_panel="ControlNet")]
ControlImageDir = Annotated[Optional[list[str]], typer.Option("--control-image-dir", help="Precomputed control frames [TYPE=]DIR (one image per frame, natural order) instead of the annotator; repeatable, in --control order.", rich_help_panel="ControlNet")]
ControlModel = Annotated[Optional[list[str]], typer.Option("--control-model", help="ControlNet for a type: TYPE=MODEL (hub id, diffusers folder, .safetensors file or tiny). Default: lllyasviel/control_v11*_sd15_TYPE (tiny with --model tiny).", rich_help_panel="ControlNet")]
Keys = Annotated[Optional[str], typer.Option("--keys", help="Keyframes: every:N (default every:10) | auto (by change, as ebsynth_utility) | 0,12,30 (0-based, after media options).", rich_help_panel="Keyframes")]
KeyMeasure = Annotated[Optional[str], typer.Option("--key-measure", help="--keys auto: edge (Canny maps, default) | pixel difference.", rich_help_panel="Keyframes")]
KeyThreshold = Annotated[Optional[float], typer.Option("--key-threshold", help="--keys auto: change from the last key (0-255) that makes a new key (default 8.5).", rich_help_panel="Keyframes")]
KeyMinGap = Annotated[Optional[int], typer.Option("--key-min-gap", help="--keys auto: frames at least between keys, cuts excepted (default 10).", rich_help_panel="Keyframes")]
KeyMaxGap = Annotated[Optional[int], typer.Option("--key-max-gap", help="--keys auto: frames at most between keys (default 300).", rich_help_panel="Keyframes")]
Plate = Annotated[Optional[str], typer.Option("--plate", help="keyframes: keys tiled COLSxROWS into one image and stylised together (default 2x2).", rich_help_panel="Keyframes")]
KeyColorMatch = Annotated[Optional[bool], typer.Option("--key-color-match/--no-key-color-match", help="Match every key's colours to the first key's (default off).", rich_help_panel="Keyframes")]
Refine = Annotated[Optional[bool], typer.Option("--refine/--no-refine", help="ebsynth: patch-based refinement guided by the source where the flow warp is unreliable (default on).", rich_help_panel="Keyframes")]

def build_spec(source, *, from_, prompt, negative_prompt, model, seed, steps, cfg, strength, sampler, width, height,
               resize_mode, clip_skip, batch_size, noise, vae, lora, embedding, device, dtype, media, output,
               model_config=None, mask=None):
    """A JobSpec from CLI values: --from infotext first, then every option the user gave explicitly."""
    from .jobs.infotext import apply_infotext, read_infotext
    from .jobs.spec import JobSpec
    from .models.options import parse_lora

    spec = JobSpec(source=source, media=media, output=output)
    if from_:
        spec = apply_infotext(spec, read_infotext(from_))
    style_given = dict(prompt=prompt, negative_prompt=negative_prompt, seed=seed, steps=steps, cfg_scale=cfg,
                       strength=strength, sampler=sampler, width=width, height=height, resize_mode=resize_mode,
                       clip_skip=clip_skip, batch_size=batch_size, noise=noise)
    style = replace(spec.style, **{k: v for k, v in style_given.items() if v is not None})
    model_opts = replace(spec.model, device=device, dtype=dtype)
    if model is not None:
        model_opts.model = model
    if vae is not None:
        model_opts.vae = vae
    if model_config is not None:
        model_opts.config = model_config
    if lora:
        model_opts.loras = [parse_lora(item) for item in lora]
    if embedding:
        model_opts.embeddings = list(embedding)
    return replace(spec, style=style, model=model_opts, mask=mask if mask is not None else spec.mask)


@app.command()
@friendly
def run(
    source: OptSource = None,
    output: Outputs = None,
    prompt: Prompt = None, negative_prompt: Negative = None, model: Model = None, seed: Seed = None,
    steps: Steps = None, cfg: Cfg = None, strength: Strength = None, sampler: Sampler = None,
    width: SWidth = None, height: SHeight = None, resize_mode: ResizeMode = None, clip_skip: ClipSkip = None,
    batch_size: BatchSize = None, noise: Noise = None, vae: Vae = None, lora: Lora = None, embedding: Embedding = None,
    model_config: ModelConfig = None, device: Device = "auto", dtype: Dtype = "auto",
    from_: Annotated[Optional[str], typer.Option("--from", help="Take the settings from a PNG/GIF/MP4 of ours (or web-UI PNG), or pasted infotext.", rich_help_panel="Look")] = None,
    start: Start = 0.0, duration: Duration = None, fps: Fps = None, every_nth: EveryNth = 1,
    max_frames: MaxFrames = None, scale_width: MediaWidth = None, background: Background = None,
    max_size: MaxSize = None, colors: Colors = 256, dither: Dither = "none", palette: Palette = "global",
    lossy: Lossy = OutputOptions.lossy, loop: Loop = 0,
    job: Annotated[Optional[Path], typer.Option(help="Job dir (default: jobs/<source>-<settings hash>); the same job resumes.", rich_help_panel="Job")] = None,
    frames: Annotated[Optional[str], typer.Option(help="Redo just these frames, e.g. 12-18 (0-based, inclusive).", rich_help_panel="Job")] = None,
    mask: MaskFile = None, mask_rect: MaskRect = None, mask_ellipse: MaskEllipse = None, mask_key: MaskKey = None,
    mask_from_alpha: MaskAlpha = False, invert_mask: InvertMask = False, mask_blur: MaskBlur = None,
    inpaint_area: InpaintArea = None, padding: Padding = None, masked_content: MaskedContent = None,
    mask_hold_last: MaskHoldLast = False, inpaint_base: InpaintBase = None,
    consistency: ConsistencyNames = None, flow: FlowMethod = None, color_match_reference: ColorRef = None,
    color_match_interval: ColorInterval = None, loopback_alpha: LoopAlpha = None, loopback_decay: LoopDecay = None,
    flow_warp_weight: WarpWeight = None, flow_warp_fuse: WarpFuse = None, cross_frame_refs: CrossRefs = None,
    deflicker_strength: DeflickerStrength = None,
    method: MethodName = "gif2gif", motion_adapter: MotionAdapter = None, context_length: ContextLength = None,
    context_overlap: ContextOverlap = None, video_model: VideoModel = None, video_frames: VideoFrames = None,
    video_fps: VideoFps = None, motion_bucket: MotionBucket = None, noise_aug: NoiseAug = None,
    video_cfg: VideoCfg = None, decode_chunk: DecodeChunk = None, segments: Segments = None,
    interpolate: Interpolate = None,
    control: Control = None, control_image_dir: ControlImageDir = None, control_model: ControlModel = None,
    keys: Keys = None, key_measure: KeyMeasure = None, key_threshold: KeyThreshold = None, key_min_gap: KeyMinGap = None,
    key_max_gap: KeyMaxGap = None, plate: Plate = None, key_color_match: KeyColorMatch = None, refine: Refine = None,
    preset: PresetOpt = None, lcm_lora: LcmLora = None, spacing: Spacing = None, channels_last: ChannelsLast = None,
    attention: AttentionOpt = None, threads: Threads = None, low_memory: LowMemory = False, compile_: CompileOpt = False,
    reuse_threshold: ReuseThreshold = None, step_cache: StepCacheOpt = None,
    overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Stylise every frame with img2img under one prompt and seed (the gif2gif workflow), resumably;
    or stylise keyframes and carry them along the flow (--method keyframes | ebsynth);
    or animate with the motion inside the model (--method animatediff | img2vid).

    Example: rotoscope run samples/cup.mp4 -p "ink drawing" --model classic:cartoon --duration 3 --fps 10 --scale-width 320 -o out/cup.gif

    Example: rotoscope run samples/cup.mp4 -p "ink drawing" --model tiny --control canny --control tile:0.5:0-0.6 --max-frames 8 -o out/cup-cn.gif

    Example: rotoscope run samples/cup.mp4 --method keyframes --keys every:10 --plate 2x2 -p "ink drawing" --model tiny --max-frames 30 -o out/cup-kf.gif

    Example: rotoscope run samples/cup.mp4 --method ebsynth --keys auto --control canny -p "ink drawing" --model tiny --max-frames 30 -o out/cup-eb.gif

    Example: rotoscope run samples/cup.mp4 --method animatediff -p "ink drawing" --model tiny --max-frames 32 --interpolate 2 -o out/cup-ad.gif

    Example: rotoscope run --method img2vid -p "a red cup on a table" --model tiny --width 64 --height 64 --segments 2 -o out/cup-svd.gif
    """
    from .jobs.runner import run_job

    media = media_options(start, duration, fps, every_nth, max_frames, scale_width, None, background)
    opts = output_options(output, colors, dither, palette, loop, max_size, overwrite, lossy)
    masks = mask_options(mask, mask_rect, mask_ellipse, mask_key, mask_from_alpha, invert_mask, mask_blur, inpaint_area,
                         padding, masked_content, mask_hold_last, inpaint_base)
    spec = build_spec(source or "", from_=from_, prompt=prompt, negative_prompt=negative_prompt, model=model, seed=seed,
                      steps=steps, cfg=cfg, strength=strength, sampler=sampler, width=width, height=height,
                      resize_mode=resize_mode, clip_skip=clip_skip, batch_size=batch_size, noise=noise, vae=vae,
                      lora=lora, embedding=embedding, device=device, dtype=dtype, media=media, output=opts,
                      model_config=model_config, mask=masks)
    spec = apply_video(spec, method, interpolate, motion_adapter=motion_adapter, context_length=context_length,
                       context_overlap=context_overlap, video_model=video_model, video_frames=video_frames,
                       video_fps=video_fps, motion_bucket=motion_bucket, noise_aug=noise_aug, video_cfg=video_cfg,
                       decode_chunk=decode_chunk, segments=segments)
    from .api import apply_control_keys

    spec = apply_control_keys(spec, control, control_image_dir, control_model, keys=keys, key_measure=key_measure,
                              key_threshold=key_threshold, key_min_gap=key_min_gap, key_max_gap=key_max_gap, plate=plate,
                              key_color_match=key_color_match, refine=refine)
    spec = apply_consistency(spec, consistency, noise, flow=flow, color_match_reference=color_match_reference,
                             color_match_interval=color_match_interval, loopback_alpha=loopback_alpha,
                             loopback_decay=loopback_decay, flow_warp_weight=flow_warp_weight,
                             flow_warp_fuse=flow_warp_fuse, cross_frame_refs=cross_frame_refs,
                             deflicker_strength=deflicker_strength)
    spec = speed_options(spec, preset, dict(steps=steps, cfg_scale=cfg, sampler=sampler, vae=vae), lcm_lora=lcm_lora,
                         spacing=spacing, channels_last=channels_last, attention=attention, threads=threads,
                         low_memory=low_memory, compile_=compile_, reuse_threshold=reuse_threshold, step_cache=step_cache)
    progress = RichProgress()
    try:
        result = run_job(spec, job_dir=job, frames=frames, overwrite=overwrite, progress=progress)
    finally:
        progress.close()
    if as_json:
        out.print_json(json.dumps({"job": str(result.job_dir), "outputs": [str(p) for p in result.outputs],
                                   "seed": result.seed, "frames": result.frames_total,
                                   "computed": result.frames_computed, "resumed": result.frames_resumed,
                                   "infotext": result.infotext}))
        return
    out.print(f"job {result.job_dir}: {result.frames_computed} frames stylised, {result.frames_resumed} resumed, seed {result.seed}")
    for path in result.outputs:
        out.print(f"wrote {path}")


@app.command()
@friendly
def preview(
    source: Source,
    frame: Annotated[int, typer.Option(help="Frame to try (0-based, after media options).")] = 0,
    seeds: Annotated[int, typer.Option(help="How many seeds (from --seed upwards, or random).")] = 4,
    strengths: Annotated[Optional[str], typer.Option(help="Comma-separated strengths, one row each, e.g. 0.2,0.3,0.4.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Grid image; tiles are written beside it.")] = Path("out/preview.png"),
    prompt: Prompt = None, negative_prompt: Negative = None, model: Model = None, seed: Seed = None,
    steps: Steps = None, cfg: Cfg = None, strength: Strength = None, sampler: Sampler = None,
    width: SWidth = None, height: SHeight = None, resize_mode: ResizeMode = None, clip_skip: ClipSkip = None,
    vae: Vae = None, lora: Lora = None, embedding: Embedding = None, model_config: ModelConfig = None,
    device: Device = "auto", dtype: Dtype = "auto", start: Start = 0.0, duration: Duration = None, fps: Fps = None, scale_width: MediaWidth = None,
    mask: MaskFile = None, mask_rect: MaskRect = None, mask_ellipse: MaskEllipse = None, mask_key: MaskKey = None,
    mask_from_alpha: MaskAlpha = False, invert_mask: InvertMask = False, mask_blur: MaskBlur = None,
    inpaint_area: InpaintArea = None, padding: Padding = None, masked_content: MaskedContent = None,
    mask_hold_last: MaskHoldLast = False,
    preset: PresetOpt = None, lcm_lora: LcmLora = None, spacing: Spacing = None, threads: Threads = None,
    low_memory: LowMemory = False,
    control: Control = None, control_image_dir: ControlImageDir = None, control_model: ControlModel = None,
) -> None:
    """Stylise one frame with several seeds (× strengths) into a labelled grid; then run with --seed S.

    Example: rotoscope preview samples/cup.mp4 --frame 10 --seeds 4 --strengths 0.2,0.3,0.4 -p "ink drawing" --model tiny

    With a mask (--mask, --mask-rect, …) the tiles are inpainted, and an overlay image (-mask.png beside the grid)
    shows the mask outline and the "only masked" crop box. With --control, each row starts with the control image(s).
    """
    from .errors import OptionError
    from .jobs.preview import preview as run_preview

    media = MediaOptions(start=start, duration=duration, fps=fps, width=scale_width)
    spec = build_spec(source, from_=None, prompt=prompt, negative_prompt=negative_prompt, model=model, seed=seed,
                      steps=steps, cfg=cfg, strength=strength, sampler=sampler, width=width, height=height,
                      resize_mode=resize_mode, clip_skip=clip_skip, batch_size=None, noise=None, vae=vae, lora=lora,
                      embedding=embedding, device=device, dtype=dtype, media=media, output=OutputOptions(),
                      model_config=model_config,
                      mask=mask_options(mask, mask_rect, mask_ellipse, mask_key, mask_from_alpha, invert_mask, mask_blur,
                                        inpaint_area, padding, masked_content, mask_hold_last))
    spec = speed_options(spec, preset, dict(steps=steps, cfg_scale=cfg, sampler=sampler, vae=vae), lcm_lora=lcm_lora,
                         spacing=spacing, threads=threads, low_memory=low_memory)
    from .api import apply_control_keys

    spec = apply_control_keys(spec, control, control_image_dir, control_model)
    try:
        values = [float(s) for s in strengths.split(",")] if strengths else None
    except ValueError:
        raise OptionError(f"--strengths {strengths!r} is not understood; write e.g. 0.2,0.3,0.4.") from None
    result = run_preview(spec, frame=frame, seeds=seeds, strengths=values, output=output)
    out.print(f"wrote {result.grid} ({len(result.tiles)} tiles)")
    if result.overlay:
        out.print(f"wrote {result.overlay} (mask outline and only-masked crop box)")
    for tile in result.tiles:
        out.print(f"  seed {tile.seed}  strength {tile.strength:g}  {tile.path}")


# -- keys ---------------------------------------------------------------------------------


@app.command()
@friendly
def keys(
    source: Source,
    keys: Keys = None, key_measure: KeyMeasure = None, key_threshold: KeyThreshold = None,
    key_min_gap: KeyMinGap = None, key_max_gap: KeyMaxGap = None,
    sheet: Annotated[Path, typer.Option("--sheet", help="Contact sheet of the keyframes (PNG).")] = Path("out/keys.png"),
    start: Start = 0.0, duration: Duration = None, fps: Fps = None, every_nth: EveryNth = 1,
    max_frames: MaxFrames = None, scale_width: MediaWidth = None, background: Background = None,
    as_json: Json = False,
) -> None:
    """Show which frames the keyframe methods would stylise (0-based, after the media options), and a contact sheet.

    Example: rotoscope keys samples/cup.mp4 --fps 10 --keys auto --key-min-gap 5 --json
    """
    from .methods.keys import KeyOptions, keys_of_clip

    given = dict(keys=keys, key_measure=key_measure, key_threshold=key_threshold, key_min_gap=key_min_gap,
                 key_max_gap=key_max_gap)
    options = KeyOptions(**{k: v for k, v in given.items() if v is not None})
    media = media_options(start, duration, fps, every_nth, max_frames, scale_width, None, background)
    media.validate()
    selection = keys_of_clip(source, media, options, sheet)
    if as_json:
        out.print_json(json.dumps({"keys": selection.keys, "cuts": selection.cuts, "sheet": str(sheet)}))
        return
    out.print(f"{len(selection.keys)} keys: {', '.join(map(str, selection.keys))}")
    if selection.cuts:
        out.print(f"scene cuts at: {', '.join(map(str, selection.cuts))}")
    out.print(f"wrote {sheet}")


# -- score -------------------------------------------------------------------------------


@app.command()
@friendly
def score(
    output: Annotated[str, typer.Argument(help="The stylised clip: video, GIF, WebP/APNG or a folder of frames.")],
    source: Annotated[str, typer.Option("--source", help="The clip it was made from (a job's source/ folder pairs exactly; or give --start/--duration/--fps as for the run).")],
    start: Start = 0.0, duration: Duration = None, fps: Fps = None, scale_width: MediaWidth = None,
    flow: Annotated[str, typer.Option("--flow", help="Optical flow between source frames: dis | farneback.")] = "dis",
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG of the warp error per frame (where it flickers).")] = None,
    clip_model: Annotated[Optional[str], typer.Option("--clip-model", help="Local CLIP folder for CLIP frame consistency (else $ROTOSCOPE_CLIP, else the Hub cache).")] = None,
    as_json: Json = False,
) -> None:
    """Measure flicker: warp error along the source's optical flow (vs the source's own), SSIM/PSNR to source, CLIP consistency.

    Example: rotoscope score out/cup.gif --source samples/cup.mp4 --duration 3 --fps 10 --plot out/cup-flicker.png
    """
    from .consistency.flow import FLOW_METHODS
    from .errors import OptionError
    from .metrics import plot_score, score_clip

    if flow not in FLOW_METHODS:
        raise OptionError(f"--flow {flow!r} is not known; use one of {', '.join(FLOW_METHODS)}.")
    media = MediaOptions(start=start, duration=duration, fps=fps, width=scale_width)
    result = score_clip(output, source, source_media=media, flow=flow, clip_model=clip_model)
    if plot is not None:
        plot_score(result, plot, title=Path(output).name)
    if as_json:
        data = result.to_dict()
        data["plot"] = str(plot) if plot is not None else None
        out.print_json(json.dumps(data))
        return
    per_frame = result.per_frame
    worst = max(range(len(per_frame)), key=per_frame.__getitem__) if per_frame else 0
    table = Table(show_header=False, box=None)
    clip_text = f"{result.clip:.4f}" if result.clip is not None else result.clip_note
    rows = [("frames", str(result.frames)), ("flow", result.flow),
            ("warp error", f"{result.warp_error:.3f}  (0-255, lower is steadier)"),
            ("source warp error", f"{result.source_warp_error:.3f}  (the source's own flicker)"),
            ("added flicker", f"{result.added_flicker:+.3f}"),
            ("SSIM to source", f"{result.ssim:.4f}"), ("PSNR to source", f"{result.psnr:.2f} dB"),
            ("CLIP consistency", clip_text),
            ("worst frame", f"{worst} (warp error {per_frame[worst]:.3f})" if per_frame else "-")]
    for key, value in rows:
        table.add_row(Text(key, style="bold"), Text(value))
    out.print(table)
    if plot is not None:
        out.print(f"wrote {plot}")


@app.command()
@friendly
def ui(
    host: Annotated[str, typer.Option(help="Address to bind; anything but loopback needs --auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    listen: Annotated[bool, typer.Option("--listen", help="Bind 0.0.0.0 (reachable from other machines); needs --auth.")] = False,
    auth: Annotated[Optional[str], typer.Option(help="user:password required to open the page and call the API.")] = None,
    max_upload: Annotated[str, typer.Option(help="Largest upload accepted, e.g. 500MB.")] = "500MB",
    jobs_dir: Annotated[Optional[Path], typer.Option(help="Folder holding the jobs (and kept uploads); jobs survive restarts. [default: jobs]")] = None,
    models_dir: Annotated[Optional[Path], typer.Option(help="Folder of local models (diffusers folders, .safetensors/.ckpt) for the model picker.")] = None,
) -> None:
    """Start the web UI: upload, look, preview, mask, run, jobs — one local page (gradio) and its HTTP API.

    Example: rotoscope ui --port 7860 --jobs-dir jobs
    """
    from .ui.server import UIConfig, serve

    config = UIConfig(host=host, port=port, listen=listen, auth=auth, max_upload=parse_size(max_upload),
                      jobs_dir=jobs_dir or UIConfig.jobs_dir, models_dir=models_dir)
    config.validate()  # refuse --listen without --auth before importing gradio
    serve(config)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
