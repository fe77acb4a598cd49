"""Where to inpaint and how: the web UI's inpaint settings, with its names.

Mask sources (any number, combined by union): a mask file (image, video, GIF,
image folder), shapes (``--mask-rect`` / ``--mask-ellipse``, keyframed), a
colour key on the source, or the source's alpha. White = change, black = keep.
Kept light (no numpy): ``jobs/spec.py`` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError
from ..options import MASK, check_fields, option

INPAINT_AREAS = ("whole", "only-masked")
MASKED_CONTENTS = ("fill", "original", "latent-noise", "latent-nothing")
INPAINT_BASES = ("output", "source")
MAX_BLUR = 64
MAX_PADDING = 256


@dataclass
class MaskOptions:
    mask: str | None = option(None, panel="Mask", infotext="Mask", a1111="mask", widget="file",
                              help="Mask: an image (every frame), or a video / GIF / image folder with one mask per frame. "
                              "White = change, black = keep.")
    mask_rects: list[str] = option(factory=list, name="mask_rect", panel="Mask", infotext="Mask rect",
                                   help="Rectangle X,Y,W,H (pixels); keyframes F:X,Y,W,H/F:X,Y,W,H move it (linear in "
                                   "between). Repeatable.")
    mask_ellipses: list[str] = option(factory=list, name="mask_ellipse", panel="Mask", infotext="Mask ellipse",
                                      help="The ellipse inside the box X,Y,W,H; keyframes as --mask-rect. Repeatable.")
    mask_key: str | None = option(None, panel="Mask", infotext="Mask key",
                                  help="Colour key: source pixels near #rrggbb[:TOLERANCE] (RGB distance, default 40) "
                                  "are the mask.")
    mask_from_alpha: bool = option(False, panel="Mask", infotext="Mask from alpha",
                                   help="Use the source's alpha as the mask: opaque pixels (alpha > 128) change, "
                                   "transparent ones are kept; add --invert-mask to change the transparent part "
                                   "instead.")
    invert_mask: bool = option(False, panel="Mask", owner=MASK, infotext="Mask mode", a1111="inpainting_mask_invert",
                               show=lambda on: "Inpaint not masked" if on else "Inpaint masked",
                               parse=lambda t: t.strip().lower() == "inpaint not masked",
                               help="Change the black part instead (web UI: inpaint not masked).")
    mask_blur: int = option(4, panel="Mask", owner=MASK, low=0, high=MAX_BLUR, hint="web-UI default 4",
                            infotext="Mask blur", a1111="mask_blur",
                            help="Mask blur: Gaussian sigma of the mask edge.")
    inpaint_area: str = option("whole", panel="Mask", owner=MASK, choices=INPAINT_AREAS, infotext="Inpaint area",
                               a1111="inpaint_full_res",
                               show=lambda v: "Only masked" if v == "only-masked" else "Whole picture",
                               parse=lambda t: "only-masked" if t.strip().lower() in ("only masked", "only-masked") else "whole",
                               help="whole | only-masked: crop around the mask + padding, generate it at the processing "
                               "size, paste back.")
    padding: int = option(32, panel="Mask", owner=MASK, low=0, high=MAX_PADDING, hint="web-UI default 32",
                          infotext="Masked area padding", a1111="inpaint_full_res_padding",
                          help="Only-masked padding in pixels.")
    masked_content: str = option("original", panel="Mask", owner=MASK, choices=MASKED_CONTENTS, infotext="Masked content",
                                 a1111="inpainting_fill",
                                 show=lambda v: v.replace("-", " "), parse=lambda t: t.strip().lower().replace(" ", "-"),
                                 help="What the masked area starts from.")
    mask_hold_last: bool = option(False, panel="Mask", owner=MASK, infotext="Mask hold last",
                                  help="A mask sequence shorter than the clip: hold its last mask.")
    inpaint_base: str = option("output", panel="Mask", owner=MASK, choices=INPAINT_BASES, infotext="Inpaint base",
                               help="With --frames and a mask: inpaint over the stylised frames (output) or the source "
                               "frames (source).")

    @property
    def active(self) -> bool:
        return bool(self.mask or self.mask_rects or self.mask_ellipses or self.mask_key or self.mask_from_alpha)

    def validate(self) -> None:
        """Values of the shapes, key and mask file (their ranges and choices: check_fields via the job)."""
        check_fields(self)
        if not self.active:
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
