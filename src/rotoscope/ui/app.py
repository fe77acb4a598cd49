"""The page: Source → Preview → Mask → Run → Jobs beside the settings, plus named HTTP API endpoints.

A thin adapter. The settings column is generated from the option model (:mod:`.controls`): one control
per job option, in its panel, starting at its declared default. Every action sends the options that differ
from their defaults, by name, to the API facade (:func:`rotoscope.api.build_spec`, ``preview``,
``convert``, ``probe``), which alone validates them; every error shown is the library's own message.
"""

from __future__ import annotations

import functools
import inspect
import io
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np
from PIL import Image

from .. import api

if TYPE_CHECKING:
    from ..jobs.spec import JobSpec
from ..errors import OptionError, RotoscopeError
from ..progress import Cancelled
from .controls import FORMATS, Settings
from .progress import GradioProgress
from .workspace import JOB_COLUMNS, Workspace, check_job_name, looks_like_path

# Options whose values name files or folders on the server (besides --from and the mask).
PATH_OPTIONS = ("model", "vae", "lora", "embedding", "model_config", "models_dir", "control_image_dir", "control_model",
                "motion_adapter", "video_model", "lcm_lora")
LIST_OPTIONS = ("lora", "embedding", "control_image_dir", "control_model")

CSS = """
#probe-facts table, #clip-info {font-size: 0.9em}
.seed-row button {max-width: 3em}
"""
PREVIEW_SEEDS: int = inspect.signature(api.preview).parameters["seeds"].default
QUIET = dict(api_visibility="undocumented")  # page events: not part of the HTTP API


def user_errors(fn):
    """Library errors reach the page (and API clients) as their one-line message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RotoscopeError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return wrapper


REMOTE_FILE = ("a file argument must be a file uploaded to this page (gradio_client's handle_file does that); "
               "{path!r} names another host, and the server fetches nothing from other hosts.")


def remote_file(value: Any) -> str | None:
    """The first file argument (gradio FileData) in ``value`` that names a URL instead of an uploaded file."""
    if isinstance(value, dict):
        meta = value.get("meta")
        path = value.get("path")
        if isinstance(meta, dict) and meta.get("_type") == "gradio.FileData" and isinstance(path, str):
            text = path.strip().lower()
            if "://" in text or text.startswith(("//", "\\\\")):
                return path
        return next((found for v in value.values() if (found := remote_file(v))), None)
    if isinstance(value, (list, tuple)):
        return next((found for v in value if (found := remote_file(v))), None)
    return None


class LocalBlocks(gr.Blocks):
    """gr.Blocks that refuse a file argument naming a URL before gradio would download it (a download would
    look the host up and fetch it): every event route (/call, /queue/join, /run) passes here first."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call: bool = False):
        url = remote_file(inputs)
        if url is not None:
            raise gr.Error(REMOTE_FILE.format(path=url), print_exception=False)
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


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


