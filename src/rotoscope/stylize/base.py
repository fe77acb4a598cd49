"""The Stylizer seam between video and model.

A Stylizer turns a batch of RGB frames into stylised frames of the same size.
Methods (gif2gif, keyframes, …) call it; they never touch a model directly.
The diffusers img2img stylizer is the real one; the classic one needs no
weights; tests use the diffusers one with tiny random weights, never a mock.

``stylize/factory.py`` builds each Stylizer whole (pipeline, ControlNet, sampler,
speed pieces) and may give it a ``cancel`` event: once it is set, ``stylize``
raises ``progress.Cancelled`` within one denoising step.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Stylizer(Protocol):
    #: what infotext records as "Model: …"
    name: str
    #: the job's denoising strength: what a call that passes no ``strength`` uses
    strength: float

    def stylize(
        self,
        frames: list[np.ndarray],
        *,
        seed: int,
        strength: float | None = None,
        indices: list[int] | None = None,
        init: list[np.ndarray] | None = None,
        mask: list[np.ndarray] | None = None,
        control: list[np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Stylise ``frames`` (H×W×3 uint8 RGB) with ``seed`` at denoising ``strength``
        (None: the job's; preview sweeps it per call on one loaded model).

        ``indices`` are the frames' positions in the clip (per-frame noise
        uses them); ``init`` replaces the frame as the starting image (loopback,
        flow-warp); ``mask`` (H×W uint8, 255 = change) and ``control`` are for
        inpainting and ControlNet stylizers.
        """
        ...

    def infotext_fields(self) -> dict[str, str]:
        """Extra "Key: value" pairs this stylizer adds to the infotext."""
        ...
