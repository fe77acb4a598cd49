"""The Stylizer seam between video and model.

A Stylizer turns a batch of RGB frames into stylised frames of the same size.
Methods (gif2gif, keyframes, …) call it; they never touch a model directly.
The diffusers img2img stylizer is the real one; the classic one needs no
weights; tests use the diffusers one with tiny random weights, never a mock.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Stylizer(Protocol):
    #: what infotext records as "Model: …"
    name: str
    #: denoising strength used by the next call (preview sweeps it without reloading)
    strength: float

    def stylize(
        self,
        frames: list[np.ndarray],
        *,
        seed: int,
        indices: list[int] | None = None,
        init: list[np.ndarray] | None = None,
        mask: list[np.ndarray] | None = None,
        control: list[np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Stylise ``frames`` (H×W×3 uint8 RGB) with ``seed``.

        ``indices`` are the frames' positions in the clip (per-frame noise
        uses them); ``init`` replaces the frame as the starting image (loopback,
        flow-warp); ``mask`` (H×W uint8, 255 = change) and ``control`` are for
        inpainting and ControlNet stylizers.
        """
        ...

    def infotext_fields(self) -> dict[str, str]:
        """Extra "Key: value" pairs this stylizer adds to the infotext."""
        ...
