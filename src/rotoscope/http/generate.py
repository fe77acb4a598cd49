"""``/sdapi/v1/img2img`` and ``/txt2img``: decode the request into a folder of its own under the jobs folder,
run the API facade (``preview`` for img2img — the same code as ``rotoscope preview`` — and ``txt2img``) one
image at a time, and answer in the web UI's shape. The folder is removed when the answer is made.

One image per facade call (the pipeline is kept between calls, stylize/factory.py) so that ``/skip`` drops
only the image being made. ControlNet units (http/controlnet.py) run as img2img; a txt2img with units is an
img2img at denoising strength 1 from a mid-grey canvas. AnimateDiff (http/animatediff.py) makes one GIF."""

from __future__ import annotations

import json
import random
import shutil
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from .. import api
from . import animatediff, controlnet, fields
from .checkpoints import Checkpoint, find
from .errors import ApiError
from .images import decode_image, encode_png, infotext_of, png_base64, save_input
from .server_state import Server

SCRIPTS = ("controlnet", "animatediff")  # the always-on scripts served; any other with arguments is a 422
MAX_SEED = 2**32 - 1


def _scripts(body: dict) -> dict:
    if body.get("script_name"):
        raise ApiError(422, f"Script '{body['script_name']}' not found")
    scripts = body.get("alwayson_scripts") or {}
    if not isinstance(scripts, dict):
        raise ApiError(422, "alwayson_scripts must be an object {name: {args: [...]}}")
    for name, script in scripts.items():
        args = script.get("args") if isinstance(script, dict) else None
        if args and name.lower() not in SCRIPTS:
            raise ApiError(422, f"always on script {name} not found")
    return scripts


def _checkpoint(server: Server, body: dict) -> Checkpoint:
    wanted = (body.get("override_settings") or {}).get("sd_model_checkpoint")
    return find(server.checkpoints, wanted) if wanted else server.current


def _request_dir(server: Server) -> Path:
    folder = server.config.jobs_dir / "api" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def _info(look: dict, checkpoint: Checkpoint, seeds: list[int], infotexts: list[str], interrupted: bool,
          steps: tuple[int, int | None]) -> str:
    prompt = look.get("prompt") or ""
    return json.dumps({
        "prompt": prompt, "all_prompts": [prompt] * len(seeds), "negative_prompt": look.get("negative_prompt") or "",
        "seed": seeds[0] if seeds else -1, "all_seeds": seeds, "subseed": -1, "all_subseeds": [-1] * len(seeds),
        "subseed_strength": 0, "width": look.get("process_width"), "height": look.get("process_height"),
        "sampler_name": look["sampler"], "cfg_scale": look.get("cfg_scale"), "steps": look.get("steps"),
        "batch_size": len(seeds), "denoising_strength": look.get("strength"), "sd_model_name": checkpoint.title,
        "infotexts": infotexts, "index_of_first_image": 0, "interrupted": interrupted, "extra_generation_params": {},
        # rotoscope's own: denoising steps run in the request, and how many had run when /interrupt came
        "steps_run": steps[0], "steps_run_at_interrupt": steps[1],
    })


def _seeds(look: dict, count: int) -> list[int]:
    seed = look.get("seed")
    first = random.randint(0, MAX_SEED) if seed is None or int(seed) == -1 else int(seed)
    return [(first + i) % (MAX_SEED + 1) for i in range(count)]


def generate(server: Server, body: dict, *, txt2img: bool) -> dict:
    """Everything the request says is checked (sampler, scripts, model, images, caps) before the queue."""
    scripts = _scripts(body)
    count = fields.image_count(body, server.config.max_images)
    checkpoint = _checkpoint(server, body)
    masked = not txt2img and bool(body.get("mask"))
    look = fields.look_options(body, masked=masked)
    units = controlnet.read_units(scripts, server.config.max_pixels)
    motion = animatediff.read(scripts)
    folder = _request_dir(server)
    try:
        options: dict[str, Any] = dict(look, model=checkpoint.model)
        init = None
        if not txt2img:
            images = body.get("init_images") or []
            if not images:
                raise ApiError(422, "init_images: img2img needs at least one image")
            init = decode_image(images[0], "init_images[0]", server.config.max_pixels)
            if masked:
                options["mask"] = str(save_input(decode_image(body["mask"], "mask", server.config.max_pixels),
                                                 folder / "mask.png"))
        if motion is not None:
            return animatediff.generate(server, body, options, init, motion, folder, checkpoint)
        if txt2img and units:  # ControlNet runs on img2img: full strength from a neutral canvas
            size = (options.get("process_width") or 512, options.get("process_height") or 512)
            init, options["strength"] = Image.new("RGB", size, (127, 127, 127)), 1.0
        control_options, maps = controlnet.prepare(units, init, folder)
        options.update(control_options)
        source = save_input(init, folder / "init.png") if init is not None else None
        return _run(server, body, options, source, checkpoint, look, count, (units, maps), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(server: Server, body: dict, options: dict, source: Path | None, checkpoint: Checkpoint, look: dict,
         count: int, control: tuple[list, list], folder: Path) -> dict:
    """``count`` images, one facade call each; ``control``: the ControlNet units and their maps."""
    units, maps = control
    paths, seeds = [], []
    with server.generation.running(count, int(look.get("steps") or 20)) as generation:
        for i, seed in enumerate(_seeds(look, count)):
            if generation.interrupted:
                break
            switch = generation.image(i)
            one = dict(options, seed=seed)
            try:
                if source is None:
                    one.pop("strength", None)
                    tiles = api.txt2img(folder / f"out{i}.png", count=1, cancel=switch, **one)
                else:
                    tiles = api.preview(source, folder / f"out{i}.png", seeds=1, cancel=switch, **one).tiles
            except api.Cancelled:
                continue  # skipped: the next image; interrupted: the loop ends (the finished images are answered)
            paths.append(tiles[0].path)
            seeds.append(seed)
        steps = (generation.steps_run, generation.steps_at_interrupt)
        interrupted = generation.interrupted
    infotexts = [controlnet.public_infotext(infotext_of(p, checkpoint.model, checkpoint.title), units) for p in paths]
    images = [encode_png(p, t) for p, t in zip(paths, infotexts)]
    images += [png_base64(m) for m, u in zip(maps, units) if u.save_map]  # after the images, as the extension does
    return {"images": images, "parameters": fields.echo(body),
            "info": _info(look, checkpoint, seeds, infotexts, interrupted, steps)}
