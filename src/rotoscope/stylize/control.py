"""ControlNet guidance: ``--control TYPE[:WEIGHT[:START-END]]`` units, their annotators, their control images.

A *unit* is one ControlNet with its weight and guidance window, as in the web UI's ControlNet
extension: ``weight`` scales the ControlNet's residuals (diffusers' ``controlnet_conditioning_scale``);
``start``/``end`` are the fractions of the denoising steps actually run (img2img runs
steps × strength of them) during which the unit is applied. Several units make a
multi-ControlNet. Each unit's control image is made from the *source* frame by its annotator:

- ``canny``: OpenCV Canny edges (thresholds 100/200, the web UI's defaults), white on black;
- ``tile``: the frame itself (the web UI's ``tile_resample`` at rate 1);
- ``depth``: a depth-estimation model (DPT / Depth Anything, transformers) in a local folder;
- ``softedge``: HED (ControlNet 1.1's Apache-2.0 ``ControlNetHED.pth``) from a local file;
- ``lineart``, ``openpose``: their annotator networks are not built in; precomputed control
  frames (``--control-image-dir``) serve instead.

Annotator weights are looked up in ``$ROTOSCOPE_ANNOTATORS`` (default
``~/.cache/rotoscope/annotators``); when missing, the error says which file or folder to put
where, or to pass precomputed frames. Nothing is downloaded and ``controlnet-aux`` is not used.
``ControlOptions`` is kept light (no numpy at import): ``jobs/spec.py`` imports it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError, OptionError
from ..options import option

if TYPE_CHECKING:
    import numpy as np

CONTROL_TYPES = ("canny", "tile", "depth", "openpose", "lineart", "softedge")
#: types whose annotator is plain OpenCV / the frame (no weights)
BUILTIN_ANNOTATORS = ("canny", "tile")
CANNY_LOW, CANNY_HIGH = 100, 200
#: what each model-based annotator needs in the annotators folder
ANNOTATOR_FILES = {
    "depth": "depth/ (a transformers depth-estimation folder: Intel/dpt-hybrid-midas or LiheYoung/depth-anything-small-hf)",
    "softedge": "ControlNetHED.pth (lllyasviel/Annotators)",
}
#: the web UI ControlNet extension's module (preprocessor) names served here → our type; "none": the image given is
#: the control map itself (precomputed), its type then comes from the model
WEBUI_MODULES = {"none": None, "canny": "canny", "tile_resample": "tile", "depth_midas": "depth", "depth_anything": "depth",
                 "softedge_hed": "softedge"}
_SPEC_RE = re.compile(r"^(?P<type>[a-z]+)(?::(?P<weight>[^:]+))?(?::(?P<start>[^:-]+)-(?P<end>[^:]+))?$")


@dataclass
class ControlOptions:
    """One ControlNet unit (web-UI names: weight, guidance start, guidance end)."""

    type: str = option("canny", panel="ControlNet", choices=CONTROL_TYPES, help="ControlNet type (its annotator).")
    weight: float = option(1.0, panel="ControlNet", low=0, high=2, hint="web-UI default 1",
                           help="Scale of the ControlNet's residuals.")
    start: float = option(0.0, panel="ControlNet", low=0, high=1, help="Guidance start: fraction of the denoising steps.")
    end: float = option(1.0, panel="ControlNet", low=0, high=1, help="Guidance end: fraction of the denoising steps.")
    model: str | None = option(None, panel="ControlNet", help="ControlNet: hub id, folder or single file; default: the "
                               "type's default.")
    image_dir: str | None = option(None, panel="ControlNet", help="Precomputed control frames (one per frame, natural "
                                   "order) instead of the annotator.")

    def validate(self) -> "ControlOptions":
        if self.type not in CONTROL_TYPES:
            raise OptionError(f"--control {self.type!r} is not known; use one of {', '.join(CONTROL_TYPES)}.")
        if not 0 <= self.weight <= 2:
            raise OptionError(f"--control {self.type} weight {self.weight} must be between 0 and 2 (web-UI default 1).")
        if not 0 <= self.start < self.end <= 1:
            raise OptionError(f"--control {self.type} guidance {self.start}-{self.end} must satisfy 0 <= start < end <= 1 "
                              "(fractions of the denoising steps).")
        if self.image_dir is not None:
            from ..media.sources import image_sequence

            path = Path(self.image_dir).expanduser()
            if not path.is_dir() or not image_sequence(path):
                raise OptionError(f"--control-image-dir {self.image_dir} is not a folder of images; give one control image per frame.")
        return self

    @property
    def label(self) -> str:
        return f"{self.type}:{self.weight:g}:{self.start:g}-{self.end:g}"


def parse_control(text: str) -> ControlOptions:
    """``TYPE[:WEIGHT[:START-END]]`` → ControlOptions, e.g. ``canny``, ``tile:0.6``, ``canny:1:0-0.8``."""
    match = _SPEC_RE.match(text.strip().lower())
    if not match:
        raise OptionError(f"--control {text!r} is not understood; write TYPE[:WEIGHT[:START-END]], e.g. canny:0.8:0-0.9.")
    try:
        weight = float(match["weight"]) if match["weight"] else 1.0
        start = float(match["start"]) if match["start"] else 0.0
        end = float(match["end"]) if match["end"] else 1.0
    except ValueError:
        raise OptionError(f"--control {text!r}: weight, start and end must be numbers, e.g. canny:0.8:0-0.9.") from None
    return ControlOptions(match["type"], weight, start, end).validate()


def assign_control_extras(units: list[ControlOptions], image_dirs: list[str] | None, models: list[str] | None) -> list[ControlOptions]:
    """``--control-image-dir [TYPE=]DIR`` and ``--control-model TYPE=MODEL`` onto the units.

    An image dir without ``TYPE=`` goes to the units in order (the first dir to the first unit).
    """
    for flag, items, attr in (("--control-image-dir", image_dirs, "image_dir"), ("--control-model", models, "model")):
        plain = 0
        for item in items or []:
            kind, sep, value = item.partition("=")
            if sep and kind in CONTROL_TYPES:
                targets = [u for u in units if u.type == kind]
                if not targets:
                    raise OptionError(f"{flag} {item}: there is no --control {kind}.")
                for unit in targets:
                    setattr(unit, attr, value)
            elif attr == "image_dir":
                if plain >= len(units):
                    raise OptionError(f"{flag} {item}: more control image folders than --control units ({len(units)}).")
                units[plain].image_dir = item
                plain += 1
            else:
                raise OptionError(f"{flag} {item!r} is not understood; write TYPE=MODEL, e.g. canny=path/to/controlnet.")
    return [u.validate() for u in units]


# -- annotators -------------------------------------------------------------------------------


def annotators_root() -> Path:
    return Path(os.environ.get("ROTOSCOPE_ANNOTATORS") or Path.home() / ".cache" / "rotoscope" / "annotators").expanduser()


#: types whose annotator network is not built in: precomputed control frames are their only source
PRECOMPUTED_ONLY = {"lineart": "white lines on black", "openpose": "pose skeletons in OpenPose colours"}


def _missing(kind: str) -> ModelError:
    if kind in PRECOMPUTED_ONLY:
        return ModelError(
            f"--control {kind} needs precomputed control frames: rotoscope has no {kind} annotator; pass "
            f"--control-image-dir {kind}=DIR with one image per frame ({PRECOMPUTED_ONLY[kind]}); canny and tile need no files."
        )
    return ModelError(
        f"--control {kind} needs its annotator model, which is not here: put {ANNOTATOR_FILES[kind]} in "
        f"{annotators_root()} (or set ROTOSCOPE_ANNOTATORS), or pass precomputed control frames with "
        f"--control-image-dir {kind}=DIR; canny and tile need no annotator weights."
    )


def canny(image: "np.ndarray", low: int = CANNY_LOW, high: int = CANNY_HIGH) -> "np.ndarray":
    import cv2
    import numpy as np

    grey = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, low, high)
    return np.repeat(edges[..., None], 3, axis=2)


def tile(image: "np.ndarray") -> "np.ndarray":
    import numpy as np

    return np.ascontiguousarray(image[..., :3])


class DepthAnnotator:
    """Relative depth (near = bright) from a local transformers depth-estimation folder."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        self.processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModelForDepthEstimation.from_pretrained(str(folder), local_files_only=True).eval()

    def __call__(self, image: "np.ndarray") -> "np.ndarray":
        import numpy as np
        import torch
        from PIL import Image

        h, w = image.shape[:2]
        inputs = self.processor(images=Image.fromarray(np.ascontiguousarray(image[..., :3])), return_tensors="pt")
        with torch.inference_mode():
            depth = self.model(**inputs).predicted_depth
        depth = torch.nn.functional.interpolate(depth[:, None], size=(h, w), mode="bicubic", align_corners=False)[0, 0]
        d = depth.numpy().astype(np.float32)
        d = (d - d.min()) / max(float(d.max() - d.min()), 1e-6)
        grey = np.clip(np.rint(d * 255), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)


