"""Multiwindow multi-burn-rate tiers.

The tiers are data: a long window, its short window (long / 12), and the share of the error budget
that, spent within the long window, should raise the alert. The burn factor follows from the SLO
period P: spending a fraction f of the budget within L means burning f * P / L times faster than
the rate that would spend exactly the budget over P. For a 30d period this reproduces the Google
SRE Workbook table (14.4, 6, 3, 1); other periods keep the same percentages and windows, so their
factors differ (28d: 13.44, 5.6, 2.8).

Page tiers read their windows up to an hour from the raw counters, so a total outage crosses
page-fast's threshold at ``factor * budget * long`` exactly; longer windows are built from the
recorded 5m rates (cheap, but every event is smeared over 5 minutes, which costs half a base
window on a crossing that takes many minutes anyway). ``for:`` is data too: page-fast holds 2m so
a single spiky 5m evaluation cannot page; the other tiers need none, because their short windows
already reject blips and a ``for:`` would only start them after a short fault has ended.

A factor below 1 would alert on an SLO that meets its objective (28d's 3d tier: 14/15). Such a
tier keeps its percentage but shrinks its long window to the time that share takes at factor 1
(f * P: 2d19h12m for 28d), with the short window long / 12; a tier that then duplicates another
is dropped (7d: both ticket tiers become 16h48m / 1h24m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

HOUR = 3600
DAY = 86400

# The base window: numerator and denominator rates are recorded once at this window, and every
# longer window is built from those two series.
BASE_WINDOW = 300

# The whole-period ratio reads the two base series over the period (e.g. 2 x 86,400 samples for
# 30d at a 30s evaluation interval); it was 87% of the rules' cost when evaluated every round
# (BENCHMARKS.md). Its own group runs every 4 minutes instead: the period ratio moves by a
# negligible amount in 4 minutes, and 4m stays under Prometheus' 5m lookback, so the alerts and
# dashboards that read it always find a value.
PERIOD_EVALUATION_INTERVAL = 240


@dataclass(frozen=True)
class TierTemplate:
    name: str
    kind: str  # "page" or "ticket": which of the SLO's severities the tier takes
    long: int  # seconds
    short: int  # seconds
    budget_percent: Decimal
    for_: int  # seconds an alert must hold before it fires


DEFAULT_TIERS: tuple[TierTemplate, ...] = (
    TierTemplate("page-fast", "page", 1 * HOUR, 5 * 60, Decimal(2), 2 * 60),
    TierTemplate("page-slow", "page", 6 * HOUR, 30 * 60, Decimal(5), 0),
    TierTemplate("ticket-fast", "ticket", 1 * DAY, 2 * HOUR, Decimal(10), 0),
    TierTemplate("ticket-slow", "ticket", 3 * DAY, 6 * HOUR, Decimal(10), 0),
)

# A page tier needs at least this many events in its long window by default (the low-traffic
# guard): at night a handful of failed requests must not page. ``alerting.min_events`` sets it.
DEFAULT_MIN_EVENTS = 100


def default_tiers(period: int) -> tuple[TierTemplate, ...]:
    """The default tiers for an SLO period, none with a burn factor below 1."""
    out: list[TierTemplate] = []
    seen: set[tuple[int, int]] = set()
    for tier in DEFAULT_TIERS:
        long, short = tier.long, tier.short
        if burn_factor(tier.budget_percent, period, long) < 1:
            # The budget share at factor 1 takes f * P; whole minutes keep windows readable.
            long = int(Fraction(tier.budget_percent) / 100 * period) // 60 * 60
            short = max(long // 12 // 60 * 60, BASE_WINDOW)
        if (long, short) in seen:
            continue
        seen.add((long, short))
        out.append(TierTemplate(tier.name, tier.kind, long, short, tier.budget_percent, tier.for_))
    return tuple(out)


def burn_factor(budget_percent: Decimal, period: int, long_window: int) -> Fraction:
    """How many times faster than budget-neutral the SLO burns when it spends
    ``budget_percent`` of its budget within ``long_window`` (both windows in seconds)."""
    return Fraction(budget_percent) / 100 * period / long_window


def error_ratio_threshold(factor: Fraction, budget: Fraction) -> Fraction:
    """The error ratio above which both windows of a tier must be for it to fire."""
    return factor * budget


def detection_time(
    factor: Fraction, budget: Fraction, long_window: int, for_: int, *, raw: bool = True
) -> Fraction:
    """Seconds from the start of a total outage (error ratio 1) until the tier fires, give or
    take one evaluation interval.

    After t seconds of total outage the long window's ratio is t / long (the short window's is
    higher, so the long one decides); it crosses factor * budget at t = factor * budget * long,
    then the alert holds for ``for_``. A window summed from recorded 5m rates sees the outage
    ramp up over the base window, half a base window late (``smear_delay``).
    """
    spent = factor * budget * long_window
    return spent + for_ + (0 if raw else smear_delay(spent))


def smear_delay(spent: Fraction) -> Fraction:
    """Seconds a window summed from 5m rates lags the raw counters in counting ``spent`` seconds
    of total outage: the base rate ramps linearly over BASE_WINDOW, so half of it, or
    sqrt(2 * BASE_WINDOW * spent) - spent while still on the ramp."""
    half = Fraction(BASE_WINDOW, 2)
    if spent >= half:
        return half
    root = Fraction(math.isqrt(int(2 * BASE_WINDOW * spent * 10**6)), 1000)
    return root - spent


def time_to_exhaustion(factor: Fraction, period: int) -> Fraction:
    """Seconds until the whole budget is spent when burning at ``factor``."""
    return Fraction(period) / factor


# Page windows up to this long are read from the raw counters. Longer ones take minutes to cross
# their threshold anyway, and reading hours of raw samples every round is most of a rule set's
# cost (a 6h raw window alone would be 4x the 5m, 30m and 1h ones together).
RAW_WINDOW_MAX = 3600


def raw_windows(tiers: tuple[tuple[str, int, int], ...]) -> list[int]:
    """Windows read from the raw counters: the base window and every page-tier window
    (``(kind, long, short)`` triples) up to RAW_WINDOW_MAX, where minutes of detection matter."""
    found = {BASE_WINDOW}
    for kind, long, short in tiers:
        if kind == "page":
            found.update(w for w in (long, short) if w <= RAW_WINDOW_MAX)
    return sorted(found)


def windows_needed(tiers: tuple[tuple[int, int], ...], period: int) -> list[int]:
    """Every window (seconds) whose error ratio must be recorded, shortest first."""
    found = {BASE_WINDOW, period}
    for long, short in tiers:
        found.add(long)
        found.add(short)
    return sorted(found)
