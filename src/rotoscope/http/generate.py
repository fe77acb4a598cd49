"""``/sdapi/v1/img2img`` and ``/txt2img``: decode the request into a folder of its own under the jobs folder,
run the API facade (``preview`` for img2img — the same code as ``rotoscope preview`` — and ``txt2img``), and
answer in the web UI's shape. The folder is removed when the answer is made."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from .. import api
from . import fields
from .checkpoints import Checkpoint, find
from .errors import ApiError
from .images import decode_image, encode_png, infotext_of, save_input
from .server_state import Server


def _scripts(body: dict) -> None:
    """No extension scripts are served yet: naming one is the web UI's 422, not silently ignored."""
    if body.get("script_name"):
        raise ApiError(422, f"Script '{body['script_name']}' not found")
    for name, script in (body.get("alwayson_scripts") or {}).items():
        args = script.get("args") if isinstance(script, dict) else None
        if args:
            raise ApiError(422, f"always on script {name} not found")


def _checkpoint(server: Server, body: dict) -> Checkpoint:
    wanted = (body.get("override_settings") or {}).get("sd_model_checkpoint")
    return find(server.checkpoints, wanted) if wanted else server.current


def _request_dir(server: Server) -> Path:
    folder = server.config.jobs_dir / "api" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def _tiles(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("out-seed*.png")), key=lambda p: (p.stat().st_mtime_ns, p.name))


def _answer(body: dict, paths: list[Path], checkpoint: Checkpoint, look: dict, interrupted: bool) -> dict:
    infotexts = [infotext_of(p, checkpoint.model, checkpoint.title) for p in paths]
    seeds = [int(p.stem.split("-seed")[1].split("-")[0]) for p in paths]
    info = {
        "prompt": look.get("prompt") or "", "all_prompts": [look.get("prompt") or ""] * len(paths),
        "negative_prompt": look.get("negative_prompt") or "", "seed": seeds[0] if seeds else -1, "all_seeds": seeds,
        "subseed": -1, "all_subseeds": [-1] * len(paths), "subseed_strength": 0,
        "width": look.get("process_width"), "height": look.get("process_height"), "sampler_name": look["sampler"],
        "cfg_scale": look.get("cfg_scale"), "steps": look.get("steps"), "batch_size": len(paths),
        "denoising_strength": look.get("strength"), "sd_model_name": checkpoint.title, "infotexts": infotexts,
        "index_of_first_image": 0, "interrupted": interrupted, "extra_generation_params": {},
    }
    return {"images": [encode_png(p, t) for p, t in zip(paths, infotexts)], "parameters": fields.echo(body), "info": json.dumps(info)}


def generate(server: Server, body: dict, *, txt2img: bool) -> dict:
    """Everything the request says is checked (sampler, scripts, model, images, caps) before the queue."""
    _scripts(body)
    count = fields.image_count(body, server.config.max_images)
    checkpoint = _checkpoint(server, body)
    masked = not txt2img and bool(body.get("mask"))
    look = fields.look_options(body, masked=masked)
    folder = _request_dir(server)
    try:
        options: dict[str, Any] = dict(look, model=checkpoint.model)
        source = None
        if not txt2img:
            images = body.get("init_images") or []
            if not images:
                raise ApiError(422, "init_images: img2img needs at least one image")
            source = save_input(decode_image(images[0], "init_images[0]", server.config.max_pixels), folder / "init.png")
            if masked:
                options["mask"] = str(save_input(decode_image(body["mask"], "mask", server.config.max_pixels),
                                                 folder / "mask.png"))
        interrupted = False
        with server.generation.running(count, int(look.get("steps") or 20)) as cancel:
            try:
                if txt2img:
                    options.pop("strength", None)
                    api.txt2img(folder / "out.png", count=count, cancel=cancel, **options)
                else:
                    api.preview(source, folder / "out.png", seeds=count, cancel=cancel, **options)
            except api.Cancelled:
                interrupted = True  # the images finished before the interrupt are answered, as the web UI does
        return _answer(body, _tiles(folder), checkpoint, look, interrupted)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