def _hed_network():
    """ControlNet 1.1's HED (Apache-2.0 re-implementation, the layout of ``ControlNetHED.pth``)."""
    import torch

    class DoubleConvBlock(torch.nn.Module):
        def __init__(self, cin: int, cout: int, layers: int) -> None:
            super().__init__()
            self.convs = torch.nn.Sequential(*[torch.nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1) for i in range(layers)])
            self.projection = torch.nn.Conv2d(cout, 1, 1)

        def forward(self, x, down_sampling: bool = False):
            h = torch.nn.functional.max_pool2d(x, 2, 2) if down_sampling else x
            for conv in self.convs:
                h = torch.nn.functional.relu(conv(h))
            return h, self.projection(h)

    class ControlNetHED(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = torch.nn.Parameter(torch.zeros(1, 3, 1, 1))
            self.block1 = DoubleConvBlock(3, 64, 2)
            self.block2 = DoubleConvBlock(64, 128, 2)
            self.block3 = DoubleConvBlock(128, 256, 3)
            self.block4 = DoubleConvBlock(256, 512, 3)
            self.block5 = DoubleConvBlock(512, 512, 3)

        def forward(self, x):
            h, p1 = self.block1(x - self.norm)
            h, p2 = self.block2(h, True)
            h, p3 = self.block3(h, True)
            h, p4 = self.block4(h, True)
            h, p5 = self.block5(h, True)
            return p1, p2, p3, p4, p5

    return ControlNetHED()


class SoftEdgeAnnotator:
    """HED soft edges: the five side outputs resized, averaged, through a sigmoid."""

    def __init__(self, path: Path) -> None:
        import torch

        self.net = _hed_network().eval()
        try:
            self.net.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
        except Exception as exc:
            raise ModelError(f"annotator file {path} is not ControlNetHED.pth ({type(exc).__name__}); download it again from lllyasviel/Annotators") from None

    def __call__(self, image: "np.ndarray") -> "np.ndarray":
        import cv2
        import numpy as np
        import torch

        h, w = image.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(image[..., :3]).astype(np.float32)).permute(2, 0, 1)[None]
        with torch.inference_mode():
            sides = [p[0, 0].numpy().astype(np.float32) for p in self.net(x)]
        sides = [cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR) for s in sides]
        edge = 1 / (1 + np.exp(-np.mean(np.stack(sides), axis=0)))
        grey = np.clip(np.rint(edge * 255), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)


