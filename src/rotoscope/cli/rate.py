"""frames/s, the number users compare tools by."""

from __future__ import annotations

from rich.progress import ProgressColumn
from rich.text import Text


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.2f} fr/s" if speed else "  -- fr/s")
