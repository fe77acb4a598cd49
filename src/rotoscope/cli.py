"""The `rotoscope` command: thin — parse, build a spec, call the library, show progress.

User errors print one line and exit 2; --debug shows the traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
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
Vae = Annotated[Optional[str], typer.Option(help="VAE override: hub id, folder or single file.", rich_help_panel="Model")]
Lora = Annotated[Optional[list[str]], typer.Option("--lora", help="LoRA file[:weight]; repeatable.", rich_help_panel="Model")]
Embedding = Annotated[Optional[list[str]], typer.Option("--embedding", help="Textual-inversion embedding file; repeatable.", rich_help_panel="Model")]
ModelConfig = Annotated[Optional[str], typer.Option("--model-config", help="Local diffusers folder whose configs a single-file checkpoint uses (needed offline).", rich_help_panel="Model")]
Device = Annotated[str, typer.Option(help="auto (cuda → mps → cpu) | cpu | cuda | cuda:N | mps.", rich_help_panel="Model")]
Dtype = Annotated[str, typer.Option(help="auto (fp16 on cuda, fp32 on cpu) | fp32 | fp16 | bf16.", rich_help_panel="Model")]
MediaWidth = Annotated[Optional[int], typer.Option("--scale-width", help="Scale source frames to this width before stylising (aspect kept).", rich_help_panel="Media")]


def build_spec(source, *, from_, prompt, negative_prompt, model, seed, steps, cfg, strength, sampler, width, height,
               resize_mode, clip_skip, batch_size, noise, vae, lora, embedding, device, dtype, media, output,
               model_config=None):
    """A JobSpec from CLI values: --from infotext first, then every option the user gave explicitly."""
    from .jobs.infotext import apply_infotext, read_infotext
    from .jobs.spec import JobSpec
    from .models.options import ModelOptions, parse_lora

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
    return replace(spec, style=style, model=model_opts)


@app.command()
@friendly
def run(
    source: Source,
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
    overwrite: Overwrite = False, as_json: Json = False,
) -> None:
    """Stylise every frame with img2img under one prompt and seed (the gif2gif workflow), resumably.

    Example: rotoscope run samples/cup.mp4 -p "ink drawing" --model classic:cartoon --duration 3 --fps 10 --scale-width 320 -o out/cup.gif
    """
    from .jobs.runner import run_job

    media = media_options(start, duration, fps, every_nth, max_frames, scale_width, None, background)
    opts = output_options(output, colors, dither, palette, loop, max_size, overwrite, lossy)
    spec = build_spec(source, from_=from_, prompt=prompt, negative_prompt=negative_prompt, model=model, seed=seed,
                      steps=steps, cfg=cfg, strength=strength, sampler=sampler, width=width, height=height,
                      resize_mode=resize_mode, clip_skip=clip_skip, batch_size=batch_size, noise=noise, vae=vae,
                      lora=lora, embedding=embedding, device=device, dtype=dtype, media=media, output=opts,
                      model_config=model_config)
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
) -> None:
    """Stylise one frame with several seeds (× strengths) into a labelled grid; then run with --seed S.

    Example: rotoscope preview samples/cup.mp4 --frame 10 --seeds 4 --strengths 0.2,0.3,0.4 -p "ink drawing" --model tiny
    """
    from .errors import OptionError
    from .jobs.preview import preview as run_preview

    media = MediaOptions(start=start, duration=duration, fps=fps, width=scale_width)
    spec = build_spec(source, from_=None, prompt=prompt, negative_prompt=negative_prompt, model=model, seed=seed,
                      steps=steps, cfg=cfg, strength=strength, sampler=sampler, width=width, height=height,
                      resize_mode=resize_mode, clip_skip=clip_skip, batch_size=None, noise=None, vae=vae, lora=lora,
                      embedding=embedding, device=device, dtype=dtype, media=media, output=OutputOptions(),
                      model_config=model_config)
    try:
        values = [float(s) for s in strengths.split(",")] if strengths else None
    except ValueError:
        raise OptionError(f"--strengths {strengths!r} is not understood; write e.g. 0.2,0.3,0.4.") from None
    result = run_preview(spec, frame=frame, seeds=seeds, strengths=values, output=output)
    out.print(f"wrote {result.grid} ({len(result.tiles)} tiles)")
    for tile in result.tiles:
        out.print(f"  seed {tile.seed}  strength {tile.strength:g}  {tile.path}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
