"""The page: Source → Look → Preview → Mask → Run → Jobs, plus named HTTP API endpoints.

A thin adapter: every control's starting value is the option dataclass's
default, every action builds a JobSpec with :func:`rotoscope.api.build_spec`
and runs it with :func:`rotoscope.jobs.runner.run_job` (or the library's
convert / probe / preview), and every error is the library's own message.
"""

from __future__ import annotations

import functools
import inspect
import io
import threading
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from .. import api
from ..errors import OptionError, RotoscopeError
from ..jobs.runner import default_job_dir, run_job
from ..jobs.spec import KEYFRAME_METHODS, METHODS, VIDEO_METHODS, JobSpec
from ..media.options import MediaOptions, OutputOptions, parse_size
from ..methods.keys import KeyOptions
from ..methods.video_options import VideoOptions
from ..models.options import ModelOptions
from ..progress import Cancelled
from ..stylize.mask_options import MaskOptions
from ..stylize.options import MAX_SEED, NOISE_MODES, RESIZE_MODES, StyleOptions
from .progress import GradioProgress
from .workspace import JOB_COLUMNS, Workspace, check_job_name

FORMATS = ("gif", "mp4")
CSS = """
#probe-facts table, #clip-info {font-size: 0.9em}
.seed-row button {max-width: 3em}
"""


def _defaults(cls) -> dict[str, Any]:
    return {f.name: getattr(cls(), f.name) for f in fields(cls)}


STYLE, MEDIA, MODEL, OUTPUT = _defaults(StyleOptions), _defaults(MediaOptions), _defaults(ModelOptions), _defaults(OutputOptions)
MASK = _defaults(MaskOptions)
PREVIEW_SEEDS = inspect.signature(__import__("rotoscope.jobs.preview", fromlist=["preview"]).preview).parameters["seeds"].default

INT_KEYS = {"steps", "seed", "scale_width", "width", "height", "clip_skip", "batch_size", "every_nth", "max_frames",
            "mask_blur", "padding"}
FLOAT_KEYS = {"cfg_scale", "strength", "start", "duration", "fps"}
# the methods' own numbers (key gaps, context length, motion bucket, …): their dataclasses say which are whole
for _cls in (KeyOptions, VideoOptions):
    for _name, _value in _defaults(_cls).items():
        if isinstance(_value, int) and not isinstance(_value, bool):
            INT_KEYS.add(_name)
        elif isinstance(_value, float):
            FLOAT_KEYS.add(_name)


def user_errors(fn):
    """Library errors reach the page (and API clients) as their one-line message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RotoscopeError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper


def clean_options(values: dict[str, Any]) -> dict[str, Any]:
    """UI values → build_spec keywords: empty boxes fall back to the dataclass default, numbers get their type."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip() and key not in ("prompt", "negative_prompt")):
            continue
        if key == "max_size":
            value = parse_size(str(value)) if not isinstance(value, (int, float)) else int(value)
        elif key in INT_KEYS:
            value = int(value)
        elif key in FLOAT_KEYS:
            value = float(value)
        out[key] = value
    return out


def build_job_spec(source: str, options: dict[str, Any], method: str = JobSpec.method) -> JobSpec:
    try:
        return api.build_spec(source, None, method=method, **clean_options(options))
    except TypeError as exc:  # an unknown option name
        raise OptionError(str(exc)) from None


def fmt_bytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def probe_markdown(info) -> str:
    audio = f"{info.audio.codec}, {info.audio.sample_rate} Hz, {info.audio.channels} ch" if info.audio else "none"
    rows = [("container", info.container), ("codec", info.codec), ("duration", f"{info.duration:.3f} s"),
            ("frames", str(info.frame_count)),
            ("fps", f"{info.fps:g}" + (" (variable)" if info.variable_frame_rate else "")),
            ("size", f"{info.width}×{info.height}"), ("rotation", f"{info.rotation}°"),
            ("pixel format", info.pixel_format + (" (alpha)" if info.has_alpha else "")), ("audio", audio)]
    return " · ".join(f"**{k}** {v}" for k, v in rows)