def _names_a_file(text: str) -> bool:
    """Does ``text`` (a --from value) name an existing file, rather than being pasted infotext?"""
    try:
        return "\n" not in text and Path(text).exists()
    except OSError:  # a long single line of infotext is no file name
        return False


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

    def convert_preview(self, source: str, options: dict[str, Any]) -> tuple[str | None, str, int]:
        """The clip as the media options cut it, as a GIF with the output options, and what it weighs."""
        if not source:
            return None, "", 0
        out = self.ws.scratch() / "clip.gif"
        result = api.convert(source, [str(out)], **options)
        size = out.stat().st_size
        fitted = f" · fitted: {'; '.join(n.split(': ', 1)[-1] for n in result.notes)}" if result.notes else ""
        info = (f"**{result.frames} frames**, {result.width}×{result.height}, {result.duration:.2f} s — "
                f"GIF **{fmt_bytes(size)}** ({size:,} bytes){fitted}")
        return str(out), info, result.frames

    def frame_image(self, source: str, options: dict[str, Any], index: int) -> np.ndarray:
        return api.source_frame(source, int(index), **options)

    def local(self, options: dict[str, Any]) -> dict[str, Any]:
        """Files the page and the API hand over stay in the jobs folder: an uploaded mask is kept there (it
        outlives gradio's upload cache, so the job resumes), --from may read only files from there, and options
        naming model files (model, LoRA, VAE, ControlNet, …) only files there or in the models folder."""
        options = dict(options)
        mask = options.get("mask")
        if mask and self.ws.jobs_dir not in Path(mask).resolve().parents:
            options["mask"] = self.ws.keep_upload([mask])
        source = options.get("from_")
        if isinstance(source, str) and (("\n" not in source and looks_like_path(source)) or _names_a_file(source)):
            options["from_"] = self.ws.served_file(source, "--from")
        for key in PATH_OPTIONS:
            values = options.get(key)
            for value in values if isinstance(values, (list, tuple)) and key in LIST_OPTIONS else [values]:
                name = value[0] if isinstance(value, (list, tuple)) and value else value
                if not isinstance(name, str):
                    continue
                if key in ("control_image_dir", "control_model") and "=" in name:
                    name = name.split("=", 1)[1]
                elif key == "lora" and name.rpartition(":")[2].replace(".", "", 1).lstrip("-").isdigit():
                    name = name.rpartition(":")[0]
                if looks_like_path(name):
                    self.ws.served_file(name, key.replace("_", "-"))
        return options

    # -- preview -------------------------------------------------------------------
    def preview(self, source: str, options: dict[str, Any], frame: int, seeds: int, strengths: str | None):
        if not source:
            raise OptionError("upload a source first (Source tab).")
        out = self.ws.scratch() / "preview.png"
        return api.preview(source, out, frame=int(frame), seeds=int(seeds),
                           strengths=strengths if strengths and str(strengths).strip() else None, **self.local(options))

    # -- run -----------------------------------------------------------------------
    def job_spec(self, source: str | None, options: dict[str, Any], name: str | None,
                 formats: list[str] | None) -> tuple[JobSpec, Path]:
        """The job's spec (built by the API from the options by name) and its folder, which holds its outputs."""
        unknown = [f for f in formats or [] if f not in FORMATS]
        if unknown:  # formats name files in the job folder: never a path
            raise OptionError(f"formats {unknown} are not known; use some of {', '.join(FORMATS)}.")
        options = self.local(options)
        source = source or None  # img2vid runs from a prompt alone
        if name and name.strip():
            job = self.ws.job_dir(name)
        else:
            job = self.ws.job_dir(api.job_folder(api.build_spec(source, **options), self.ws.jobs_dir).name)
        outputs = [str(job / f"output.{f}") for f in formats or FORMATS[:1]]
        return api.build_spec(source, outputs, **options), job

    def execute(self, spec: JobSpec, job: Path, *, frames: str | None = None, session: str | None = None,
                report=None) -> dict[str, Any]:
        """Run (or resume) a job; returns a summary. A cancel stops within one denoising step."""
        cancel = threading.Event()
        keys = [f"job:{job.name}"] + ([f"session:{session}"] if session else [])
        self.runs.register(keys, cancel)
        progress = GradioProgress(report)
        try:
            result = api.run_spec(spec, job, frames=frames or None, progress=progress, cancel=cancel,
                                  executor=self.ws.executor)
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
        frames, source = job / "frames", job / "source"
        count = len(list(frames.glob("*.png")))
        # Only where output and source frames pair one to one (not img2vid's single still, not interpolated outputs).
        if count < 2 or count != len(list(source.glob("*.png"))):
            return None, None
        plot = job / "score.png"
        result = api.score(frames, source, clip=False, plot=plot, overwrite=True)  # the job's own plot
        data = result.to_dict()
        return {k: data[k] for k in ("frames", "warp_error", "source_warp_error", "added_flicker", "ssim", "psnr")} | {
            "clip_note": result.clip_note}, str(plot)

    def resume(self, name: str, frames: str | None, session: str | None = None, report=None) -> dict[str, Any]:
        job = self.ws.existing_job(name)
        spec = api.job_spec(job)
        return self.execute(spec, job, frames=frames, session=session, report=report)

    def jobs_table(self) -> list[list]:
        return [info.row() for info in self.ws.jobs()]