def load_annotator(kind: str):
    """A callable RGB frame → RGB control image for ``kind``; ModelError when its weights are not here."""
    if kind == "canny":
        return canny
    if kind == "tile":
        return tile
    if kind in PRECOMPUTED_ONLY:
        raise _missing(kind)
    if kind not in ANNOTATOR_FILES:
        raise OptionError(f"--control {kind!r} is not known; use one of {', '.join(CONTROL_TYPES)}.")
    path = _annotator_path(kind)
    if kind == "depth":
        if path.is_file():
            return DepthAnnotator(path.parent)
    elif kind == "softedge":
        if path.is_file():
            return SoftEdgeAnnotator(path)
    raise _missing(kind)


def _annotator_path(kind: str) -> Path:
    root = annotators_root()
    return root / "depth" / "config.json" if kind == "depth" else root / ANNOTATOR_FILES[kind].split()[0]


def check_annotators(units: list[ControlOptions]) -> None:
    """Fail before any model work when a unit without precomputed frames has no annotator here (nothing loaded)."""
    for unit in units:
        if unit.image_dir is None and unit.type not in BUILTIN_ANNOTATORS:
            if unit.type in PRECOMPUTED_ONLY or not _annotator_path(unit.type).is_file():
                load_annotator(unit.type)  # raises the message that says what to put where


# -- control images for a job ---------------------------------------------------------------------