def mask_png(editor_value) -> bytes | None:
    """A painted ImageMask value → white-on-black PNG bytes (None when nothing is painted)."""
    if not editor_value:
        return None
    layers = [np.asarray(layer) for layer in (editor_value.get("layers") or []) if layer is not None]
    painted = None
    for layer in layers:
        alpha = layer[..., 3] > 0 if layer.ndim == 3 and layer.shape[2] == 4 else layer.reshape(layer.shape[0], layer.shape[1], -1).max(axis=2) > 0
        painted = alpha if painted is None else painted | alpha
    if painted is None or not painted.any():
        return None
    buffer = io.BytesIO()
    Image.fromarray((painted * 255).astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


class Runs:
    """Cancel switches of the runs in progress, by browser session and by job name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[threading.Event]] = {}

    def register(self, keys: list[str], event: threading.Event) -> None:
        with self._lock:
            for key in keys:
                self._events.setdefault(key, []).append(event)

    def unregister(self, keys: list[str], event: threading.Event) -> None:
        with self._lock:
            for key in keys:
                events = self._events.get(key, [])
                if event in events:
                    events.remove(event)
                if not events:
                    self._events.pop(key, None)

    def cancel(self, key: str) -> int:
        with self._lock:
            events = list(self._events.get(key, []))
        for event in events:
            event.set()
        return len(events)


class UI:
    """Holds the workspace and the run registry; its methods are the page's and the API's actions."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.runs = Runs()

    # -- source --------------------------------------------------------------------
    def keep_source(self, files) -> str:
        if not files:
            return ""
        files = files if isinstance(files, list) else [files]
        return self.ws.keep_upload([getattr(f, "name", f) for f in files])

    def probe(self, source: str) -> str:
        return probe_markdown(api.probe(source)) if source else ""

    def convert_preview(self, source: str, media: dict[str, Any]) -> tuple[str | None, str, int]:
        if not source:
            return None, "", 0
        opts = clean_options(media)
        if "scale_width" in opts:
            opts["width"] = opts.pop("scale_width")
        out = self.ws.scratch() / "clip.gif"
        result = api.convert(source, [str(out)], **opts)
        size = out.stat().st_size
        fitted = f" · fitted: {'; '.join(n.split(': ', 1)[-1] for n in result.notes)}" if result.notes else ""
        info = (f"**{result.frames} frames**, {result.width}×{result.height}, {result.duration:.2f} s — "
                f"GIF **{fmt_bytes(size)}** ({size:,} bytes){fitted}")
        return str(out), info, result.frames

    def frame_image(self, source: str, media: dict[str, Any], index: int) -> np.ndarray:
        from ..jobs.preview import pick_frame

        spec = build_job_spec(source, media)
        return pick_frame(spec.source, spec.media, int(index))

    # -- preview -------------------------------------------------------------------
    def preview(self, source: str, options: dict[str, Any], frame: int, seeds: int, strengths: str):
        from ..jobs.preview import preview

        if not source:
            raise OptionError("upload a source first (Source tab).")
        spec = build_job_spec(source, options)
        try:
            values = [float(s) for s in str(strengths).split(",") if s.strip()] if strengths and str(strengths).strip() else None
        except ValueError:
            raise OptionError(f"strengths {strengths!r} are not understood; write e.g. 0.2,0.3,0.4.") from None
        out = self.ws.scratch() / "preview.png"
        result = preview(spec, frame=int(frame), seeds=int(seeds), strengths=values, output=out)
        return result

    # -- run -----------------------------------------------------------------------
    def job_for(self, spec: JobSpec, name: str | None, formats: list[str]) -> tuple[JobSpec, Path]:
        job = self.ws.job_dir(name) if name and name.strip() else self.ws.job_dir(default_job_dir(spec, self.ws.jobs_dir).name)
        formats = [f for f in (formats or FORMATS[:1]) if f in FORMATS] or ["gif"]
        output = replace(spec.output, outputs=[str(job / f"output.{f}") for f in formats])
        return replace(spec, output=output), job

    def execute(self, spec: JobSpec, job: Path, *, frames: str | None = None, overwrite: bool = False,
                session: str | None = None, report=None) -> dict[str, Any]:
        """Run (or resume) a job; returns a summary. A cancel stops after the current frame."""
        cancel = threading.Event()
        keys = [f"job:{job.name}"] + ([f"session:{session}"] if session else [])
        self.runs.register(keys, cancel)
        progress = GradioProgress(report)
        try:
            result = run_job(spec, job_dir=job, frames=frames or None, overwrite=bool(overwrite), progress=progress, cancel=cancel)
        except Cancelled:
            info = self.ws.job_info(job)
            done = f"{info.frames_done} of {info.frames_total} frames are finished and kept" if info else "finished frames are kept"
            return {"cancelled": True, "job": job.name, "message": f"cancelled: {done}; resume it from the Jobs tab (or run it again)."}
        finally:
            self.runs.unregister(keys, cancel)
        rate = progress.rates.get("stylize")
        outputs = {p.suffix.lstrip("."): str(p) for p in result.outputs}
        message = (f"job **{job.name}**: {result.frames_total} frames, {result.frames_computed} stylised"
                   + (f" at {rate:.2f} fr/s" if rate and result.frames_computed else "")
                   + f", {result.frames_resumed} resumed; seed {result.seed}")
        score, plot = self.score(job)
        return {"cancelled": False, "job": job.name, "seed": result.seed, "frames": result.frames_total,
                "computed": result.frames_computed, "resumed": result.frames_resumed, "infotext": result.infotext,
                "outputs": outputs, "message": message, "score": score, "score_plot": plot}

    @staticmethod
    def score(job: Path) -> tuple[dict[str, Any] | None, str | None]:
        """The consistency report of a finished job (its frames against its source frames), and its plot."""
        from ..metrics import plot_score, score_clip

        frames, source = job / "frames", job / "source"
        count = len(list(frames.glob("*.png")))
        # Only where output and source frames pair one to one (not img2vid's single still, not interpolated outputs).
        if count < 2 or count != len(list(source.glob("*.png"))):
            return None, None
        result = score_clip(frames, source, clip=False)
        plot = job / "score.png"
        plot_score(result, plot, title=job.name)
        data = result.to_dict()
        return {k: data[k] for k in ("frames", "warp_error", "source_warp_error", "added_flicker", "ssim", "psnr")} | {
            "clip_note": result.clip_note}, str(plot)

    def resume(self, name: str, frames: str | None, session: str | None = None, report=None) -> dict[str, Any]:
        from ..jobs.store import JobDir

        job = self.ws.existing_job(name)
        spec = JobDir(job).read_spec()
        return self.execute(spec, job, frames=frames, session=session, report=report)

    def jobs_table(self) -> list[list]:
        return [info.row() for info in self.ws.jobs()]


PRESET_NAMES = ("quality", "balanced", "fast")  # stylize/presets.py


def _preset_look(name: str, model: str):
    """A preset's sampler / steps / CFG into the Look sliders (the rest of the preset is applied by build_spec)."""
    from ..models.speed import is_turbo_model
    from ..stylize.presets import get_preset

    if not name:
        return gr.update(), gr.update(), gr.update()
    preset = get_preset(name)
    look = preset.turbo_style if preset.turbo_style is not None and is_turbo_model(model or "") else preset.style
    return tuple(gr.update(value=look[k]) if k in look else gr.update() for k in ("sampler", "steps", "cfg_scale"))


def build_app(ws: Workspace) -> gr.Blocks:
    ui = UI(ws)
    from ..models.samplers import sampler_names

    form: dict[str, gr.components.Component] = {}

    def add(name, component):
        form[name] = component
        return component

    def values(data: dict, names) -> dict[str, Any]:
        return {n: data[form[n]] for n in names if form[n] in data}

    media_names = ("start", "duration", "fps", "scale_width", "max_size")
    look_names = ("prompt", "negative_prompt", "model", "sampler", "steps", "cfg_scale", "strength", "seed",
                  "width", "height", "resize_mode", "clip_skip", "preset")
    run_names = ("noise", "batch_size", "consistency")
    quiet = dict(api_visibility="undocumented")

    with gr.Blocks(title="rotoscope") as demo:
        gr.Markdown("## rotoscope — a clip in, a stylised animation out\n"
                    "Upload a clip, pick a look, preview seeds on one frame, then run every frame with that seed. "
                    "Everything runs on this machine; jobs are kept in the jobs folder and resume.")
        source = gr.State("")
        tiles = gr.State([])
        last_seed = gr.State(None)
        with gr.Tabs():
            # ---------------------------------------------------------------- Source
            with gr.Tab("Source", id="source"):
                with gr.Row():
                    with gr.Column():
                        upload = gr.File(label="Video, GIF, image, or several images (a sequence)", file_count="multiple",
                                         type="filepath", elem_id="source-upload")
                        with gr.Row():
                            add("start", gr.Number(label="start (s)", value=MEDIA["start"], minimum=0, elem_id="media-start"))
                            add("duration", gr.Number(label="duration (s), empty = all", value=MEDIA["duration"], minimum=0, elem_id="media-duration"))
                        with gr.Row():
                            add("fps", gr.Number(label="fps, empty = source", value=MEDIA["fps"], minimum=0, elem_id="media-fps"))
                            add("scale_width", gr.Number(label="width (px), empty = source", value=MEDIA["width"], minimum=0, precision=0, elem_id="media-width"))
                        add("max_size", gr.Textbox(label="max GIF size (e.g. 1.5MB), empty = no limit", value="", elem_id="media-max-size"))
                        facts = gr.Markdown(elem_id="probe-facts")
                    with gr.Column():
                        clip_preview = gr.Image(label="converted clip (GIF)", type="filepath", interactive=False, height=320, buttons=["download", "fullscreen"], elem_id="clip-preview")
                        clip_info = gr.Markdown(elem_id="clip-info")
            # ---------------------------------------------------------------- Look
            with gr.Tab("Look", id="look"):
                add("prompt", gr.Textbox(label="prompt", value=STYLE["prompt"], lines=2, elem_id="prompt"))
                add("negative_prompt", gr.Textbox(label="negative prompt", value=STYLE["negative_prompt"], elem_id="negative-prompt"))
                with gr.Row():
                    add("model", gr.Dropdown(label="model (hub id, local folder/file, tiny, classic:*)", choices=ws.models(),
                                             value=MODEL["model"], allow_custom_value=True, elem_id="model"))
                    add("sampler", gr.Dropdown(label="sampler", choices=sampler_names(), value=STYLE["sampler"], elem_id="sampler"))
                with gr.Row():
                    add("steps", gr.Slider(1, 150, value=STYLE["steps"], step=1, label="steps", elem_id="steps"))
                    add("cfg_scale", gr.Slider(0, 30, value=STYLE["cfg_scale"], step=0.5, label="CFG scale", elem_id="cfg"))
                    add("strength", gr.Slider(0.01, 1, value=STYLE["strength"], step=0.01, label="denoising strength", elem_id="strength"))
                add("preset", gr.Dropdown(label="speed preset (README: Speed): fast = bf16/fp16 + LCM-LoRA 4 steps + TAESD",
                                          choices=["", *PRESET_NAMES], value="", elem_id="preset"))
                form["preset"].change(_preset_look, inputs=[form["preset"], form["model"]],
                                      outputs=[form["sampler"], form["steps"], form["cfg_scale"]], **quiet)
                with gr.Row(elem_classes="seed-row"):
                    add("seed", gr.Number(label="seed (-1 = random, drawn once per job)", value=STYLE["seed"], precision=0,
                                          minimum=-1, maximum=MAX_SEED, elem_id="seed"))
                    dice = gr.Button("🎲", elem_id="seed-dice", size="sm")
                    reuse = gr.Button("♻️", elem_id="seed-reuse", size="sm")
                with gr.Accordion("processing size and more", open=False):
                    with gr.Row():
                        add("width", gr.Number(label="processing width (multiple of 8)", value=STYLE["width"], precision=0, elem_id="proc-width"))
                        add("height", gr.Number(label="processing height", value=STYLE["height"], precision=0, elem_id="proc-height"))
                        add("resize_mode", gr.Dropdown(label="resize mode", choices=list(RESIZE_MODES), value=STYLE["resize_mode"]))
                        add("clip_skip", gr.Number(label="clip skip", value=STYLE["clip_skip"], precision=0, minimum=1, maximum=12))
            # ---------------------------------------------------------------- Preview
            with gr.Tab("Preview", id="preview"):
                with gr.Row():
                    frame = gr.Slider(0, 1, value=0, step=1, label="frame", elem_id="preview-frame")
                    n_seeds = gr.Slider(1, 16, value=PREVIEW_SEEDS, step=1, label="seeds", elem_id="preview-seeds")
                    strengths = gr.Textbox(label="strengths, comma-separated, one row each (empty = the Look tab's)", value="",
                                           placeholder="e.g. 0.2,0.3,0.4", elem_id="preview-strengths")
                preview_btn = gr.Button("Preview", variant="primary", elem_id="preview-button")
                gallery = gr.Gallery(label="click a tile to use its seed", columns=4, object_fit="contain", height=360,
                                     elem_id="preview-grid", allow_preview=False, buttons=["download"])
                preview_info = gr.Markdown(elem_id="preview-info")
            # ---------------------------------------------------------------- Mask
            with gr.Tab("Mask", id="mask"):
                mask_tab = _mask_tab(ui, form, add)
            # ---------------------------------------------------------------- Run
            with gr.Tab("Run", id="run"):
                with gr.Row():
                    method = gr.Dropdown(label="method", choices=list(METHODS), value=JobSpec.method, elem_id="method")
                    add("noise", gr.Radio(label="noise (consistency)", choices=list(NOISE_MODES), value=STYLE["noise"], elem_id="noise"))
                    add("batch_size", gr.Number(label="frames per model call", value=STYLE["batch_size"], precision=0, minimum=1))
                    add("consistency", gr.Textbox(label="consistency techniques (e.g. flow-warp,color-match,deflicker)",
                                                  value="", elem_id="consistency"))
                with gr.Accordion("method options: ControlNet, keyframes / ebsynth, animatediff / img2vid", open=False,
                                  elem_id="method-options"):
                    with gr.Row():
                        add("control", gr.Textbox(label="ControlNet units, comma-separated TYPE[:WEIGHT[:START-END]]: canny, "
                                                        "tile, depth, softedge, lineart, openpose (empty = none; ebsynth: canny)",
                                                  value="", elem_id="control"))
                        add("control_model", gr.Textbox(label="ControlNet models, TYPE=MODEL comma-separated (empty = each "
                                                              "type's default; tiny with the tiny model)", value="",
                                                        elem_id="control-model"))
                    with gr.Group(visible=JobSpec.method in KEYFRAME_METHODS, elem_id="keys-options") as keys_box:
                        gr.Markdown("**keyframes / ebsynth**: which frames are keys, and how they are stylised")
                        with gr.Row():
                            key_names = _option_controls(KeyOptions, add, "keys")
                    with gr.Group(visible=JobSpec.method in VIDEO_METHODS, elem_id="video-options") as video_box:
                        gr.Markdown("**animatediff / img2vid**: the video model and its windows")
                        with gr.Row():
                            video_names = _option_controls(VideoOptions, add, "video")
                with gr.Row():
                    job_name = gr.Textbox(label="job name (empty = from source and settings)", elem_id="job-name")
                    redo = gr.Textbox(label="redo frames (e.g. 12-18)", elem_id="redo-frames")
                    formats = gr.CheckboxGroup(list(FORMATS), value=["gif", "mp4"], label="outputs", elem_id="formats")
                    overwrite = gr.Checkbox(label="overwrite (redo the job with new settings)", value=False)
                with gr.Row():
                    run_btn = gr.Button("Run", variant="primary", elem_id="run-button")
                    cancel_btn = gr.Button("Cancel", variant="stop", elem_id="cancel-button")
                status = gr.Markdown(elem_id="run-status")
                with gr.Row():
                    result_gif = gr.Image(label="GIF", type="filepath", interactive=False, height=320, buttons=["download", "fullscreen"], elem_id="result-gif")
                    result_mp4 = gr.Video(label="MP4", interactive=False, height=320, buttons=["download"], elem_id="result-mp4")
                with gr.Row():
                    dl_gif = gr.DownloadButton("Download GIF", visible=False, elem_id="download-gif")
                    dl_mp4 = gr.DownloadButton("Download MP4", visible=False, elem_id="download-mp4")
                infotext = gr.Textbox(label="infotext (paste into `rotoscope run --from`)", buttons=["copy"], lines=3,
                                      interactive=False, elem_id="infotext")
                with gr.Row():
                    score_md = gr.Markdown(elem_id="score-report")
                    score_plot = gr.Image(label="warp error per frame (where it flickers)", type="filepath",
                                          interactive=False, height=220, elem_id="score-plot")
            # ---------------------------------------------------------------- Jobs
            with gr.Tab("Jobs", id="jobs") as jobs_tab:
                refresh = gr.Button("Refresh", elem_id="jobs-refresh")
                table = gr.Dataframe(headers=JOB_COLUMNS, interactive=False, elem_id="jobs-table")
                with gr.Row():
                    picked = gr.Textbox(label="job", elem_id="jobs-picked")
                    picked_frames = gr.Textbox(label="frames to redo (e.g. 12-18)", elem_id="jobs-frames")
                with gr.Row():
                    resume_btn = gr.Button("Resume", variant="primary", elem_id="jobs-resume")
                    redo_btn = gr.Button("Redo frames", elem_id="jobs-redo")
                    jobs_cancel = gr.Button("Cancel", variant="stop", elem_id="jobs-cancel")
                jobs_status = gr.Markdown(elem_id="jobs-status")
                jobs_gif = gr.Image(label="output", type="filepath", interactive=False, buttons=["download", "fullscreen"], elem_id="jobs-gif")

        # ------------------------------------------------------------------ hidden API inputs/outputs
        with gr.Column(visible=False):
            api_source = gr.File(label="source")
            api_mask = gr.File(label="mask (optional)")
            api_options = gr.JSON(label="options")
            api_text = gr.Textbox(label="job")
            api_text2 = gr.Textbox(label="frames")
            api_gif = gr.File(label="gif")
            api_mp4 = gr.File(label="mp4")
            api_json = gr.JSON(label="result")
            api_files = gr.Files(label="tiles")
            api_buttons = [gr.Button(visible=False) for _ in range(7)]

        # ================================================================== events
        media_inputs = {form[n] for n in media_names}

        @user_errors
        def on_upload(files):
            kept = ui.keep_source(files)
            return kept, ui.probe(kept)

        @user_errors
        def on_media(data):
            path, info, count = ui.convert_preview(data[source], values(data, media_names))
            return path, info, gr.update(maximum=max(count - 1, 1), value=0)

        upload.change(on_upload, [upload], [source, facts], **quiet).then(
            on_media, media_inputs | {source}, [clip_preview, clip_info, frame], **quiet)
        gr.on([form[n].change for n in media_names if n != "max_size"] + [form["max_size"].submit, form["max_size"].blur],
              on_media, media_inputs | {source}, [clip_preview, clip_info, frame], trigger_mode="always_last", **quiet)

        dice.click(lambda: -1, None, form["seed"], queue=False, **quiet)
        reuse.click(lambda s: gr.update() if s is None else s, last_seed, form["seed"], queue=False, **quiet)

        option_names = media_names + look_names + run_names + mask_tab.names + ("control", "control_model")
        method_names = tuple(key_names) + tuple(video_names)
        all_inputs = {form[n] for n in option_names + method_names} | {source}

        def method_options(data: dict) -> dict[str, Any]:
            """Every option for a run: the keyframe or video settings only for the methods that read them."""
            chosen = data[method]
            names = option_names + (tuple(key_names) if chosen in KEYFRAME_METHODS else ()) + (
                tuple(video_names) if chosen in VIDEO_METHODS else ())
            return values(data, names)

        method.change(lambda m: (gr.update(visible=m in KEYFRAME_METHODS), gr.update(visible=m in VIDEO_METHODS)),
                      method, [keys_box, video_box], queue=False, **quiet)

        @user_errors
        def on_preview(data, progress=gr.Progress()):
            progress(None, desc="stylising preview tiles")
            result = ui.preview(data[source], values(data, option_names), data[frame], data[n_seeds], data[strengths])
            pics = [(str(t.path), f"seed {t.seed} · strength {t.strength:g}") for t in result.tiles]
            return pics, [[t.seed, t.strength] for t in result.tiles], f"{len(pics)} tiles of frame {int(data[frame])}; click one to use its seed."

        preview_btn.click(on_preview, all_inputs | {frame, n_seeds, strengths}, [gallery, tiles, preview_info],
                          concurrency_id="model", show_progress_on=[gallery], **quiet)

        def on_tile(tile_list, evt: gr.SelectData):
            seed, strength = tile_list[evt.index]
            return seed, strength, f"seed **{seed}** (strength {strength:g}) chosen — now Run."

        gallery.select(on_tile, [tiles], [form["seed"], form["strength"], preview_info], **quiet)

        mask_tab.wire(source, frame, media_names, values)

        outputs = [status, result_gif, result_mp4, dl_gif, dl_mp4, infotext, last_seed, job_name, score_md, score_plot]

        def show(summary: dict) -> list:
            if summary["cancelled"]:
                return [summary["message"], gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(),
                        summary["job"], gr.update(), gr.update()]
            outs = summary["outputs"]
            score = summary.get("score") or {}
            report = ("**score** (`rotoscope score`): warp error {warp_error:.2f} (source {source_warp_error:.2f}, "
                      "added flicker {added_flicker:+.2f}), SSIM to source {ssim:.3f}, PSNR {psnr:.1f} dB; CLIP: {clip_note}"
                      .format(**score)) if score else ""
            return [summary["message"], outs.get("gif"), outs.get("mp4"),
                    gr.update(value=outs.get("gif"), visible="gif" in outs),
                    gr.update(value=outs.get("mp4"), visible="mp4" in outs),
                    summary["infotext"], summary["seed"], summary["job"], report, summary.get("score_plot")]

        @user_errors
        def on_run(data, request: gr.Request, progress=gr.Progress()):
            if not data[source]:
                raise OptionError("upload a source first (Source tab).")
            options = method_options(data)
            mask_tab.apply(data, options)
            spec = build_job_spec(data[source], options, method=data[method])
            spec, job = ui.job_for(spec, data[job_name], data[formats])
            summary = ui.execute(spec, job, frames=data[redo], overwrite=data[overwrite],
                                 session=request.session_hash if request else None, report=progress)
            return show(summary)

        run_btn.click(on_run, all_inputs | mask_tab.inputs | {method, job_name, redo, formats, overwrite}, outputs,
                      concurrency_id="model", show_progress_on=[result_gif], **quiet).then(ui.jobs_table, None, table, **quiet)

        def on_cancel(request: gr.Request):
            n = ui.runs.cancel(f"session:{request.session_hash}") if request else 0
            return "cancelling: the frame in progress finishes, then the run stops (finished frames are kept)." if n else "nothing is running."

        cancel_btn.click(on_cancel, None, status, queue=False, **quiet)
        jobs_cancel.click(on_cancel, None, jobs_status, queue=False, **quiet)

        # jobs tab
        demo.load(ui.jobs_table, None, table, queue=False, **quiet)
        refresh.click(ui.jobs_table, None, table, queue=False, **quiet)
        jobs_tab.select(ui.jobs_table, None, table, queue=False, **quiet)

        def on_pick(evt: gr.SelectData, rows):
            name = rows.iloc[evt.index[0], 0] if hasattr(rows, "iloc") else rows[evt.index[0]][0]
            info = ui.ws.job_info(ui.ws.existing_job(name))
            gif = next((p for p in info.outputs if p.endswith(".gif")), None) if info else None
            return name, gif

        table.select(on_pick, [table], [picked, jobs_gif], **quiet)

        @user_errors
        def on_resume(name, frames_text, redo_mode, request: gr.Request, progress=gr.Progress()):
            if redo_mode and not (frames_text or "").strip():
                raise OptionError("give the frames to redo, e.g. 12-18 (0-based, inclusive).")
            summary = ui.resume(check_job_name(name), frames_text if redo_mode else None,
                                session=request.session_hash if request else None, report=progress)
            if summary["cancelled"]:
                return summary["message"], gr.update()
            return summary["message"], summary["outputs"].get("gif")

        def on_resume_all(name, frames_text, request: gr.Request, progress=gr.Progress()):
            return on_resume(name, frames_text, False, request, progress)

        def on_redo(name, frames_text, request: gr.Request, progress=gr.Progress()):
            return on_resume(name, frames_text, True, request, progress)

        resume_btn.click(on_resume_all, [picked, picked_frames], [jobs_status, jobs_gif],
                         concurrency_id="model", **quiet).then(ui.jobs_table, None, table, **quiet)
        redo_btn.click(on_redo, [picked, picked_frames], [jobs_status, jobs_gif],
                       concurrency_id="model", **quiet).then(ui.jobs_table, None, table, **quiet)

        # ------------------------------------------------------------------ HTTP API (named endpoints)
        _api(ui, api_buttons, api_source, api_mask, api_options, api_text, api_text2, api_gif, api_mp4, api_json, api_files)
    return demo


# ---------------------------------------------------------------------- mask tab


class _MaskTab:
    """The Mask tab: paint on a frame (or upload a mask image/video); options come from the mask library."""

    def __init__(self, ui: UI, form, add) -> None:
        self.ui = ui
        self.names: tuple[str, ...] = ()
        self.options_cls = _mask_options_class()
        gr.Markdown("Paint where the model may change the frame (white = repaint), or upload a mask image / mask video.")
        with gr.Row():
            with gr.Column():
                self.load = gr.Button("Load the preview frame to paint on", elem_id="mask-load")
                self.editor = gr.ImageMask(label="paint the mask", type="numpy", image_mode="RGBA", layers=False,
                                           sources=(), elem_id="mask-editor", canvas_size=(640, 480))
                self.upload = gr.File(label="or upload a mask (image or video)", file_count="single", type="filepath", elem_id="mask-upload")
                self.use = gr.Checkbox(label="use this mask for Preview and Run", value=True, elem_id="mask-use")
            with gr.Column():
                self.save = gr.Button("Save mask", elem_id="mask-save")
                self.saved = gr.Textbox(label="mask file (saved as PNG in the jobs folder)", interactive=False, elem_id="mask-file")
                self.crop = gr.Image(label="mask and the 'only masked' crop box", type="numpy", interactive=False, buttons=["download", "fullscreen"], elem_id="mask-crop")
                with gr.Group():
                    self.names = tuple(_option_controls(self.options_cls, add, "mask", skip=("mask",)))
        self.inputs = {self.saved, self.use}
        self.form = form

    def wire(self, source, frame, media_names, values) -> None:
        quiet = dict(api_visibility="undocumented")
        ui = self.ui

        @user_errors
        def on_load(data):
            if not data[source]:
                raise OptionError("upload a source first (Source tab).")
            image = ui.frame_image(data[source], values(data, media_names), data[frame])
            return {"background": image[..., :3], "layers": [], "composite": image[..., :3]}

        self.load.click(on_load, {self.form[n] for n in media_names} | {source, frame}, self.editor, **quiet)

        @user_errors
        def on_save(editor_value, uploaded, *option_values):
            if uploaded:
                path = ui.ws.keep_upload([uploaded])
            else:
                data = mask_png(editor_value)
                if data is None:
                    raise OptionError("nothing painted: paint over the frame (or upload a mask) before saving.")
                path = ui.ws.keep_bytes(data, "mask.png")
            return path, self._preview_crop(path, editor_value, dict(zip(self.names, option_values)))

        self.save.click(on_save, [self.editor, self.upload, *(self.form[n] for n in self.names)], [self.saved, self.crop], **quiet)

    def _preview_crop(self, path: str, editor_value, options: dict) -> np.ndarray | None:
        """The frame with the mask tinted and the "only masked" crop box (the mask library's own overlay)."""
        if not path.lower().endswith(".png") or not editor_value or editor_value.get("background") is None:
            return None
        from ..stylize.masking import blur_mask, mask_overlay, only_masked_region
        from ..stylize.resize import processing_size

        frame = np.ascontiguousarray(np.asarray(editor_value["background"])[..., :3])
        mask = np.asarray(Image.open(path).convert("L").resize((frame.shape[1], frame.shape[0])))
        opts = clean_options(options)
        if opts.get("invert_mask"):
            mask = 255 - mask
        blurred = blur_mask(mask, opts.get("mask_blur", MASK["mask_blur"]))
        size = processing_size(frame.shape[1], frame.shape[0], STYLE["width"], STYLE["height"])
        region = only_masked_region(blurred, opts.get("padding", MASK["padding"]), size)
        area = opts.get("inpaint_area", MASK["inpaint_area"])
        return mask_overlay(frame, mask, blurred, region if area == "only-masked" else None,
                            label=f"crop box {region}" if area == "only-masked" and region else "")

    def apply(self, data: dict, options: dict) -> None:
        """Put the saved mask (if any, and if 'use' is ticked) into the job options."""
        path = data.get(self.saved)
        if path and data.get(self.use):
            options["mask"] = str(self.ui.ws.inside(path))


def _mask_tab(ui: UI, form, add) -> _MaskTab:
    return _MaskTab(ui, form, add)


def _mask_options_class():
    """The mask library's options dataclass (MaskOptions), if the installed rotoscope has one."""
    try:
        from ..stylize.mask_options import MaskOptions
    except ImportError:
        return None
    return MaskOptions


def _option_controls(cls, add, prefix: str, skip: tuple[str, ...] = ()) -> list[str]:
    """One control per setting of an options dataclass (bool → checkbox, choice → dropdown, number → number box,
    text → textbox), starting at the dataclass's default; the elem_id is ``prefix-name``. Returns the names."""
    import sys

    module = sys.modules[cls.__module__]
    names = []
    defaults = _defaults(cls)
    for f in fields(cls):
        value = defaults[f.name]
        if f.name in skip or isinstance(value, list):  # lists (shapes, …) are CLI / API only
            continue
        label = f.name.replace("_", " ")
        choices = getattr(module, f"{f.name.upper()}S", None) or getattr(module, f"{f.name.upper()}ES", None)
        elem_id = f"{prefix}-{f.name}"
        if isinstance(value, bool):
            add(f.name, gr.Checkbox(label=label, value=value, elem_id=elem_id))
        elif choices:
            add(f.name, gr.Dropdown(label=label, choices=list(choices), value=value, elem_id=elem_id))
        elif isinstance(value, (int, float)):
            add(f.name, gr.Number(label=label, value=value, precision=0 if isinstance(value, int) else None, elem_id=elem_id))
        elif isinstance(value, str) or value is None:
            add(f.name, gr.Textbox(label=label, value=value or "", elem_id=elem_id))
        else:
            continue
        names.append(f.name)
    return names


# ---------------------------------------------------------------------- API


API_DOC = """Named endpoints (gradio API; see /?view=api):
  /probe   (source file) → facts
  /convert (source file, options) → GIF file, facts
  /preview (source file, options with frame, seeds, strengths) → tile files, tiles
  /run     (source file, mask file or None, options) → GIF file, MP4 file or None, result
  /jobs    () → past runs
  /resume  (job name, frames or "") → GIF file, MP4 file or None, result
  /cancel  (job name) → how many runs were told to stop
Options are rotoscope.api.build_spec keywords (prompt, model, seed, steps, strength, start, duration, fps,
scale_width, max_size, …) plus job, frames, formats ["gif", "mp4"], method, overwrite."""

API_ONLY_KEYS = ("job", "frames", "formats", "method", "overwrite", "frame", "seeds", "strengths")


def _api(ui: UI, buttons, source, mask, options, text, text2, gif, mp4, result, files) -> None:
    def opts(value) -> dict:
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise OptionError("options must be a JSON object, e.g. {\"prompt\": \"ink drawing\", \"model\": \"tiny\"}.")
        value = dict(value)
        if "outputs" in value:
            raise OptionError("'outputs' cannot be set over the API: outputs are written in the job folder; ask for "
                              "formats instead, e.g. \"formats\": [\"gif\", \"mp4\"].")
        if "job_dir" in value:
            raise OptionError("'job_dir' cannot be set over the API; give a job name with \"job\".")
        return value

    def kept(file) -> str:
        if not file:
            raise OptionError("no source file was sent.")
        return ui.keep_source([file])

    @user_errors
    def api_probe(file):
        facts = api.probe(kept(file)).to_dict()
        facts["file"] = Path(facts.pop("path")).name  # a "path" key would read as a file to gradio clients
        return facts

    @user_errors
    def api_convert(file, options):
        o = opts(options)
        unknown = set(o) - set(_defaults(MediaOptions)) - {"scale_width", "max_size"}
        if unknown:
            raise OptionError(f"unknown convert options {sorted(unknown)}; use start, duration, fps, width, height, max_size.")
        src = kept(file)
        path, info, count = ui.convert_preview(src, {k: v for k, v in o.items()})
        return path, {"frames": count, "info": info, "bytes": Path(path).stat().st_size}

    @user_errors
    def api_preview(file, options):
        o = opts(options)
        frame, seeds, strengths = o.pop("frame", 0), o.pop("seeds", PREVIEW_SEEDS), o.pop("strengths", None)
        if isinstance(strengths, (list, tuple)):
            strengths = ",".join(str(s) for s in strengths)
        result = ui.preview(kept(file), o, frame, seeds, strengths)
        return [str(t.path) for t in result.tiles], [{"seed": t.seed, "strength": t.strength} for t in result.tiles]

    def finish(summary: dict):
        outs = summary.get("outputs", {})
        return outs.get("gif"), outs.get("mp4"), summary

    @user_errors
    def api_run(file, mask_file, options, request: gr.Request, progress=gr.Progress()):
        o = opts(options)
        name, frames, formats = o.pop("job", None), o.pop("frames", None), o.pop("formats", ["gif"])
        method, overwrite = o.pop("method", JobSpec.method), bool(o.pop("overwrite", False))
        if "mask" in o:
            raise OptionError("send the mask as the mask file argument, not as an option.")
        if mask_file:
            o["mask"] = ui.keep_source([mask_file])
        spec = build_job_spec(kept(file), o, method=method)
        spec, job = ui.job_for(spec, name, list(formats))
        return finish(ui.execute(spec, job, frames=frames, overwrite=overwrite,
                                 session=request.session_hash if request else None, report=progress))

    @user_errors
    def api_jobs():
        return [info.__dict__ for info in ui.ws.jobs()]

    @user_errors
    def api_resume(name, frames, request: gr.Request, progress=gr.Progress()):
        return finish(ui.resume(name, frames or None, session=request.session_hash if request else None, report=progress))

    @user_errors
    def api_cancel(name):
        return {"job": check_job_name(name), "cancelled": ui.runs.cancel(f"job:{name}")}

    b = iter(buttons)
    next(b).click(api_probe, [source], [result], api_name="probe", api_description="Probe facts of a clip.")
    next(b).click(api_convert, [source, options], [gif, result], api_name="convert",
                  api_description="Cut/resample/scale the clip to a GIF (options: start, duration, fps, width, max_size).")
    next(b).click(api_preview, [source, options], [files, result], api_name="preview", concurrency_id="model",
                  api_description="Stylise one frame with several seeds (× strengths).")
    next(b).click(api_run, [source, mask, options], [gif, mp4, result], api_name="run", concurrency_id="model",
                  api_description="Stylise every frame; returns the GIF (and MP4 if asked) and the job summary.")
    next(b).click(api_jobs, None, [result], api_name="jobs", api_description="Past runs in the jobs folder.")
    next(b).click(api_resume, [text, text2], [gif, mp4, result], api_name="resume", concurrency_id="model",
                  api_description="Resume a stopped job, or redo frames (e.g. 12-18).")
    next(b).click(api_cancel, [text], [result], api_name="cancel", queue=False,
                  api_description="Stop a running job after its current frame.")
