"""Notices: things the user should know that are not errors ("mask resized", "seed drawn: 1234").

They go through the standard ``logging`` logger "rotoscope"; the CLI shows
them on stderr, the web UI in its log panel, tests read them with caplog.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("rotoscope")


def notice(message: str) -> None:
    logger.warning(message)


def info(message: str) -> None:
    logger.info(message)
