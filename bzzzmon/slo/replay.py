"""An exact replay of an SLO's generated burn-rate alerts on a sample grid.

The generated promtool tests pin every tier to the evaluation step at which Prometheus fires and
resolves it; this module says which step that is, by evaluating the same rules the way
Prometheus does, in exact fractions:

- samples and evaluations share one grid of ``interval`` seconds from t=0, and the interval
  divides no window, so no sample sits on a range boundary (2.x and 3.x select alike);
- ``rate()`` extrapolates to the window's edges from the sample timestamps alone (the counters
  start far from zero, so the zero-point clamp never applies); bad and total series share their
  timestamps, so a raw window's ratio is the plain ratio of the increments inside it, and a
  window summed from recorded 5m rates weighs each 5m rate by its extrapolation factor;
- a time SLI's subquery takes one point per evaluation step;
- a window built from the recorded 5m rates is prorated by its coverage: the points of the fixed
  5m grid (from t=0, as Prometheus aligns a subquery's steps) in the window that find a recorded
  rate within the 5m lookback, against ``window // 5m``, at most 1; so are the events the
  low-traffic guard counts over such a window;
- a tier slower than page-fast also needs page-fast's events while page-fast's window is not
  covered (the history is shorter than it);
- an alert is pending from the first step its condition holds and fires once it has held for
  ``for:``; a tier's condition is void while a more urgent tier of the SLO was pending or firing
  at any step within its short window (the ``ALERTS`` term of the rule).

Prometheus compares in float64; a ratio that equals a threshold exactly is reported as
``borderline`` so a test never pins a step float rounding could move.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from bzzzmon.model import SLO, BurnTier
from bzzzmon.slo.windows import BASE_WINDOW, error_ratio_threshold

_EXTRAPOLATION_THRESHOLD = Fraction(11, 10)  # Prometheus extrapolates to an edge within 1.1x
_ONE = Fraction(1)


@dataclass(frozen=True)
class Feed:
    """Per-sample inputs of one SLI group. Counters: ``bad[i]`` and ``total[i]`` are the
    increments from sample i-1 to i (index 0 is the first sample, increments 0). Time SLIs:
    ``bad[i]`` is 1 where sample i is on the bad side, ``total[i]`` is 1."""

    interval: int
    counter: bool
    bad: tuple[Fraction, ...]
    total: tuple[Fraction, ...]

    @property
    def samples(self) -> int:
        return len(self.bad)


@dataclass
class Replay:
    """Per tier, the state at each step: "" (inactive), "pending" or "firing"."""

    states: dict[str, list[str]]
    borderline: set[int] = field(default_factory=set)  # steps where a comparison was exact

    def first(self, tier: str, state: str = "firing", after: int = 0) -> int | None:
        try:
            return self.states[tier].index(state, max(0, after))
        except ValueError:
            return None

    def first_not(self, tier: str, state: str, after: int) -> int | None:
        states = self.states[tier]
        for step in range(max(0, after), len(states)):
            if states[step] != state:
                return step
        return None

    def any_firing(self, step: int) -> bool:
        return any(states[step] == "firing" for states in self.states.values())


def _window_start(step: int, window: int, interval: int) -> int:
    """The first sample index inside (t - window, t] for t = step * interval."""
    return max(0, (step * interval - window) // interval + 1)


def _factor(first: int, last: int, step: int, window: int, interval: int) -> Fraction:
    """rate()'s extrapolation factor over samples ``first..last`` at ``step``."""
    t_first, t_last, t = first * interval, last * interval, step * interval
    return _extrapolation(t_last - t_first, last - first, t_first - (t - window), t - t_last)


@lru_cache(maxsize=4096)
def _extrapolation(sampled: int, count: int, to_start: int, to_end: int) -> Fraction:
    """The factor from the window's geometry alone: on a regular grid a few shapes recur, so
    each is computed once (exact fractions are the replay's cost)."""
    average = Fraction(sampled, count)
    limit = average * _EXTRAPOLATION_THRESHOLD
    extrapolated = Fraction(sampled)
    extrapolated += to_start if to_start < limit else average / 2
    extrapolated += to_end if to_end < limit else average / 2
    return extrapolated / sampled


# A ratio as (numerator, denominator), the denominator positive: compared with a threshold by
# cross-multiplying, so no Fraction is normalised per step. Integer inputs stay Python ints.
Ratio = tuple[Fraction | int, Fraction | int]


