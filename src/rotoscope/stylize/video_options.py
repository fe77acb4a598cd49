"""Options of the model-side video methods (animatediff, img2vid); gif2gif ignores them."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from ..options import check_fields, method, option


@dataclass
class VideoOptions:
    motion_adapter: str | None = option(None, panel="Video", owner=method("animatediff"), infotext="Motion adapter",
                                        help="animatediff: motion adapter, hub id (default "
                                        "guoyww/animatediff-motion-adapter-v1-5-2; tiny with --model tiny), diffusers "
                                        "folder or .safetensors/.ckpt motion module.")
    context_length: int = option(16, panel="Video", owner=method("animatediff"), low=2, high=32, infotext="Context length",
                                 hint="motion modules are trained on 16",
                                 help="animatediff: frames per context window (the motion module's training length).")
    context_overlap: int = option(4, panel="Video", owner=method("animatediff"), low=0, high=31, infotext="Context overlap",
                                  help="animatediff: finished frames each later window repeats as anchors (less than "
                                  "--context-length).")
    video_model: str | None = option(None, panel="Video", owner=method("img2vid"), infotext="Video model",
                                     help="img2vid: Stable Video Diffusion model, hub id (default "
                                     "stabilityai/stable-video-diffusion-img2vid-xt; tiny with --model tiny) or diffusers "
                                     "folder. --model is the txt2img model for -p.")
    video_frames: int = option(14, panel="Video", owner=method("img2vid"), low=2, high=64, infotext="Video frames",
                               hint="SVD-xt is trained on 25", help="img2vid: frames per clip.")
    video_fps: int = option(7, panel="Video", owner=method("img2vid"), low=1, high=60, infotext="Video fps",
                            help="img2vid: SVD's fps conditioning and the output frame rate.")
    motion_bucket: int = option(127, panel="Video", owner=method("img2vid"), low=0, high=255, infotext="Motion bucket",
                                help="img2vid: amount of motion.")
    noise_aug: float = option(0.02, panel="Video", owner=method("img2vid"), low=0, high=1, infotext="Noise aug",
                              hint="0.02 is SVD's default", help="img2vid: noise added to the still (more = freer motion).")
    video_cfg: float = option(3.0, panel="Video", owner=method("img2vid"), low=1, high=20, infotext="Video CFG",
                              hint="3 is SVD's default",
                              help="img2vid: SVD guidance, from 1 on the first frame to this on the last.")
    decode_chunk: int = option(8, panel="Video", owner=method("animatediff", "img2vid"), low=1, high=64,
                               infotext="Decode chunk",
                               help="animatediff / img2vid: frames the VAE decodes at once (lower = less memory).")
    segments: int = option(1, panel="Video", owner=method("img2vid"), low=1, high=100, infotext="Segments",
                           help="img2vid: clips chained, the last frame of one seeding the next.")

    def validate(self) -> "VideoOptions":
        check_fields(self)
        if not self.context_overlap < self.context_length:
            raise OptionError(f"--context-overlap {self.context_overlap} must be between 0 and --context-length - 1 ({self.context_length - 1}).")
        return self

    def clip_frames(self) -> int:
        """Output frames of img2vid: each later segment starts from the last frame before it, so drops its first."""
        return self.video_frames + (self.segments - 1) * (self.video_frames - 1)
