"""What ``rotoscope serve`` was started with, checked before anything heavy is imported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import OptionError

LOOPBACK = "127.0.0.1"


@dataclass
class ServeConfig:
    host: str = LOOPBACK
    port: int = 7861
    listen: bool = False
    api_auth: str | None = None  # "user:password": HTTP Basic on every route (A1111's --api-auth)
    max_request: int = 50 * 2**20  # bytes of one request body (base64 images are most of it)
    max_pixels: int = 4096 * 4096  # pixels of one decoded image (a small PNG can decode to gigabytes)
    max_images: int = 16  # images one request may ask for (batch_size × n_iter)
    jobs_dir: Path = Path("jobs")
    models_dir: Path | None = None
    media_dir: Path | None = None  # where a video job's server-side ``source`` may lie (default: JOBS/inputs)
    max_frames: int = 1000  # source frames one video job may decode (/rotoscope/v1/jobs)

    @property
    def sources(self) -> Path:
        """The one folder a video job's ``source`` path is read from."""
        return self.media_dir if self.media_dir is not None else self.jobs_dir / "inputs"

    @property
    def bind(self) -> str:
        return "0.0.0.0" if self.listen else self.host

    @property
    def credentials(self) -> tuple[str, str] | None:
        if self.api_auth is None:
            return None
        user, _, password = self.api_auth.partition(":")
        return user, password

    def validate(self) -> None:
        """Anything reachable from other machines needs a password: the API runs models and writes files."""
        if self.api_auth is not None:
            user, sep, password = self.api_auth.partition(":")
            if not sep or not user or not password:
                raise OptionError("--api-auth must be user:password (both non-empty).")
        if self.bind not in (LOOPBACK, "localhost", "::1") and self.api_auth is None:
            raise OptionError(f"serving on {self.bind} makes the API reachable from other machines; "
                              "add --api-auth user:password (or drop --listen / --host).")
        if not 1 <= self.max_images <= 256:
            raise OptionError(f"--max-images {self.max_images} must be between 1 and 256.")
        if self.max_frames < 1:
            raise OptionError(f"--max-frames {self.max_frames} must be 1 or more.")
