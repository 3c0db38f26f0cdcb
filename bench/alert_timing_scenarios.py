"""The traffic of each alert-timing scenario, minute by minute, as promtool ``input_series``.

Model: 1,000 requests a minute over three instances (``i-0``..``i-2``, a third each), a base error
ratio of 0.01% (0.1x a 99.9% budget), counters ``bench_requests_total{slo, instance, code}`` with
``code`` 200 or 500. Minute ``m`` is the interval [m, m+1) relative to the fault start; the
counter sample at time ``t`` holds every increment of the minutes before ``t`` (so a fault that
starts at 0 is first visible in the sample at 1m, as a scrape after the first bad minute would
see it). Counts are whole: each minute's expected count is accumulated and floored, so the
series are exact and deterministic. An instance that is absent during minute ``m`` has no sample
at ``m + 1`` (a staleness marker at the first missing sample, then nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

RPM = 1000
INSTANCES = ("i-0", "i-1", "i-2")
BASE_RATIO = Fraction(1, 10000)
HEALTHY = (True, True, True)


@dataclass(frozen=True)
class Minute:
    ratio: Fraction = BASE_RATIO
    rpm: int = RPM
    present: tuple[bool, ...] = HEALTHY


@dataclass(frozen=True)
class Scenario:
    """One fault: ``minute(m)`` is the traffic of minute ``m`` (0 = fault start, negative =
    before); the fault lasts ``fault_minutes``; ``grouped`` plays it on the per-instance SLO."""

    name: str
    title: str
    fault_minutes: int
    minute: Callable[[int], Minute]
    grouped: bool = False


def _during(length: int, inside: Minute) -> Callable[[int], Minute]:
    return lambda m: inside if 0 <= m < length else Minute()


def _flapping(length: int, on: int, off: int) -> Callable[[int], Minute]:
    def f(m: int) -> Minute:
        return Minute(ratio=Fraction(1)) if 0 <= m < length and m % (on + off) < on else Minute()

    return f


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("outage-10m", "total outage 10 min", 10, _during(10, Minute(ratio=Fraction(1)))),
    Scenario("outage-60m", "total outage 60 min", 60, _during(60, Minute(ratio=Fraction(1)))),
    Scenario("burn-20x-2h", "20x for 2 h", 120, _during(120, Minute(ratio=Fraction(2, 100)))),
    Scenario("burn-10x-3h", "10x for 3 h", 180, _during(180, Minute(ratio=Fraction(1, 100)))),
    Scenario("blip-5x-30m", "5x for 30 min", 30, _during(30, Minute(ratio=Fraction(5, 1000)))),
    # Steady: the whole history at 0.5x; the "fault" is the observed stretch.
    Scenario("steady-0.5x", "0.5x steady", 360, lambda m: Minute(ratio=Fraction(5, 10000))),
    Scenario("idle-night", "idle night 6 h, then normal", 360, _during(360, Minute(rpm=0))),
    Scenario(
        "series-vanish",
        "all series vanish 1 h",
        60,
        _during(60, Minute(present=(False, False, False))),
    ),
    Scenario(
        "instance-vanish",
        "1 of 3 instances vanishes 1 h (grouped SLO)",
        60,
        _during(60, Minute(present=(True, True, False))),
        grouped=True,
    ),
    Scenario("flapping-p0", "P0 flapping 5 min on / 5 min off, 1 h", 60, _flapping(60, 5, 5)),
)
BY_NAME = {s.name: s for s in SCENARIOS}


def split(rpm: int) -> list[int]:
    """Requests per minute of each instance: whole numbers summing to ``rpm``."""
    n = len(INSTANCES)
    return [rpm // n + (1 if k < rpm % n else 0) for k in range(n)]


def series_values(
    scenario: Scenario, first: int, last: int
) -> dict[tuple[str, str], list[int | None]]:
    """Counter values per (instance, code) at the sample times ``first..last`` (minutes relative
    to the fault start); ``None`` where the instance has no sample."""
    out: dict[tuple[str, str], list[int | None]] = {
        (i, c): [] for i in INSTANCES for c in ("200", "500")
    }
    n = len(INSTANCES)
    good, bad = [0] * n, [0] * n
    expected_bad = [Fraction(0)] * n
    for t in range(first, last + 1):
        # The sample at t holds the minutes first..t-1; the state of minute t-1 decides presence.
        state = scenario.minute(t - 1)
        if t > first:
            for k, total in enumerate(split(state.rpm)):
                before = int(expected_bad[k])
                expected_bad[k] += total * state.ratio
                bad_inc = int(expected_bad[k]) - before  # <= total: the ratio is at most 1
                bad[k] += bad_inc
                good[k] += total - bad_inc
        for k, inst in enumerate(INSTANCES):
            up = state.present[k]
            out[(inst, "500")].append(bad[k] if up else None)
            out[(inst, "200")].append(good[k] if up else None)
    return out


def encode(values: list[int | None]) -> str:
    """promtool's expanding notation: runs of a constant step as ``a+bxn``, gaps as ``_xn``,
    a staleness marker where a series stops."""
    tokens: list[str] = []
    i, n = 0, len(values)
    while i < n:
        v = values[i]
        if v is None:
            j = i
            while j < n and values[j] is None:
                j += 1
            tokens.append("stale")
            if j - i > 1:
                tokens.append(f"_x{j - i - 1}")
            i = j
            continue
        j = i + 1
        step = None
        while j < n and values[j] is not None:
            d = values[j] - values[j - 1]  # type: ignore[operator]
            if step is None:
                step = d
            elif d != step:
                break
            j += 1
        if j - i >= 3:
            tokens.append(f"{v}+{step}x{j - i - 1}")
            i = j
        else:
            tokens.append(str(v))
            i += 1
    return " ".join(tokens)