def _plain(value: Fraction | int) -> Fraction | int:
    return value.numerator if value.denominator == 1 else value


def _prefix(values: list[Fraction | int]) -> list[Fraction | int]:
    out: list[Fraction | int] = [0]
    running: Fraction | int = 0
    for v in values:
        running += v
        out.append(running)
    return out  # out[i] = sum of values[:i]


class _Ratios:
    """Window sums by prefix sums: each window is two lookups, whatever its length."""

    def __init__(self, slo: SLO, feed: Feed) -> None:
        self.slo, self.feed = slo, feed
        self._bad = _prefix([_plain(v) for v in feed.bad])
        self._total = _prefix([_plain(v) for v in feed.total])
        base = [self._base(j) for j in range(feed.samples)]
        self._has_base = _prefix([int(b is not None) for b in base])
        # The recorded 5m rates in units of 1/unit (a common denominator of their factors):
        # every sum over a long window is an integer, and a ratio of two of them is unchanged.
        self._unit = math.lcm(*(b[2].denominator for b in base if b))
        self._base_bad = _prefix([self._in_units(b[0], b[2]) if b else 0 for b in base])
        self._base_total = _prefix(
            [self._in_units(b[1], b[2] if feed.counter else _ONE) if b else 0 for b in base]
        )
        self._covered = list(itertools.accumulate(self._grid_points(), initial=0))

    def _grid_points(self) -> list[int]:
        """Per point of the 5m grid (t = 0, 5m, ...), 1 where the coverage subquery finds a
        recorded 5m rate: a sample within the lookback (p - 5m, p]."""
        e, last = self.feed.interval, (self.feed.samples - 1) * self.feed.interval
        out: list[int] = []
        for p in range(0, last + 1, BASE_WINDOW):
            first = max(0, (p - BASE_WINDOW) // e + 1)
            out.append(int(self._has_base[p // e + 1] > self._has_base[first]))
        return out

    def coverage(self, step: int, window: int) -> tuple[int, int]:
        """What rules.window_coverage counts at ``step``: the grid points in (t - window, t]
        that hold data, against the points a full window holds."""
        t = step * self.feed.interval
        first = max(0, (t - window) // BASE_WINDOW + 1)
        return self._covered[t // BASE_WINDOW + 1] - self._covered[first], window // BASE_WINDOW

    def _in_units(self, value: Fraction | int, factor: Fraction) -> Fraction | int:
        return value * factor.numerator * (self._unit // factor.denominator)

    def _base(self, step: int) -> tuple[Fraction | int, Fraction | int, Fraction] | None:
        """The 5m rate recorded at ``step`` as (bad, total, factor): a counter's increments
        with rate()'s extrapolation factor for both, a time SLI's bad points with 1/points for
        the bad side (its total is 1)."""
        found = self._raw(step, BASE_WINDOW)
        if found is None:
            return None
        if self.feed.counter:
            return found[0], found[1], self._scale(step, BASE_WINDOW)
        bad, points = found
        return bad, 1, Fraction(1, points)

    def _scale(self, step: int, window: int) -> Fraction:
        """rate()'s extrapolation factor of a counter's window ending at ``step``."""
        e = self.feed.interval
        return _factor(_window_start(step, window, e), step, step, window, e)

    def _raw(self, step: int, window: int) -> Ratio | None:
        """The raw window's (bad, total): bad and total share their extrapolation factor, so
        their ratio is the plain ratio of the increments."""
        f, e = self.feed, self.feed.interval
        first = _window_start(step, window, e)
        if f.counter:
            if step - first < 1:
                return None
            return (
                self._bad[step + 1] - self._bad[first + 1],
                self._total[step + 1] - self._total[first + 1],
            )
        return self._bad[step + 1] - self._bad[first], step - first + 1

    def ratio(self, step: int, window: int) -> Ratio | None:
        if window in self.slo.raw_windows:
            found = self._raw(step, window)
            if found is None:
                return None
            bad, total = found
        else:
            first = _window_start(step, window, self.feed.interval)
            if self._has_base[step + 1] == self._has_base[first]:
                return None
            bad = self._base_bad[step + 1] - self._base_bad[first]
            total = self._base_total[step + 1] - self._base_total[first]
            if window != self.slo.period:  # the period group's ratio is not prorated
                points, full = self.coverage(step, window)
                if not points:
                    return None  # count_over_time() of no points is empty
                if points < full:  # a window longer than the data: the rest has no errors
                    bad, total = bad * points, total * full
        return (bad, total) if total else None

    def events(self, step: int, window: int) -> Fraction | int:
        """What ``total rate * window`` gives: the events in the window, extrapolated. A window
        not read from the raw series averages the recorded 5m rates over it."""
        if not self.feed.counter:
            return 0
        if window in self.slo.raw_windows:
            found = self._raw(step, window)
            return found[1] * self._scale(step, window) if found is not None else 0
        first = _window_start(step, window, self.feed.interval)
        count = self._has_base[step + 1] - self._has_base[first]
        if not count:
            return 0
        points, full = self.coverage(step, window)
        if not points:
            return 0  # count_over_time() of no points is empty
        total = self._base_total[step + 1] - self._base_total[first]
        # _base_total holds increments times the extrapolation factor (in units of 1/unit):
        # / 5m gives the rate.
        events = Fraction(total, self._unit) / count / BASE_WINDOW * window
        # Prorated like the window's ratio (rules.sli_rules): a short history's events only.
        return events * points / full if points < full else events


def replay(slo: SLO, feed: Feed) -> Replay:
    ratios = _Ratios(slo, feed)
    budget = slo.budget_fraction
    out = Replay({t.name: [] for t in slo.tiers})
    since: dict[str, int | None] = {t.name: None for t in slo.tiers}

    def over(value: Ratio | None, threshold: Fraction, step: int) -> bool:
        if value is None:
            return False
        # value / total against num / den, both denominators positive.
        left = value[0] * threshold.denominator
        right = threshold.numerator * value[1]
        if left == right:
            out.borderline.add(step)
        return left > right

    last_active: dict[str, int] = {}  # tier -> the last step it was pending or firing

    def suppressed(tier: BurnTier, step: int) -> bool:
        first = _window_start(step, tier.short, feed.interval)
        return any(last_active.get(name, -1) >= first for name in tier.suppressed_by)

    thresholds = {t.name: error_ratio_threshold(t.factor, budget) for t in slo.tiers}
    young = slo.raw_guard_window
    for step in range(feed.samples):
        for tier in slo.tiers:  # in rule order: a suppressor's state at this step is known
            threshold = thresholds[tier.name]
            holds = over(ratios.ratio(step, tier.long), threshold, step) and over(
                ratios.ratio(step, tier.short), threshold, step
            )
            if holds and tier.kind == "page" and slo.min_events:
                holds = ratios.events(step, tier.long) >= slo.min_events
            if holds and young is not None and tier.long > young:
                points, full = ratios.coverage(step, young)
                holds = ratios.events(step, young) >= slo.min_events or points >= full
            out.states[tier.name].append("")  # placeholder so suppressed() sees this step
            if holds and tier.suppressed_by and suppressed(tier, step):
                holds = False
            if not holds:
                since[tier.name] = None
                continue
            start = since[tier.name]
            if start is None:
                start = since[tier.name] = step
            held = (step - start) * feed.interval
            out.states[tier.name][-1] = "firing" if held >= tier.for_ else "pending"
            last_active[tier.name] = step
    return out


_MEMO: dict[Hashable, Replay] = {}
_MEMO_SIZE = 4096


def replay_shape(slo: SLO) -> str:
    """All the replay reads of an SLO (its tiers, budget, traffic guard, raw windows and the
    period, whose window is not prorated), as exact text: a key that hashes once, not field by
    field on every look-up."""
    return repr((slo.tiers, slo.budget_fraction, slo.min_events, slo.raw_windows, slo.period))


def replay_once(slo: SLO, shape: str, phases: Hashable, feed: Callable[[], Feed]) -> Replay:
    """``replay(slo, feed())`` for a feed that ``phases`` determines, ``shape`` being
    replay_shape(slo): SLOs of one shape fed the same phases replay alike (a fleet of services
    on one objective), so each such replay runs once. The result is shared: read it, never
    change it."""
    key = (shape, phases)
    found = _MEMO.get(key)
    if found is None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        found = _MEMO[key] = replay(slo, feed())
    return found


def forget_replays() -> None:
    """Empty the replay_once memo (benchmarks measure a cold build)."""
    _MEMO.clear()
