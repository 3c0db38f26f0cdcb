"""Synthetic SLO workload: counters for N SLOs x M instances, backfilled into a Prometheus TSDB.

Model (documented in BENCHMARKS.md; everything is deterministic for a given seed):

* One counter family ``bench_requests_total{slo, instance, code}`` with ``code`` in ``200``/``500``.
  Per SLO and instance there are two series, so N SLOs x M instances make ``2*N*M`` series.
  ``bad = code="500"``, ``total = all codes``.
* One sample every 60 s for the 30-day period plus a one-hour pre-roll, ending at ``end`` (the
  generation time floored to the minute). ``end`` is the evaluation time of the period SLI.
* Traffic (requests per minute and instance): a per-SLO base rate (lognormal, 60..6000/min),
  uneven instance weights, a daily cycle (trough 04:00 UTC at 10 % of the peak at 16:00 UTC),
  bursts (x5 for 10-40 min, a few per SLO), Poisson noise.
* An idle night: every fifth SLO (index % 5 == 2) serves no traffic at all from 00:00 to 05:00 UTC
  on day 20 of the period (its counters stay flat), so a 5m ratio there is 0/0.
* A counter reset: instance ``i-00`` of every SLO restarts once (counters fall back to the
  increments of that minute), on day 12 at an hour that depends on the SLO.
* Errors: a base error ratio of 0.02-0.04 % (objective 99.9 %, budget 0.1 %) plus four error
  episodes per SLO at known times (see ``EPISODE_KINDS``).

The ground truth is computed here from the integer counter increments: the exact error ratio of
the 30-day period ``(end - 30d, end]`` per SLO.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.peers import METRIC

STEP = 60
DAY = 86400
PERIOD_DAYS = 30
PREROLL = 3600
OBJECTIVE = 0.999


@dataclass(frozen=True)
class EpisodeKind:
    name: str
    day: int  # day of the period (0-based) the episode starts on
    hour: float  # UTC hour of day it starts at (plus a per-SLO offset, see episodes_for)
    minutes: int
    error_ratio: float
    meant_for: str  # the burn-rate tier it is designed to trip


# Designed against the 30d / 99.9 % tiers: 14.4x (1h/5m), 6x (6h/30m), 3x (1d/2h), 1x (3d/6h).
EPISODE_KINDS: tuple[EpisodeKind, ...] = (
    EpisodeKind("fast-day", 5, 14.0, 25, 0.05, "page-fast"),
    EpisodeKind("fast-night", 9, 3.0, 60, 0.03, "page-fast"),
    EpisodeKind("slow", 15, 9.0, 300, 0.009, "page-slow"),
    EpisodeKind("ticket", 24, 6.0, 1800, 0.0045, "ticket-fast"),
)


@dataclass(frozen=True)
class Episode:
    slo: str
    kind: str
    meant_for: str
    start: int  # unix seconds, first minute with the raised error ratio
    end: int  # unix seconds, first minute back at the base ratio
    error_ratio: float


@dataclass(frozen=True)
class Workload:
    n_slos: int
    m_instances: int
    end: int
    seed: int = 42

    @property
    def start(self) -> int:
        return self.end - PERIOD_DAYS * DAY - PREROLL

    @property
    def period_start(self) -> int:
        return self.end - PERIOD_DAYS * DAY

    @property
    def times(self) -> np.ndarray:
        """Sample timestamps (unix seconds), ``start`` .. ``end`` inclusive."""
        return np.arange(self.start, self.end + STEP, STEP, dtype=np.int64)

    def slo_names(self) -> list[str]:
        return [slo_name(i) for i in range(self.n_slos)]

    def instances(self) -> list[str]:
        return [f"i-{j:02d}" for j in range(self.m_instances)]


def slo_name(index: int) -> str:
    return f"svc-{index:04d}"


def has_idle_night(index: int) -> bool:
    return index % 5 == 2


def day_start(w: Workload, day: int) -> int:
    """Unix time of 00:00 UTC of the given (0-based) day of the period."""
    first_midnight = (w.period_start // DAY + 1) * DAY
    return first_midnight + day * DAY


def episodes_for(w: Workload, index: int) -> list[Episode]:
    out = []
    for k, kind in enumerate(EPISODE_KINDS):
        # Stagger the SLOs over a few hours so the episodes of different SLOs do not coincide.
        offset = ((index * 7 + k * 3) % 5) * 1800 if kind.name != "fast-night" else 0
        start = day_start(w, kind.day) + int(kind.hour * 3600) + offset
        out.append(
            Episode(
                slo_name(index),
                kind.name,
                kind.meant_for,
                start,
                start + kind.minutes * 60,
                kind.error_ratio,
            )
        )
    return out


def _daily_cycle(times: np.ndarray) -> np.ndarray:
    hours = (times % DAY) / 3600.0
    # Trough at 04:00 UTC (0.1), peak at 16:00 UTC (1.0).
    return 0.1 + 0.9 * (0.5 - 0.5 * np.cos(2 * np.pi * (hours - 4.0) / 24.0))


def expected_rates(w: Workload, index: int, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected requests per minute (shape T x M) and the error ratio (shape T) of one SLO."""
    rng = np.random.default_rng([w.seed, index, 1])
    base = float(np.exp(rng.uniform(np.log(60.0), np.log(6000.0))))
    weights = rng.uniform(0.3, 1.7, size=w.m_instances)
    weights = weights / weights.sum() * w.m_instances
    per_min = base * _daily_cycle(times)
    burst = np.ones_like(per_min)
    for _ in range(int(rng.integers(2, 6))):
        b_start = w.start + int(rng.integers(0, PERIOD_DAYS * DAY))
        b_len = int(rng.integers(10, 41)) * 60
        burst[(times >= b_start) & (times < b_start + b_len)] = 5.0
    per_min = per_min * burst
    if has_idle_night(index):
        idle = day_start(w, 20)
        per_min[(times >= idle) & (times < idle + 5 * 3600)] = 0.0
    lam = per_min[:, None] * weights[None, :] / w.m_instances
    err = np.full(times.shape, rng.uniform(0.0002, 0.0004))
    for ep in episodes_for(w, index):
        err[(times >= ep.start) & (times < ep.end)] = ep.error_ratio
    return lam, err


