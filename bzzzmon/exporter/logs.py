"""Logging that a flood cannot fill a disk with: repeats of one message are rate-limited."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

REPEAT_WINDOW = 60.0
REPEAT_BURST = 5


class RepeatFilter(logging.Filter):
    """Lets through ``burst`` records per message template (logger + format string) in each
    ``window`` seconds; the first record after a window with drops says how many were dropped."""

    def __init__(
        self,
        window: float = REPEAT_WINDOW,
        burst: int = REPEAT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._window = window
        self._burst = burst
        self._clock = clock
        self._seen: dict[tuple[str, str], list[float]] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = self._clock()
        entry = self._seen.get(key)
        if entry is None or now - entry[0] >= self._window:
            dropped = int(entry[2]) if entry else 0
            if len(self._seen) > 1000:  # many distinct templates: start over, stay bounded
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if dropped:
                record.msg = f"{record.msg} ({dropped} similar messages suppressed)"
            return True
        entry[1] += 1
        if entry[1] <= self._burst:
            return True
        entry[2] += 1
        return False


def install(handlers: list[logging.Handler]) -> None:
    for handler in handlers:
        handler.addFilter(RepeatFilter())
