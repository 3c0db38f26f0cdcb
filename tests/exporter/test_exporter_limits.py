"""The small limits: repeated log lines, the connection cap below the open-file limit."""

from __future__ import annotations

import logging

from bzzzmon.exporter.connections import MAX_CONNECTIONS, connection_cap
from bzzzmon.exporter.logs import RepeatFilter


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, args, None)


def test_repeats_are_rate_limited_and_the_drop_is_reported() -> None:
    now = [0.0]
    repeats = RepeatFilter(window=60, burst=5, clock=lambda: now[0])
    passed = [repeats.filter(record("accept failed: %s", n)) for n in range(1000)]
    assert passed.count(True) == 5
    assert repeats.filter(record("another message"))  # other templates are not held back
    now[0] = 61.0
    first = record("accept failed: %s", "again")
    assert repeats.filter(first)
    assert first.getMessage() == "accept failed: again (995 similar messages suppressed)"
    assert repeats.filter(record("accept failed: %s", "and on"))


def test_connection_cap_leaves_room_for_probes() -> None:
    assert connection_cap(64, 1_048_576) == MAX_CONNECTIONS
    assert connection_cap(64, 1024) == MAX_CONNECTIONS
    assert connection_cap(64, 600) == 600 - 64 - 64 - 4 * 32  # probes, reserve, accept batches
    assert connection_cap(8, 256) == 56
    assert connection_cap(4096, 1024) == 8  # never none at all