def reset_time(w: Workload, index: int) -> int:
    return day_start(w, 12) + (index % 24) * 3600 + 1800


def slo_counters(w: Workload, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counters (T x M) of bad and total requests, and their true per-minute increments."""
    times = w.times
    lam, err = expected_rates(w, index, times)
    rng = np.random.default_rng([w.seed, index, 2])
    total_inc = rng.poisson(lam).astype(np.int64)
    total_inc[0, :] = 0
    bad_inc = rng.binomial(total_inc, err[:, None]).astype(np.int64)
    total = np.cumsum(total_inc, axis=0)
    bad = np.cumsum(bad_inc, axis=0)
    # Initial offset (process has been running before the window) ...
    total += rng.integers(10_000, 1_000_000, size=w.m_instances)[None, :]
    bad += rng.integers(0, 500, size=w.m_instances)[None, :]
    # ... and one restart of instance 0: from the reset minute the counter counts from zero again.
    r = int(np.searchsorted(times, reset_time(w, index)))
    total[r:, 0] -= total[r - 1, 0]
    bad[r:, 0] -= bad[r - 1, 0]
    return bad, total, bad_inc, total_inc


@dataclass
class Truth:
    slo: str
    bad: int
    total: int
    ratio: float
    idle_night: bool


def _series_lines(name_labels: str, values: np.ndarray, times: np.ndarray) -> str:
    prefix = name_labels + " "
    return "".join(
        f"{prefix}{v} {t}\n" for v, t in zip(values.tolist(), times.tolist(), strict=True)
    )


def iter_openmetrics(
    w: Workload, truths: list[Truth], finals: dict[str, list[list[int]]]
) -> Iterator[str]:
    """OpenMetrics text, series by series (each series in time order).

    Fills ``truths`` and ``finals`` (the counter values ``[bad, good]`` per instance at ``end``,
    from which the live feeder continues)."""
    times = w.times
    in_period = times > w.period_start
    yield "# TYPE bench_requests counter\n"
    for i in range(w.n_slos):
        bad, total, bad_inc, total_inc = slo_counters(w, i)
        name = slo_name(i)
        truths.append(
            Truth(
                name,
                int(bad_inc[in_period].sum()),
                int(total_inc[in_period].sum()),
                float(bad_inc[in_period].sum() / total_inc[in_period].sum()),
                has_idle_night(i),
            )
        )
        good = total - bad
        finals[name] = [[int(bad[-1, j]), int(good[-1, j])] for j in range(w.m_instances)]
        for j, inst in enumerate(w.instances()):
            base = f'{METRIC}{{slo="{name}",instance="{inst}",code='
            yield _series_lines(base + '"500"}', bad[:, j], times)
            yield _series_lines(base + '"200"}', good[:, j], times)
    yield "# EOF\n"


def write(w: Workload, out_dir: Path, progress: bool = True) -> dict[str, object]:
    """Write ``workload.om``, ``truth.json`` and ``episodes.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    truths: list[Truth] = []
    t0 = time.monotonic()
    om = out_dir / "workload.om"
    finals: dict[str, list[list[int]]] = {}
    with om.open("w", buffering=16 << 20) as f:
        for k, chunk in enumerate(iter_openmetrics(w, truths, finals)):
            f.write(chunk)
            if progress and k and k % (2 * w.m_instances * max(1, w.n_slos // 10)) == 0:
                done = len(truths)
                print(
                    f"  workload: {done}/{w.n_slos} SLOs written ({time.monotonic() - t0:.0f}s)",
                    flush=True,
                )
    meta = {
        "n_slos": w.n_slos,
        "m_instances": w.m_instances,
        "seed": w.seed,
        "start": w.start,
        "period_start": w.period_start,
        "end": w.end,
        "step": STEP,
        "objective": OBJECTIVE,
        "series": 2 * w.n_slos * w.m_instances,
        "samples": 2 * w.n_slos * w.m_instances * len(w.times),
        "openmetrics_bytes": om.stat().st_size,
        "seconds": round(time.monotonic() - t0, 1),
    }
    (out_dir / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1))
    episodes = [asdict(e) for i in range(w.n_slos) for e in episodes_for(w, i)]
    (out_dir / "episodes.json").write_text(json.dumps(episodes, indent=1))
    (out_dir / "finals.json").write_text(json.dumps(finals))
    (out_dir / "workload.json").write_text(json.dumps(meta, indent=1))
    return meta
