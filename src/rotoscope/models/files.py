"""A models folder as web UIs lay it out: what each file is, for which model family, and its A1111 hash.

One scanner for every face (``rotoscope models``, the page's pickers, the HTTP API's ``sd-models``), reached
through ``rotoscope.api.model_files``. It reads A1111 / Forge (``models/Stable-diffusion``, ``models/Lora``,
``models/LyCORIS``, ``models/VAE``, ``embeddings/``, ``models/ControlNet``, ``models/AnimateDiff``) and ComfyUI
(``checkpoints/``, ``loras/``, ``vae/``, ``embeddings/``, ``controlnet/``, ``animatediff_models/``) trees, given
the web UI's root, its ``models`` folder, or a flat folder of checkpoints. Only headers are read to tell the
family; hashes are cached by file identity, size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import ModelError

SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")

#: folder (relative to the root) → kind
LAYOUT = {
    "models/Stable-diffusion": "checkpoint", "models/Lora": "lora", "models/LyCORIS": "lora", "models/VAE": "vae",
    "embeddings": "embedding", "models/embeddings": "embedding", "models/ControlNet": "controlnet",
    "models/AnimateDiff": "motion", "extensions/sd-webui-animatediff/model": "motion",
    # ComfyUI
    "checkpoints": "checkpoint", "loras": "lora", "vae": "vae", "controlnet": "controlnet",
    "animatediff_models": "motion", "models/checkpoints": "checkpoint", "models/loras": "lora", "models/vae": "vae",
    "models/controlnet": "controlnet", "models/animatediff_models": "motion",
    # given the A1111 models folder itself
    "Stable-diffusion": "checkpoint", "Lora": "lora", "LyCORIS": "lora", "VAE": "vae", "ControlNet": "controlnet",
    "AnimateDiff": "motion",
}
KINDS = ("checkpoint", "lora", "embedding", "vae", "controlnet", "motion")


@dataclass(frozen=True)
class ModelFile:
    path: str  # absolute
    name: str  # relative to its kind's folder, without suffix: what <lora:NAME:W> and pickers use
    kind: str  # checkpoint | lora | embedding | vae | controlnet | motion
    family: str  # sd1 | sd2 | sdxl | tiny | ? (unknown) ; inpainting checkpoints add "-inpaint"
    hash: str  # A1111 short hash: sha256 of the file, first 10 hex ("Model hash")
    size: int

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def addnet_hash(path: Path) -> str:
    """kohya / A1111's LoRA hash: sha256 of a .safetensors file's data after its header (``Lora hashes`` take 12)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        f.seek(8 + n)
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _cache_file() -> Path:
    root = os.environ.get("ROTOSCOPE_CACHE") or Path.home() / ".cache" / "rotoscope"
    return Path(root) / "hashes.json"


def cached_hash(path: Path, how: str = "sha256", compute: bool = True) -> str:
    """A file's full hash (``sha256`` or ``addnet``), cached by file identity, size and mtime like the web UI's cache;
    ``compute=False``: only a cached one ("" when there is none)."""
    stat = Path(path).stat()  # by file identity: a link or a moved file is not hashed again
    key = f"{how}:{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"
    cache_path = _cache_file()
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    if key not in cache and not compute:
        return ""
    if key not in cache:
        cache[key] = addnet_hash(path) if how == "addnet" else sha256_file(path)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, cache_path)
    return cache[key]


def short_hash(path: Path) -> str:
    """A1111's ``Model hash``: the first 10 hex digits of the file's sha256."""
    return cached_hash(path)[:10]


def lora_short_hash(path: Path) -> str:
    """A1111's ``Lora hashes`` entry: 12 hex digits of the addnet hash (.safetensors) or the sha256 (others)."""
    return cached_hash(path, "addnet" if Path(path).suffix.lower() == ".safetensors" else "sha256")[:12]


def file_family(path: Path, kind: str) -> str:
    """The model family a file is for, from its tensor names and shapes (headers only); ``?`` when it cannot tell."""
    from .loader import _read_embedding, detect_family, lora_family, prediction_type, read_checkpoint_shapes

    if kind == "embedding":
        return _embedding_family(path, _read_embedding)
    try:
        shapes = read_checkpoint_shapes(path)
    except ModelError:
        return "?"
    if kind == "checkpoint":
        try:
            family, inpaint = detect_family(shapes, path)
        except ModelError:
            return "?"
        if prediction_type(path, shapes, family, inpaint) == "v_prediction":
            family += "-v"
        return family + ("-inpaint" if inpaint else "")
    if kind == "lora":
        return lora_family(shapes) or "?"
    if kind == "controlnet":
        for key, shape in shapes.items():
            if key.endswith("attn2.to_k.weight") and len(shape) == 2:
                return {768: "sd1", 1024: "sd2", 2048: "sdxl"}.get(shape[1], "?")
        return "?"
    if kind == "motion":
        pe = next((s for k, s in shapes.items() if k.endswith("pos_encoder.pe")), None)
        xl = shapes.get("up_blocks.2.motion_modules.0.temporal_transformer.norm.weight")
        return "sdxl" if xl and xl[-1] == 320 else "sd1" if pe else "?"
    if kind == "vae":
        return "sd/sdxl" if any(k.endswith("decoder.conv_in.weight") for k in shapes) else "?"
    return "?"


