"""Burn-rate math against the Google SRE Workbook table, and the exact numbers it prints."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction, to_decimal
from bzzzmon.render.rules import threshold_text
from bzzzmon.slo.windows import (
    DAY,
    DEFAULT_TIERS,
    HOUR,
    burn_factor,
    default_tiers,
    detection_time,
    error_ratio_threshold,
    time_to_exhaustion,
    windows_needed,
)

# (tier, long window, short window, % of budget, factor) for a 30d period, from DESIGN.md.
WORKBOOK_30D = [
    ("page-fast", 1 * HOUR, 5 * 60, 2, Fraction(72, 5)),
    ("page-slow", 6 * HOUR, 30 * 60, 5, Fraction(6)),
    ("ticket-fast", 1 * DAY, 2 * HOUR, 10, Fraction(3)),
    ("ticket-slow", 3 * DAY, 6 * HOUR, 10, Fraction(1)),
]


@pytest.mark.parametrize(("name", "long", "short", "percent", "factor"), WORKBOOK_30D)
def test_default_tiers_reproduce_the_30d_table(
    name: str, long: int, short: int, percent: int, factor: Fraction
) -> None:
    tier = next(t for t in DEFAULT_TIERS if t.name == name)
    assert (tier.long, tier.short, tier.budget_percent) == (long, short, Decimal(percent))
    assert tier.short * 12 == tier.long
    assert burn_factor(tier.budget_percent, 30 * DAY, tier.long) == factor


@pytest.mark.parametrize(
    ("period_days", "expected"),
    [
        (30, ["14.4", "6", "3", "1"]),
        (28, ["13.44", "5.6", "2.8", "(14 / 15)"]),
        (7, ["3.36", "1.4", "0.7", "(7 / 30)"]),
    ],
)
def test_other_periods_keep_the_budget_percentages(period_days: int, expected: list[str]) -> None:
    factors = [burn_factor(t.budget_percent, period_days * DAY, t.long) for t in DEFAULT_TIERS]
    assert [format_fraction(f) for f in factors] == expected
    for tier, factor in zip(DEFAULT_TIERS, factors, strict=True):
        # Burning at the factor for the long window spends exactly the tier's share of budget.
        spent = factor * tier.long / (period_days * DAY)
        assert spent == Fraction(tier.budget_percent) / 100


@pytest.mark.parametrize(
    ("period_days", "expected"),
    [
        (30, [("1h", "5m", "14.4"), ("6h", "30m", "6"), ("1d", "2h", "3"), ("3d", "6h", "1")]),
        (
            28,
            [
                ("1h", "5m", "13.44"),
                ("6h", "30m", "5.6"),
                ("1d", "2h", "2.8"),
                ("2d19h12m", "5h36m", "1"),
            ],
        ),
        (7, [("1h", "5m", "3.36"), ("6h", "30m", "1.4"), ("16h48m", "1h24m", "1")]),
    ],
)
def test_default_tiers_never_burn_below_factor_one(
    period_days: int, expected: list[tuple[str, str, str]]
) -> None:
    period = period_days * DAY
    tiers = default_tiers(period)
    got = [
        (
            format_duration(t.long),
            format_duration(t.short),
            format_fraction(burn_factor(t.budget_percent, period, t.long)),
        )
        for t in tiers
    ]
    assert got == expected


def test_thresholds_are_printed_exactly() -> None:
    budget = Fraction(Decimal("0.001"))
    assert threshold_text(Fraction(72, 5), budget) == "(14.4 * 0.001)"
    assert error_ratio_threshold(Fraction(72, 5), budget) == Fraction(144, 10000)
    assert format_fraction(error_ratio_threshold(Fraction(72, 5), budget)) == "0.0144"
    assert threshold_text(Fraction(14, 15), Fraction(1, 100)) == "((14 / 15) * 0.01)"


def test_detection_time_for_total_outage() -> None:
    # 99.9% over 30d, page-fast: 14.4 * 0.001 * 1h = 51.84 s, plus for: 2m.
    t = detection_time(Fraction(72, 5), Fraction(1, 1000), HOUR, 120)
    assert t == Fraction(5184, 100) + 120
    # 99% over 30d, ticket-slow: 1 * 0.01 * 3d = 43.2 min, plus for: 3h.
    assert detection_time(Fraction(1), Fraction(1, 100), 3 * DAY, 3 * HOUR) == 2592 + 10800


def test_time_to_exhaustion() -> None:
    assert time_to_exhaustion(Fraction(72, 5), 30 * DAY) == 50 * HOUR
    assert time_to_exhaustion(Fraction(1), 30 * DAY) == 30 * DAY


def test_windows_needed_are_sorted_and_unique() -> None:
    pairs = tuple((t.long, t.short) for t in DEFAULT_TIERS)
    assert windows_needed(pairs, 30 * DAY) == [
        300,
        1800,
        HOUR,
        2 * HOUR,
        6 * HOUR,
        DAY,
        3 * DAY,
        30 * DAY,
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [("99.90", "99.9"), ("1E+2", "100"), ("0.001", "0.001"), ("0.999", "0.999"), ("-2.50", "-2.5")],
)
def test_format_decimal(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text


def test_objective_arithmetic_stays_exact() -> None:
    objective = Decimal("99.9") / 100
    assert format_decimal(objective) == "0.999"
    assert format_decimal(1 - objective) == "0.001"
    assert to_decimal(Fraction(1, 3)) is None
    assert to_decimal(Fraction(7, 8)) == Decimal("0.875")
