"""Where to inpaint and how: the web UI's inpaint settings, with its names.

Mask sources (any number, combined by union): a mask file (image, video, GIF,
image folder), shapes (``--mask-rect`` / ``--mask-ellipse``, keyframed), a
colour key on the source, or the source's alpha. White = change, black = keep.
Kept light (no numpy): ``jobs/spec.py`` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError

INPAINT_AREAS = ("whole", "only-masked")
MASKED_CONTENTS = ("fill", "original", "latent-noise", "latent-nothing")
INPAINT_BASES = ("output", "source")
MAX_BLUR = 64
MAX_PADDING = 256


@dataclass
class MaskOptions:
    mask: str | None = None  # image (every frame), video / GIF / folder / glob (one mask per frame)
    mask_rects: list[str] = field(default_factory=list)  # "X,Y,W,H" or keyframed "F:X,Y,W,H/F:X,Y,W,H"
    mask_ellipses: list[str] = field(default_factory=list)  # the ellipse inside the box, same syntax
    mask_key: str | None = None  # "#00ff00" or "#00ff00:TOLERANCE" (RGB distance, default 40)
    mask_from_alpha: bool = False  # opaque pixels of the source = change
    invert_mask: bool = False  # web UI "Inpaint not masked"
    mask_blur: int = 4  # Gaussian σ (web UI default 4); kernel 2·int(2.5σ+0.5)+1
    inpaint_area: str = "whole"  # whole | only-masked (web UI "Whole picture" / "Only masked")
    padding: int = 32  # only-masked padding in pixels (web UI "Only masked padding", 0–256)
    masked_content: str = "original"  # fill | original | latent-noise | latent-nothing
    mask_hold_last: bool = False  # fewer masks than frames: hold the last one
    inpaint_base: str = "output"  # with --frames: inpaint over the stylised frames (output) or the source

    @property
    def active(self) -> bool:
        return bool(self.mask or self.mask_rects or self.mask_ellipses or self.mask_key or self.mask_from_alpha)

    def validate(self) -> None:
        if not 0 <= self.mask_blur <= MAX_BLUR:
            raise OptionError(f"--mask-blur {self.mask_blur} must be between 0 and {MAX_BLUR} (web-UI default 4).")
        if not 0 <= self.padding <= MAX_PADDING:
            raise OptionError(f"--padding {self.padding} must be between 0 and {MAX_PADDING} pixels (web-UI default 32).")
        for name, value, allowed in (("--inpaint-area", self.inpaint_area, INPAINT_AREAS),
                                     ("--masked-content", self.masked_content, MASKED_CONTENTS),
                                     ("--inpaint-base", self.inpaint_base, INPAINT_BASES)):
            if value not in allowed:
                raise OptionError(f"{name} {value!r} is not known; use one of {', '.join(allowed)}.")
        if not self.active:
            given = [flag for flag, on in (("--invert-mask", self.invert_mask), ("--mask-hold-last", self.mask_hold_last)) if on]
            if given:
                raise OptionError(f"{' and '.join(given)} need a mask: add --mask FILE, --mask-rect, --mask-ellipse, --mask-key or --mask-from-alpha.")
            return
        from ..media.masks import parse_key, parse_shape  # numpy: only for jobs with a mask

        for flag, items in (("--mask-rect", self.mask_rects), ("--mask-ellipse", self.mask_ellipses)):
            for text in items:
                parse_shape(text, flag)
        if self.mask_key:
            parse_key(self.mask_key)
        if self.mask:
            from ..media.masks import check_mask_path

            check_mask_path(self.mask)

    def infotext_fields(self) -> dict[str, str]:
        """The web UI's infotext keys for these settings (only for a job with a mask)."""
        if not self.active:
            return {}
        fields = {"Mask blur": str(self.mask_blur)}
        if self.inpaint_area == "only-masked":
            fields["Inpaint area"] = "Only masked"
            fields["Masked area padding"] = str(self.padding)
        fields["Masked content"] = self.masked_content.replace("-", " ")
        if self.invert_mask:
            fields["Mask mode"] = "Inpaint not masked"
        return fields