def _embedding_family(path: Path, read) -> str:
    try:
        sd = read(path)
    except ModelError:
        return "?"
    if isinstance(sd, dict) and "clip_g" in sd:
        return "sdxl"
    if isinstance(sd, dict) and "string_to_param" in sd:
        sd = sd["string_to_param"]
    tensors = list(sd.values()) if isinstance(sd, dict) else [sd]
    widths = {t.shape[-1] for t in tensors if hasattr(t, "shape") and len(t.shape)}
    return next(({768: "sd1", 1024: "sd2"}[w] for w in widths if w in (768, 1024)), "?")


def scan(models_dir: str | Path, *, follow_links: bool = True, compute_hashes: bool = True) -> list[ModelFile]:
    """Every model file under ``models_dir`` (A1111 / ComfyUI layout, or a flat folder of checkpoints).
    ``follow_links=False``: a link to a file outside the folder is not offered (what a server lists);
    ``compute_hashes=False``: only hashes already cached (a server's or page's list must not read gigabytes)."""
    root = Path(models_dir).expanduser()
    if not root.is_dir():
        raise ModelError(f"--models-dir {models_dir} is not a folder; give your web UI's folder (the one holding models/) "
                         "or a folder of .safetensors/.ckpt files")
    found: list[ModelFile] = []
    seen: set[Path] = set()
    folders = [(root / rel, kind) for rel, kind in LAYOUT.items() if (root / rel).is_dir()]
    if not folders:
        folders = [(root, "checkpoint")]
    for folder, kind in folders:
        if kind == "checkpoint":  # diffusers folders (model_index.json) are models too; no web-UI hash
            for index in sorted(folder.glob("*/model_index.json")):
                if not follow_links and not index.resolve().is_relative_to(root.resolve()):
                    continue
                found.append(_diffusers_folder(index.parent))
                seen.update(p.resolve() for p in index.parent.rglob("*"))
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in SUFFIXES or path.resolve() in seen:
                continue
            if not path.resolve().is_relative_to(root.resolve()) and not (follow_links and path.is_symlink()):
                continue
            seen.add(path.resolve())
            name = str(path.relative_to(folder).with_suffix(""))
            found.append(ModelFile(path=str(path.absolute()), name=name, kind=kind, family=file_family(path, kind),
                                   hash=cached_hash(path, compute=compute_hashes)[:10], size=path.stat().st_size))
    return sorted(found, key=lambda f: (KINDS.index(f.kind), f.name.lower()))


def _diffusers_folder(folder: Path) -> ModelFile:
    from .loader import folder_family

    try:
        family = folder_family(folder)
    except ModelError:
        family = "?"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return ModelFile(path=str(folder.absolute()), name=folder.name, kind="checkpoint", family=family, hash="-", size=size)


PROMPT_LORA = re.compile(r"<(?:lora|lyco):([^:>]+)(?::([-+]?[\d.]+))?(?::[^>]*)?>")


def prompt_loras(prompt: str) -> tuple[str, list[tuple[str, float]]]:
    """``<lora:NAME:WEIGHT>`` tags (and LyCORIS's ``<lyco:…>``) out of a prompt: (prompt without them, [(NAME, WEIGHT)])."""
    found = [(m.group(1).strip(), float(m.group(2)) if m.group(2) else 1.0) for m in PROMPT_LORA.finditer(prompt)]
    clean = re.sub(r"\s*,\s*(?=,|$)", "", PROMPT_LORA.sub("", prompt)).strip(" ,")
    return clean, found


def resolve_prompt_loras(prompt: str, models_dir: str | Path | None) -> tuple[str, list[tuple[str, float]]]:
    """(prompt without LoRA tags, [(FILE, WEIGHT)]) with each tag's file found in the models folder."""
    clean, tags = prompt_loras(prompt)
    return clean, [(str(find_lora(models_dir, name)), weight) for name, weight in tags]


def find_lora(models_dir: str | Path | None, name: str) -> Path:
    """The LoRA ``<lora:NAME:W>`` names: by file name (without suffix) under the models folder's LoRA folders."""
    if models_dir:
        for f in scan(models_dir):
            if f.kind == "lora" and name in (f.name, Path(f.name).name):
                return Path(f.path)
    where = f"in --models-dir {models_dir}" if models_dir else "because no --models-dir was given"
    raise ModelError(f"prompt names <lora:{name}:…> but no LoRA {name!r} was found {where}; put {name}.safetensors "
                     "in its models/Lora folder, or pass --lora FILE:WEIGHT")
