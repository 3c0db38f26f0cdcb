"""Prometheus durations: parse ``1h30m`` to seconds and format seconds canonically."""

from __future__ import annotations

import re
from functools import lru_cache

_UNITS = (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_UNIT_SECONDS = dict(_UNITS) | {"ms": 0}
_DURATION = re.compile(r"^(?:\d+(?:ms|[ywdhms]))+$")
_PART = re.compile(r"(\d+)(ms|[ywdhms])")


class DurationError(ValueError):
    pass


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration. Sub-second parts are refused: no rule needs them."""
    if not isinstance(text, str) or not _DURATION.match(text):
        raise DurationError(
            f"'{text}' is not a duration; use a number and a unit, e.g. 30s, 5m, 1h30m, 7d, 1w"
        )
    total = 0
    for number, unit in _PART.findall(text):
        if unit == "ms":
            raise DurationError(f"'{text}': durations below a second are not supported")
        total += int(number) * _UNIT_SECONDS[unit]
    if total <= 0:
        raise DurationError(f"'{text}' must be longer than zero")
    return total


@lru_cache(maxsize=4096)
def format_duration(seconds: int) -> str:
    """Canonical duration: ``3600`` -> ``1h``, ``5400`` -> ``1h30m``, ``2592000`` -> ``30d``.

    Weeks and years are not used so that 28d stays 28d (as users write periods) rather than 4w.
    """
    if seconds <= 0:
        raise DurationError("duration must be positive")
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def humanize_duration(seconds: int) -> str:
    """Words for documents: ``90`` -> ``1 min 30 s``."""
    names = (("d", 86400, "d"), ("h", 3600, "h"), ("m", 60, "min"), ("s", 1, "s"))
    parts = []
    rest = seconds
    for _, size, word in names:
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n} {word}")
    return " ".join(parts) or "0 s"
