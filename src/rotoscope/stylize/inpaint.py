"""The inpaint Stylizer: diffusers' StableDiffusionInpaintPipeline with the web UI's semantics.

Per frame (``frames`` are the *base* frames: what stays outside the mask):

1. the mask is blurred (σ = mask blur, the web UI's kernel);
2. "whole": the frame and blurred mask are resized to the processing size;
   "only masked": the web UI's crop box (bounding box of the blurred mask +
   padding, expanded to the processing aspect ratio, kept inside the frame) is
   cut out and resized to the processing size (resize-and-fill);
3. masked content: ``fill`` paints the masked area from its surroundings;
   ``latent-noise`` / ``latent-nothing`` replace the masked latents with noise /
   zeros (the image is then passed to the pipeline as latents); ``original``
   keeps the picture;
4. the pipeline runs at the processing size (9-channel inpainting UNets get the
   mask and masked image; ordinary 4-channel UNets are blended by the mask
   every step, both done by diffusers);
5. the result is resized back (crop-and-resize), pasted and composited through
   the blurred mask (×2 in "whole", as the web UI's overlay): where that mask
   is 0 the output pixel *is* the base frame's pixel.

The result always has the base frame's size (in "whole" mode the web UI
returns the processing size; here the frame keeps its size so the rest of it
stays exact). An empty mask leaves the frame unchanged, with a notice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from ..core.resize import resize
from ..models.loader import LoadedModel
from ..notices import notice
from ..progress import check_cancel
from .img2img import DiffusersImg2Img
from .mask_options import MaskOptions
from .masking import blur_mask, composite, fill, only_masked_region
from .options import StyleOptions
from .resize import processing_size
from .speed import schedule_steps

if TYPE_CHECKING:
    from .control import ControlUnits


@dataclass
class Prepared:
    """One frame made ready for the pipeline."""

    slot: int  # position in the batch
    base: np.ndarray  # H×W×3, what stays outside the mask
    image: np.ndarray  # processing-size picture given to the model
    mask: np.ndarray  # processing-size blurred mask given to the model
    alpha: np.ndarray  # H×W paste-back mask
    region: tuple[int, int, int, int] | None  # only masked: the crop box
    control: list[np.ndarray] | None = None  # ControlNet images (per unit), cut and sized like ``image``


def prepare(base: np.ndarray, start: np.ndarray, mask: np.ndarray, options: MaskOptions,
            size: tuple[int, int], resize_mode: str, slot: int = 0) -> Prepared | None:
    """Steps 1–3 for one frame; None when the mask is empty."""
    if not mask.any():
        return None
    blurred = blur_mask(mask, options.mask_blur)
    if options.inpaint_area == "only-masked":
        region = only_masked_region(blurred, options.padding, size)
        assert region is not None
        x1, y1, x2, y2 = region
        image = resize(np.ascontiguousarray(start[y1:y2, x1:x2]), size, "resize-and-fill")
        model_mask = resize(np.ascontiguousarray(blurred[y1:y2, x1:x2]), size, "resize-and-fill")
        alpha = blurred
    else:
        region = None
        image = resize(np.ascontiguousarray(start), size, resize_mode)
        model_mask = resize(blurred, size, resize_mode)
        alpha = np.clip(blurred.astype(np.int32) * 2, 0, 255).astype(np.uint8)
    if options.masked_content != "original":
        image = fill(image, model_mask)
    return Prepared(slot, base, image, model_mask, alpha, region)


def _like_image(control: np.ndarray, item: Prepared, size: tuple[int, int], resize_mode: str) -> np.ndarray:
    """A full-frame control image cut and sized as the frame was for the model (only masked: its crop box)."""
    if item.region is not None:
        x1, y1, x2, y2 = item.region
        return resize(np.ascontiguousarray(control[y1:y2, x1:x2]), size, "resize-and-fill")
    return resize(np.ascontiguousarray(control), size, resize_mode)


def paste_back(item: Prepared, generated: np.ndarray, resize_mode: str) -> np.ndarray:
    """Step 5: the processing-size result back into the base frame through the blurred mask."""
    base = item.base
    h, w = base.shape[:2]
    if item.region is not None:
        x1, y1, x2, y2 = item.region
        full = base.copy()
        full[y1:y2, x1:x2] = resize(generated, (x2 - x1, y2 - y1), "crop-and-resize")
    else:
        full = resize(generated, (w, h), "just-resize" if resize_mode == "just-resize" else "crop-and-resize")
    return composite(full, base, item.alpha)


def _empty_notice(index: int) -> None:
    notice(f"frame {index}: the mask is empty (nothing to inpaint); the frame is kept unchanged.")


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[..., :3])


class DiffusersInpaint(DiffusersImg2Img):
    """One loaded inpaint pipeline (9- or 4-channel UNet), reused for every frame of a job."""

    def __init__(self, loaded: LoadedModel, style: StyleOptions, mask: MaskOptions, *, pipe=None,
                 control: ControlUnits | None = None, cancel: threading.Event | None = None) -> None:
        super().__init__(loaded, style, pipe=pipe, control=control, cancel=cancel)
        self.mask_options = mask
        self._sizes: dict[tuple[int, int], tuple[int, int]] = {}

    def processing_size(self, base: np.ndarray) -> tuple[int, int]:
        key = (base.shape[1], base.shape[0])
        if key not in self._sizes:
            self._sizes[key] = processing_size(key[0], key[1], self.style.width, self.style.height)
        return self._sizes[key]

    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        strength = self.strength if strength is None else float(strength)
        check_cancel(self.cancel)
        indices = indices if indices is not None else list(range(len(frames)))
        results: list[np.ndarray | None] = [None] * len(frames)
        groups: dict[tuple[int, int], list[Prepared]] = {}
        for i, frame in enumerate(frames):
            base = _rgb(frame)
            start = _rgb(init[i]) if init is not None else base
            m = mask[i] if mask is not None else np.full(base.shape[:2], 255, np.uint8)
            size = self.processing_size(base)
            item = prepare(base, start, m, self.mask_options, size, self.style.resize_mode, slot=i)
            if item is None:
                _empty_notice(indices[i])
                results[i] = base.copy()
                continue
            if self.control is not None:
                full = control[i] if control is not None else self.control.annotate(_rgb(frame), indices[i])
                item.control = [_like_image(c, item, size, self.style.resize_mode) for c in full]
            groups.setdefault(size, []).append(item)
        for size, items in groups.items():
            generated = self._run(items, size, seed, [indices[it.slot] for it in items], strength)
            for item, image in zip(items, generated):
                results[item.slot] = paste_back(item, image, self.style.resize_mode)
        return results  # type: ignore[return-value]

    def _run(self, items: list[Prepared], size: tuple[int, int], seed: int, indices: list[int],
             strength: float) -> list[np.ndarray]:
        w, h = size
        pipe = self.pipe
        images = [Image.fromarray(it.image) for it in items]
        masks = [Image.fromarray(it.mask) for it in items]
        kwargs: dict = {}
        with torch.inference_mode():
            if self.mask_options.masked_content in ("latent-noise", "latent-nothing"):
                kwargs = self._latent_inputs(images, masks, size, seed, indices)
            result = pipe(
                image=kwargs.pop("image", images),
                mask_image=masks,
                height=h,
                width=w,
                strength=strength,
                num_inference_steps=schedule_steps(self.style.steps, strength),  # ≥ 1 step (stylize/speed.py)
                guidance_scale=self.style.cfg_scale,
                generator=self.generators(seed, indices),
                output_type="np",
                **kwargs,
                **self._prompt_kwargs(len(items)),
                **(self.control.pipe_kwargs([it.control for it in items], size) if self.control is not None else {}),
                **self.step_callback(),
            ).images
        return [np.clip(np.rint(r * 255), 0, 255).astype(np.uint8) for r in result]

    def _latent_inputs(self, images, masks, size, seed, indices) -> dict:
        """latent noise / latent nothing: the masked latents replaced before sampling (as the web UI does)."""
        w, h = size
        pipe = self.pipe
        device, dtype = self.loaded.device, pipe.vae.dtype
        pixels = pipe.image_processor.preprocess(images, height=h, width=w).to(device=device, dtype=dtype)
        latents = pipe._encode_vae_image(pixels, generator=self.generators(seed, indices))
        lh, lw = latents.shape[-2:]
        latmask = np.stack([np.around(np.asarray(m.convert("RGB").resize((lw, lh)), np.float32)[..., 0] / 255) for m in masks])
        nmask = torch.from_numpy(latmask)[:, None].to(device=device, dtype=latents.dtype)
        if self.mask_options.masked_content == "latent-noise":
            noise = torch.stack([torch.randn(latents.shape[1:], generator=g) for g in self.generators(seed, indices)])
            latents = latents * (1 - nmask) + noise.to(device=device, dtype=latents.dtype) * nmask
        else:
            latents = latents * (1 - nmask)
        # diffusers masks the image it is given; with latents as the image, the masked image must come
        # as latents too (a 4-channel UNet never reads it: the latents themselves stand in).
        out = {"image": latents, "masked_image_latents": latents}
        if int(pipe.unet.config.in_channels) == 9:
            condition = pipe.mask_processor.preprocess(masks, height=h, width=w).to(device=device, dtype=dtype)
            masked = pixels * (condition < 0.5)
            out["masked_image_latents"] = pipe._encode_vae_image(masked, generator=self.generators(seed, indices))
        return out

    def infotext_fields(self) -> dict[str, str]:
        return {**self.mask_options.infotext_fields(), **super().infotext_fields()}


class ClassicInpaint:
    """A classic (OpenCV) look applied through a mask with the same blur and exact paste-back."""

    def __init__(self, classic, mask: MaskOptions) -> None:
        self.classic = classic
        self.mask_options = mask
        self.name = classic.name

    @property
    def strength(self) -> float:
        return self.classic.strength

    @strength.setter
    def strength(self, value: float) -> None:
        self.classic.strength = value

    def stylize(self, frames, *, seed, strength=None, indices=None, init=None, mask=None, control=None):
        indices = indices if indices is not None else list(range(len(frames)))
        out = []
        for i, frame in enumerate(frames):
            base = _rgb(frame)
            m = mask[i] if mask is not None else np.full(base.shape[:2], 255, np.uint8)
            if not m.any():
                _empty_notice(indices[i])
                out.append(base.copy())
                continue
            blurred = blur_mask(m, self.mask_options.mask_blur)
            alpha = blurred if self.mask_options.inpaint_area == "only-masked" else np.clip(blurred.astype(np.int32) * 2, 0, 255).astype(np.uint8)
            start = [_rgb(init[i])] if init is not None else None
            (styled,) = self.classic.stylize([base], seed=seed, strength=strength, indices=[indices[i]], init=start)
            out.append(composite(styled, base, alpha))
        return out

    def infotext_fields(self) -> dict[str, str]:
        return self.mask_options.infotext_fields()