def _preset_look(name: str | None, model: str):
    """A preset's sampler / steps / CFG into the Look controls (the rest of the preset is applied by build_spec)."""
    if not name:
        return gr.update(), gr.update(), gr.update()
    look = api.preset_look(name, model)
    return tuple(gr.update(value=look[k]) if k in look else gr.update() for k in ("sampler", "steps", "cfg_scale"))


def _seed_buttons() -> tuple[gr.Button, gr.Button]:
    with gr.Row(elem_classes="seed-row"):
        dice = gr.Button("🎲", elem_id="seed-dice", size="sm")
        reuse = gr.Button("♻️", elem_id="seed-reuse", size="sm")
    return dice, reuse


def build_app(ws: Workspace) -> gr.Blocks:
    ui = UI(ws)
    with LocalBlocks(title="rotoscope") as demo:
        gr.Markdown("## rotoscope — a clip in, a stylised animation out\n"
                    "Upload a clip, pick a look, preview seeds on one frame, then run every frame with that seed. "
                    "Everything runs on this machine; jobs are kept in the jobs folder and resume.")
        source = gr.State("")
        tiles = gr.State([])
        last_seed = gr.State(None)
        with gr.Row():
            # ---------------------------------------------------------------- settings (every job option)
            with gr.Column(scale=2, elem_id="settings"):
                settings = Settings(models=ws.models(), after={"seed": _seed_buttons})
            with gr.Column(scale=3), gr.Tabs():
                # ------------------------------------------------------------ Source
                with gr.Tab("Source", id="source"):
                    upload = gr.File(label="Video, GIF, image, or several images (a sequence)", file_count="multiple",
                                     type="filepath", elem_id="source-upload")
                    facts = gr.Markdown(elem_id="probe-facts")
                    clip_preview = gr.Image(label="the clip as the Media and Output settings make it (GIF)", type="filepath",
                                            interactive=False, height=320, buttons=["download", "fullscreen"], elem_id="clip-preview")
                    clip_info = gr.Markdown(elem_id="clip-info")
                # ------------------------------------------------------------ Preview
                with gr.Tab("Preview", id="preview"):
                    with gr.Row():
                        frame = gr.Slider(0, 1, value=0, step=1, label="frame", elem_id="preview-frame")
                        n_seeds = gr.Slider(1, 16, value=PREVIEW_SEEDS, step=1, label="seeds", elem_id="preview-seeds")
                        strengths = gr.Textbox(label="strengths, comma-separated, one row each (empty = the Look setting)",
                                               value="", placeholder="e.g. 0.2,0.3,0.4", elem_id="preview-strengths")
                    preview_btn = gr.Button("Preview", variant="primary", elem_id="preview-button")
                    gallery = gr.Gallery(label="click a tile to use its seed", columns=4, object_fit="contain", height=360,
                                         elem_id="preview-grid", allow_preview=False, buttons=["download"])
                    preview_info = gr.Markdown(elem_id="preview-info")
                # ------------------------------------------------------------ Mask
                with gr.Tab("Mask", id="mask"):
                    mask_tab = _MaskTab(ui, settings)
                # ------------------------------------------------------------ Run
                with gr.Tab("Run", id="run"):
                    with gr.Row():
                        job_name = gr.Textbox(label="job name (empty = from source and settings)", elem_id="job-name")
                        redo = gr.Textbox(label="redo frames (e.g. 12-18)", elem_id="redo-frames")
                    with gr.Row():
                        run_btn = gr.Button("Run", variant="primary", elem_id="run-button")
                        cancel_btn = gr.Button("Cancel", variant="stop", elem_id="cancel-button")
                        show_btn = gr.Button("Show job settings", elem_id="show-spec")
                    # The cancel reply has its own line: it and the run's result race back over two
                    # connections, and the reply must never overwrite the run's final status.
                    cancel_note = gr.Markdown(elem_id="cancel-note")
                    status = gr.Markdown(elem_id="run-status")
                    spec_json = gr.Textbox(label="job settings (job.json), as the CLI and the Python API build them",
                                           lines=12, max_lines=40, interactive=False, visible=False, buttons=["copy"],
                                           elem_id="job-settings")
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
                # ------------------------------------------------------------ Jobs
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
                    jobs_cancel_note = gr.Markdown(elem_id="jobs-cancel-note")
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
        settings.wire()
        everything = settings.inputs() | {source}

        def options(data: dict) -> dict[str, Any]:
            """The job's options as the page sets them (its outputs are the job folder's, chosen by format)."""
            return settings.given(data, skip=("output",))

        # the converted clip follows the Media and Output settings (text boxes: when typed out, not per key)
        clip_names = [o.key for o in api.convert_options() if o.key != "output"]  # what convert takes

        @user_errors
        def on_upload(files):
            kept = ui.keep_source(files)
            return kept, ui.probe(kept)

        @user_errors
        def on_media(data):
            # A settings change made before the upload (or while it converts) carries no source: it changes
            # nothing, so its late answer cannot blank the preview the upload's own conversion just showed.
            if not data[source]:
                return gr.update(), gr.update(), gr.update()
            path, info, count = ui.convert_preview(data[source], settings.given(data, clip_names))
            return path, info, gr.update(maximum=max(count - 1, 1), value=0)

        def on_source(data):
            """After an upload: its conversion, or, when the upload was removed, an empty preview."""
            return on_media(data) if data[source] else (None, "", gr.update(maximum=1, value=0))

        clip_outputs = [clip_preview, clip_info, frame]
        upload.change(on_upload, [upload], [source, facts], **QUIET).then(
            on_source, settings.inputs(clip_names) | {source}, clip_outputs, **QUIET)
        triggers = [t for n in clip_names for t in ((settings[n].submit, settings[n].blur)
                                                    if isinstance(settings[n], gr.Textbox) else (settings[n].change,))]
        gr.on(triggers, on_media, settings.inputs(clip_names) | {source}, clip_outputs, trigger_mode="always_last", **QUIET)

        dice, reuse = settings.extras["seed"]
        dice.click(lambda: -1, None, settings["seed"], queue=False, **QUIET)
        reuse.click(lambda s: gr.update() if s is None else s, last_seed, settings["seed"], queue=False, **QUIET)
        settings["preset"].change(_preset_look, [settings["preset"], settings["model"]],
                                  [settings["sampler"], settings["steps"], settings["cfg_scale"]], **QUIET)

        @user_errors
        def on_preview(data, progress=gr.Progress()):
            progress(None, desc="stylising preview tiles")
            result = ui.preview(data[source], options(data), data[frame], data[n_seeds], data[strengths])
            pics = [(str(t.path), f"seed {t.seed} · strength {t.strength:g}") for t in result.tiles]
            return pics, [[t.seed, t.strength] for t in result.tiles], f"{len(pics)} tiles of frame {int(data[frame])}; click one to use its seed."

        preview_btn.click(on_preview, everything | {frame, n_seeds, strengths}, [gallery, tiles, preview_info],
                          concurrency_id="model", show_progress_on=[gallery], **QUIET)

        def on_tile(tile_list, evt: gr.SelectData):
            seed, strength = tile_list[evt.index]
            return seed, strength, f"seed **{seed}** (strength {strength:g}) chosen — now Run."

        gallery.select(on_tile, [tiles], [settings["seed"], settings["strength"], preview_info], **QUIET)

        mask_tab.wire(source, frame)

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

        def job_spec(data: dict) -> tuple[JobSpec, Path]:
            return ui.job_spec(data[source], options(data), data[job_name], data[settings["output"]])

        @user_errors
        def on_run(data, request: gr.Request, progress=gr.Progress()):
            spec, job = job_spec(data)
            return show(ui.execute(spec, job, frames=data[redo], session=request.session_hash if request else None,
                                   report=progress))

        run_btn.click(on_run, everything | {job_name, redo}, outputs, concurrency_id="model",
                      show_progress_on=[result_gif], **QUIET).then(ui.jobs_table, None, table, **QUIET)

        @user_errors
        def on_show(data):
            return gr.update(value=job_spec(data)[0].to_json(), visible=True)

        show_btn.click(on_show, everything | {job_name}, spec_json, **QUIET)

        def on_cancel(request: gr.Request):
            n = ui.runs.cancel(f"session:{request.session_hash}") if request else 0
            asked = time.strftime("%H:%M:%S")
            return (f"cancel asked at {asked}: the frame in progress finishes, then the run stops (finished frames are kept)."
                    if n else f"{asked}: nothing is running.")

        cancel_btn.click(on_cancel, None, cancel_note, queue=False, **QUIET)
        jobs_cancel.click(on_cancel, None, jobs_cancel_note, queue=False, **QUIET)

        # jobs tab
        demo.load(ui.jobs_table, None, table, queue=False, **QUIET)
        refresh.click(ui.jobs_table, None, table, queue=False, **QUIET)
        jobs_tab.select(ui.jobs_table, None, table, queue=False, **QUIET)

        def on_pick(evt: gr.SelectData, rows):
            name = rows.iloc[evt.index[0], 0] if hasattr(rows, "iloc") else rows[evt.index[0]][0]
            info = ui.ws.job_info(ui.ws.existing_job(name))
            gif = next((p for p in info.outputs if p.endswith(".gif")), None) if info else None
            return name, gif

        table.select(on_pick, [table], [picked, jobs_gif], **QUIET)

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
                         concurrency_id="model", **QUIET).then(ui.jobs_table, None, table, **QUIET)
        redo_btn.click(on_redo, [picked, picked_frames], [jobs_status, jobs_gif],
                       concurrency_id="model", **QUIET).then(ui.jobs_table, None, table, **QUIET)

        # ------------------------------------------------------------------ HTTP API (named endpoints)
        _api(ui, api_buttons, api_source, api_mask, api_options, api_text, api_text2, api_gif, api_mp4, api_json, api_files)
    return demo


