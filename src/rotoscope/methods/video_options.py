"""Options of the model-side video methods (animatediff, img2vid); gif2gif ignores them."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError


@dataclass
class VideoOptions:
    # animatediff: the motion adapter (hub id, folder, single file, "tiny"); None = the default
    # (guoyww/animatediff-motion-adapter-v1-5-2, or the tiny one with --model tiny)
    motion_adapter: str | None = None
    context_length: int = 16  # frames the motion module sees at once (its training length)
    context_overlap: int = 4  # finished frames each later window repeats, as fixed anchors
    # img2vid: the Stable Video Diffusion model; None = stabilityai/stable-video-diffusion-img2vid-xt (or tiny)
    video_model: str | None = None
    video_frames: int = 14  # frames one SVD clip makes (xt is trained on 25, img2vid on 14)
    video_fps: int = 7  # SVD's fps conditioning, and the output frame rate
    motion_bucket: int = 127  # SVD: more motion with a higher bucket (0–255)
    noise_aug: float = 0.02  # SVD: noise added to the still; higher = less like it, more motion
    video_cfg: float = 3.0  # SVD guidance: rises from 1 on the first frame to this on the last
    decode_chunk: int = 8  # frames the VAE decodes at once (lower = less memory)
    segments: int = 1  # img2vid clips chained: the last frame of one seeds the next

    def validate(self) -> "VideoOptions":
        if not 2 <= self.context_length <= 32:
            raise OptionError(f"--context-length {self.context_length} must be between 2 and 32 (motion modules are trained on 16).")
        if not 0 <= self.context_overlap < self.context_length:
            raise OptionError(f"--context-overlap {self.context_overlap} must be between 0 and --context-length - 1 ({self.context_length - 1}).")
        if not 2 <= self.video_frames <= 64:
            raise OptionError(f"--video-frames {self.video_frames} must be between 2 and 64 (SVD-xt is trained on 25).")
        if not 1 <= self.video_fps <= 60:
            raise OptionError(f"--video-fps {self.video_fps} must be between 1 and 60.")
        if not 0 <= self.motion_bucket <= 255:
            raise OptionError(f"--motion-bucket {self.motion_bucket} must be between 0 and 255.")
        if not 0 <= self.noise_aug <= 1:
            raise OptionError(f"--noise-aug {self.noise_aug} must be between 0 and 1 (0.02 is SVD's default).")
        if not 1 <= self.video_cfg <= 20:
            raise OptionError(f"--video-cfg {self.video_cfg} must be between 1 and 20 (3 is SVD's default).")
        if not 1 <= self.decode_chunk <= 64:
            raise OptionError(f"--decode-chunk {self.decode_chunk} must be between 1 and 64.")
        if not 1 <= self.segments <= 100:
            raise OptionError(f"--segments {self.segments} must be between 1 and 100.")
        return self

    def clip_frames(self) -> int:
        """Output frames of img2vid: each later segment starts from the last frame before it, so drops its first."""
        return self.video_frames + (self.segments - 1) * (self.video_frames - 1)
