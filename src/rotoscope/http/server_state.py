"""What the running server holds: its config, the models it offers, the current one, the generation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checkpoints import Checkpoint, find, scan
from .config import ServeConfig
from .state import Generation


@dataclass
class Server:
    config: ServeConfig
    model: str = "tiny"
    generation: Generation = field(default_factory=Generation)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    current: Checkpoint | None = None
    executor: Any = None  # where video jobs run (api.executor, open while the server runs); None = here

    def refresh(self) -> None:
        self.checkpoints = scan(self.config.models_dir, (self.model,))
        if self.current is None:
            self.current = find(self.checkpoints, self.model)