# ---------------------------------------------------------------------- mask tab


class _MaskTab:
    """The Mask tab: paint on a frame; saving puts the painted mask into the Mask setting (which also takes an
    uploaded mask image or video), and shows the crop box the Mask settings make."""

    def __init__(self, ui: UI, settings: Settings) -> None:
        self.ui = ui
        self.settings = settings
        gr.Markdown("Paint where the model may change the frame (white = repaint); or upload a mask image / mask "
                    "video in the Mask settings. The Mask settings (blur, only masked, …) apply to either.")
        with gr.Row():
            with gr.Column():
                self.load = gr.Button("Load the preview frame to paint on", elem_id="mask-load")
                self.editor = gr.ImageMask(label="paint the mask", type="numpy", image_mode="RGBA", layers=False,
                                           sources=(), elem_id="mask-editor", canvas_size=(640, 480))
            with gr.Column():
                self.save = gr.Button("Save mask (use it for Preview and Run)", elem_id="mask-save")
                self.saved = gr.Textbox(label="mask file (saved as PNG in the jobs folder)", interactive=False, elem_id="mask-file")
                self.crop = gr.Image(label="mask and the 'only masked' crop box", type="numpy", interactive=False,
                                     buttons=["download", "fullscreen"], elem_id="mask-crop")

    def wire(self, source, frame) -> None:
        ui, settings = self.ui, self.settings
        media = settings.names("media")
        # the crop box depends on the mask settings and the processing size
        crop = [n for n in settings.names("mask") if n != "mask"] + ["process_width", "process_height"]

        @user_errors
        def on_load(data):
            if not data[source]:
                raise OptionError("upload a source first (Source tab).")
            image = ui.frame_image(data[source], settings.given(data, media), data[frame])
            return {"background": image[..., :3], "layers": [], "composite": image[..., :3]}

        self.load.click(on_load, settings.inputs(media) | {source, frame}, self.editor, **QUIET)

        @user_errors
        def on_save(data):
            png = mask_png(data[self.editor])
            if png is None:
                raise OptionError("nothing painted: paint over the frame before saving.")
            path = ui.ws.keep_bytes(png, "mask.png")
            spec = api.build_spec(data[source] or None, mask=path, **settings.given(data, crop))
            return path, path, self._preview_crop(path, data[self.editor], spec)

        self.save.click(on_save, settings.inputs(crop) | {self.editor, source}, [self.saved, settings["mask"], self.crop],
                        **QUIET)

    @staticmethod
    def _preview_crop(path: str, editor_value, spec: JobSpec) -> np.ndarray | None:
        """The frame with the mask tinted and the "only masked" crop box (the mask library's own overlay)."""
        if not editor_value or editor_value.get("background") is None:
            return None
        frame = np.ascontiguousarray(np.asarray(editor_value["background"])[..., :3])
        mask = np.asarray(Image.open(path).convert("L").resize((frame.shape[1], frame.shape[0])))
        return api.mask_overlay(frame, mask, spec)


