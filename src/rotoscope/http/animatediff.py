"""The AnimateDiff extension over the API: ``alwayson_scripts.animatediff`` (or ``AnimateDiff``) on txt2img /
img2img runs the ``animatediff`` method through the API facade and answers the GIF (base64) in ``images[0]``,
as the extension does.

The extension's fields map onto the option model: ``video_length`` frames (0: the context batch size),
``fps``, ``batch_size`` → ``context_length``, ``overlap`` → ``context_overlap`` (-1: a quarter of the
context). img2img animates the init image (every frame starts from it, at ``denoising_strength``); txt2img
starts from a mid-grey clip at strength 1. ``model`` is accepted: the motion adapter is the model's default
(the tiny one with the tiny model). ``video_path`` / ``video_source`` name files on the server: refused.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from PIL import Image

from .. import api
from .errors import ApiError
from .images import save_input

SAVED = {"GIF", "MP4", "PNG", "WEBP", "WEBM"}  # the extension's saving formats (TXT, Frame are extras)


def read(scripts: dict) -> dict | None:
    """The extension's settings when it is enabled, else None (webuiapi sends ``args: [False]`` when off)."""
    script = next((v for k, v in scripts.items() if k.lower() == "animatediff"), None)
    args = (script or {}).get("args") if isinstance(script, dict) else None
    if not args or not isinstance(args[0], dict) or not args[0].get("enable", True):
        return None
    raw = args[0]
    for field in ("video_path", "video_source", "mask_path"):
        if raw.get(field):
            raise ApiError(422, f"animatediff {field}: files on the server are not read; send init_images, or use "
                                "the video-job API for a clip")
    try:
        length, fps = int(raw.get("video_length") or 0), float(raw.get("fps") or 8)
        context = int(raw.get("batch_size") or 16)
        overlap = int(-1 if raw.get("overlap") is None else raw["overlap"])
    except (TypeError, ValueError):
        raise ApiError(422, "animatediff: video_length, fps, batch_size and overlap must be numbers") from None
    if length < 0 or fps <= 0:
        raise ApiError(422, "Video length and FPS should be positive.")
    formats = [str(f).upper() for f in (raw.get("format") or ["GIF"])]
    if not set(formats) & SAVED:
        raise ApiError(422, "At least one saving format should be selected.")
    return {"frames": length or context, "fps": fps, "context_length": context,
            "context_overlap": overlap if overlap >= 0 else context // 4}


def generate(server, body: dict, options: dict, init: Image.Image | None, motion: dict, folder: Path,
             checkpoint) -> dict:
    """One clip of ``motion["frames"]`` frames from the init image (or grey), the GIF in ``images[0]``."""
    from .fields import echo

    size = (options.get("process_width") or 512, options.get("process_height") or 512)
    start = init.convert("RGB") if init is not None else Image.new("RGB", size, (127, 127, 127))
    source = folder / "frames"
    source.mkdir()
    for i in range(motion["frames"]):
        save_input(start, source / f"{i:04d}.png")
    run: dict[str, Any] = dict(options, method="animatediff", fps=motion["fps"],
                               context_length=min(motion["context_length"], motion["frames"]),
                               context_overlap=min(motion["context_overlap"], max(motion["frames"] - 1, 0)))
    if init is None:
        run["strength"] = 1.0
    if run.get("seed") in (None, -1):
        import random

        run["seed"] = random.randint(0, 2**32 - 1)
    interrupted = False
    with server.generation.running(1, int(options.get("steps") or 20)) as generation:
        switch = generation.image(0)
        try:
            result = api.stylize(source, folder / "animation.gif", job_dir=folder / "job", cancel=switch, **run)
        except api.Cancelled:
            result, interrupted = None, True
        steps = (generation.steps_run, generation.steps_at_interrupt)
    images = [] if result is None else [base64.b64encode(Path(result.outputs[0]).read_bytes()).decode("ascii")]
    infotext = "" if result is None else result.infotext.replace(str(checkpoint.model), checkpoint.title)
    info = {"prompt": options.get("prompt") or "", "seed": run["seed"], "all_seeds": [run["seed"]],
            "infotexts": [infotext] if images else [], "sd_model_name": checkpoint.title,
            "sampler_name": options.get("sampler"), "steps": options.get("steps"), "interrupted": interrupted,
            "video_length": motion["frames"], "fps": motion["fps"], "steps_run": steps[0],
            "steps_run_at_interrupt": steps[1]}
    return {"images": images, "parameters": echo(body), "info": json.dumps(info)}