class ControlUnits:
    """The job's ControlNet units: their annotators / precomputed frames, and the pipeline arguments."""

    def __init__(self, units: list[ControlOptions]) -> None:
        self.units = list(units)
        self._annotators: dict[int, object] = {}
        self._dirs: dict[int, list[Path]] = {}
        for i, unit in enumerate(self.units):
            if unit.image_dir is not None:
                from ..media.sources import image_sequence

                self._dirs[i] = image_sequence(Path(unit.image_dir).expanduser()) or []
            else:
                self._annotators[i] = load_annotator(unit.type)

    def __len__(self) -> int:
        return len(self.units)

    def annotate(self, image: "np.ndarray", index: int) -> list["np.ndarray"]:
        """Each unit's control image for source frame ``index`` (``image``), at the frame's size."""
        import numpy as np

        out = []
        for i, unit in enumerate(self.units):
            if i in self._dirs:
                files = self._dirs[i]
                if index >= len(files):
                    raise OptionError(f"--control-image-dir {unit.image_dir} has {len(files)} images; frame {index} has none "
                                      "(give one control image per frame, in order).")
                from PIL import Image

                with Image.open(files[index]) as picture:
                    control = np.asarray(picture.convert("RGB"))
                h, w = image.shape[:2]
                if control.shape[:2] != (h, w):
                    control = np.asarray(Image.fromarray(control).resize((w, h), Image.Resampling.BILINEAR))
                out.append(control)
            else:
                out.append(self._annotators[i](image))
        return out

    def pipe_kwargs(self, controls: list[list["np.ndarray"]], size: tuple[int, int], resize_mode: str = "just-resize") -> dict:
        """diffusers arguments for a batch: ``controls[frame][unit]`` resized to the processing ``size``."""
        import numpy as np

        from ..core.resize import resize

        # a batch as one B×H×W×3 array per unit (diffusers takes no per-unit lists of images with several ControlNets)
        per_unit = [np.stack([resize(np.ascontiguousarray(c[u]), size, resize_mode) for c in controls]).astype(np.float32) / 255
                    for u in range(len(self.units))]
        return dict(
            control_image=per_unit if len(self.units) > 1 else per_unit[0],
            controlnet_conditioning_scale=[u.weight for u in self.units] if len(self.units) > 1 else self.units[0].weight,
            control_guidance_start=[u.start for u in self.units] if len(self.units) > 1 else self.units[0].start,
            control_guidance_end=[u.end for u in self.units] if len(self.units) > 1 else self.units[0].end,
        )

    def infotext_fields(self) -> dict[str, str]:
        return control_infotext_fields(self.units)


def control_infotext_fields(units: list[ControlOptions]) -> dict[str, str]:
    """The web UI's ControlNet infotext keys (``ControlNet 0: "Module: canny, Weight: 1, …"``; the writer quotes).
    Precomputed frames are recorded as ``Image dir`` so ``--from`` gets the whole unit back."""
    fields = {}
    for i, unit in enumerate(units):
        module = "precomputed" if unit.image_dir else unit.type
        text = (f"Module: {module}, Model: {unit.model or 'default ' + unit.type}, Weight: {unit.weight:g}, "
                f"Guidance Start: {unit.start:g}, Guidance End: {unit.end:g}")
        if unit.image_dir:
            text += f", Type: {unit.type}, Image dir: {unit.image_dir}"
        fields[f"ControlNet {i}"] = text
    return fields


def read_control_fields(params: dict[str, str]) -> list[ControlOptions]:
    """ControlNet units back from infotext fields ``ControlNet 0``, ``ControlNet 1``, … (ours or the web UI's).
    The folder of precomputed frames is not checked here: it is checked when the job is validated."""
    units = []
    for i in range(len(params)):
        text = params.get(f"ControlNet {i}")
        if text is None:
            break
        parts = dict(part.split(":", 1) for part in text.split(", ") if ":" in part)
        parts = {k.strip(): v.strip() for k, v in parts.items()}
        kind = parts.get("Type") or parts.get("Module", "canny")
        kind = next((t for t in CONTROL_TYPES if kind.startswith(t)), kind)  # web-UI modules: canny, depth_midas, …
        model = parts.get("Model")
        units.append(ControlOptions(type=kind, weight=float(parts.get("Weight", 1)),
                                    start=float(parts.get("Guidance Start", 0)), end=float(parts.get("Guidance End", 1)),
                                    model=None if not model or model.startswith("default ") else model,
                                    image_dir=parts.get("Image dir")))
    return units