# ---------------------------------------------------------------------- API


API_DOC = """Named endpoints (gradio API; see /?view=api):
  /probe   (source file) → facts
  /convert (source file, options) → GIF file, facts
  /preview (source file, options with frame, seeds, strengths) → tile files, tiles
  /run     (source file, mask file or None, options) → GIF file, MP4 file or None, result
  /jobs    () → past runs
  /resume  (job name, frames or "") → GIF file, MP4 file or None, result
  /cancel  (job name) → how many runs were told to stop
Options are the Python API's keywords (rotoscope.options_table(): prompt, model, seed, steps, strength, method,
start, duration, fps, width, consistency, control, keys, …) plus job, frames and formats ["gif", "mp4"]."""


def _api(ui: UI, buttons, source, mask, options, text, text2, gif, mp4, result, files) -> None:
    def opts(value) -> dict:
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise OptionError("options must be a JSON object, e.g. {\"prompt\": \"ink drawing\", \"model\": \"tiny\"}.")
        value = dict(value)
        for name in ("output", "outputs"):
            if name in value:
                raise OptionError(f"'{name}' cannot be set over the API: outputs are written in the job folder; ask for "
                                  "formats instead, e.g. \"formats\": [\"gif\", \"mp4\"].")
        if "job_dir" in value:
            raise OptionError("'job_dir' cannot be set over the API; give a job name with \"job\".")
        if "mask" in value:
            raise OptionError("send the mask as the mask file argument, not as an option.")
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
        path, info, count = ui.convert_preview(kept(file), opts(options))
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
        if mask_file:
            o["mask"] = ui.keep_source([mask_file])
        spec, job = ui.job_spec(kept(file), o, name, list(formats))
        return finish(ui.execute(spec, job, frames=frames, session=request.session_hash if request else None,
                                 report=progress))

    @user_errors
    def api_jobs():
        return [ui.ws.public(info) for info in ui.ws.jobs()]

    @user_errors
    def api_resume(name, frames, request: gr.Request, progress=gr.Progress()):
        return finish(ui.resume(name, frames or None, session=request.session_hash if request else None, report=progress))

    @user_errors
    def api_cancel(name):
        return {"job": check_job_name(name), "cancelled": ui.runs.cancel(f"job:{name}")}

    b = iter(buttons)
    next(b).click(api_probe, [source], [result], api_name="probe", api_description="Probe facts of a clip.")
    next(b).click(api_convert, [source, options], [gif, result], api_name="convert",
                  api_description="Cut/resample/scale the clip to a GIF (the media and output options: start, duration, "
                  "fps, width, max_size, …).")
    next(b).click(api_preview, [source, options], [files, result], api_name="preview", concurrency_id="model",
                  api_description="Stylise one frame with several seeds (× strengths).")
    next(b).click(api_run, [source, mask, options], [gif, mp4, result], api_name="run", concurrency_id="model",
                  api_description="Stylise every frame; returns the GIF (and MP4 if asked) and the job summary.")
    next(b).click(api_jobs, None, [result], api_name="jobs", api_description="Past runs in the jobs folder.")
    next(b).click(api_resume, [text, text2], [gif, mp4, result], api_name="resume", concurrency_id="model",
                  api_description="Resume a stopped job, or redo frames (e.g. 12-18).")
    next(b).click(api_cancel, [text], [result], api_name="cancel", queue=False,
                  api_description="Stop a running job after its current frame.")
