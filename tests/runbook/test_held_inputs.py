"""Generated-test inputs for expressions of several series: one drives the value, the others are
held (a divisor at 1, the other side of and/unless on its letting-through side)."""

from __future__ import annotations

from fractions import Fraction

import promql_parser
import pytest

from bzzzmon.render.rule_tests.held import condition_held, derive_driven
from bzzzmon.render.rule_tests.inputs import Underivable

METRICS = {"used": "gauge", "limit": "gauge", "cpu_total": "counter", "peers": "gauge"}


def test_a_share_of_a_limit_holds_the_limit_at_one_with_the_drivers_labels() -> None:
    driven = derive_driven(
        'max by (instance) (used{job="x", name!=""} / (limit{job="x"} > 0))', METRICS
    )
    assert driven.value.series.name == "used"
    assert driven.value.output_labels == {"instance": "test-instance"}
    [held] = driven.held
    assert held.series.name == "limit" and held.value == 1
    # The same labels as the driver, so the division matches one to one.
    assert held.series.label_map() == driven.value.series.label_map()
    assert driven.level(Fraction(9, 10)) == Fraction(9, 10)


def test_a_used_fraction_inverts_the_level() -> None:
    driven = derive_driven('1 - used{job="x"} / limit{job="x"}', METRICS)
    assert (driven.scale, driven.offset) == (-1, 1)
    assert driven.level(Fraction(77, 100)) == Fraction(23, 100)


def test_a_rate_over_a_quota_is_driven_by_the_counter() -> None:
    driven = derive_driven(
        'sum by (i) (rate(cpu_total{job="x"}[5m])) / on (i) (max by (i) (limit{job="x"} > 0))',
        METRICS,
    )
    assert driven.value.kind == "counter"
    assert [h.series.name for h in driven.held] == ["limit"]


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ('used{job="x"} / used{job="x"} offset 1h', "also on the held side"),
        ('used{job="x"} / (limit{job="x"} > 5)', "does not hold at 1"),
        ('1 - rate(cpu_total{job="x"}[5m]) / limit{job="x"}', "subtracted from a number"),
        ('used{job="x"} * limit{job="x"}', "2 selectors"),
    ],
)
def test_what_cannot_be_held_stays_underivable(expr: str, why: str) -> None:
    with pytest.raises(Underivable, match=why):
        derive_driven(expr, METRICS)


def test_the_other_side_of_and_lets_through_and_of_unless_blocks() -> None:
    driver = derive_driven('sum by (instance) (used{job="x"})', METRICS).value.series
    condition = promql_parser.parse('peers{job="x"} > 0')
    [kept] = condition_held(condition, True, driver, METRICS)
    [blocked] = condition_held(condition, False, driver, METRICS)
    assert kept.value > 0 and not blocked.value > 0
    assert kept.series.label_map()["instance"] == "test-instance"
