"""promtool tests for one SLO's alerts: burn-rate tiers, missing data and budget exhaustion.

Scenarios (one test group each), all with steady traffic of EVENTS events per sample:
- constant burn just above each tier's threshold (factor * budget): the tier fires one interval
  plus ``for:`` after the data starts, and resolves once the short window has recovered;
- constant burn just below it: the tier stays quiet;
  (both need a fractional error ratio, so ratio and latency SLIs only: a time SLI's condition is
  true or false per sample, and its factors are tested by the outage scenario)
- a total outage after a healthy history as long as the longest window: each tier fires at the
  detection time the burn-rate math predicts (``detection_time``: factor * budget * long window
  + ``for:``), not before; the budget-exhausted alert fires once the period's budget is spent;
- an idle service (series present, no events) raises no missing-data or burn alert; vanished
  series raise the missing-data alert after the lookback and its ``for:``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import promql_parser

from bzzzmon import conventions as C
from bzzzmon.model import SLO, BurnTier, Plan
from bzzzmon.promql.parse import parse
from bzzzmon.render.rule_tests.inputs import (
    Metrics,
    Series,
    Underivable,
    comparison_sides,
    concrete,
    derive,
    equality_labels,
    one_selector,
    split_selected,
    unwrap,
)
from bzzzmon.render.rule_tests.timeline import (
    Group,
    Labels,
    firing_labels,
    firing_query,
    steps_for,
)
from bzzzmon.render.rules import slo_alert_rules
from bzzzmon.slo.windows import BASE_WINDOW, detection_time, error_ratio_threshold

EVENTS = 100_000  # events per sample: error ratios down to 1e-5 are exact integers of events
MARGIN = Fraction(1, 10)  # "just above/below": 10% off the threshold


@dataclass(frozen=True)
class SLIFeed:
    """The input series of an SLI and how to drive them: ``bad`` events of EVENTS per sample."""

    kind: str
    counters: tuple[Series, Series]  # ratio: (bad, rest); latency: (fast bucket, count)
    bad_in_total: bool
    gauge: Series | None = None
    good_value: Fraction = Fraction(0)
    bad_value: Fraction = Fraction(0)

    @property
    def fractional(self) -> bool:
        return self.kind != "time"


def _group_labels(slo: SLO) -> dict[str, str]:
    return {g: f"test-{g}" for g in slo.group_by}


def sli_feed(slo: SLO, metrics: Metrics) -> SLIFeed:
    """Raises Underivable when the SLI's inputs cannot be driven by generated series."""
    extra = _group_labels(slo)
    sli = slo.sli
    if sli.kind == "ratio":
        total = sli.inputs["total"]
        if "bad" in sli.inputs:
            bad, rest = split_selected(sli.inputs["bad"], total, metrics)
            return SLIFeed(
                "ratio",
                (bad.with_labels(extra), rest.with_labels(extra)),
                bad_in_total=True,
            )
        good, bad = split_selected(sli.inputs["good"], total, metrics)
        return SLIFeed(
            "ratio", (bad.with_labels(extra), good.with_labels(extra)), bad_in_total=True
        )
    if sli.kind == "latency":
        bucket = concrete(one_selector(sli.inputs["bucket"]), metrics)
        count = concrete(one_selector(sli.inputs["count"]), metrics)
        if not bucket or not count:
            raise Underivable("no histogram series")
        return SLIFeed(
            "latency",
            (bucket[0].with_labels(extra), count[0].with_labels(extra)),
            bad_in_total=True,
        )
    condition = sli.inputs["condition"]
    value = derive(sli.inputs["expr"], metrics)
    if value.kind != "gauge":
        raise Underivable("a time SLI on a counter")
    node = unwrap(parse(condition))
    op = str(node.op)
    threshold = node.rhs.val
    good_level, bad_level = comparison_sides(op, Decimal(str(threshold)))
    return SLIFeed(
        "time",
        (value.series, value.series),
        bad_in_total=True,
        gauge=value.series.with_labels(extra),
        good_value=Fraction(good_level),
        bad_value=Fraction(bad_level),
    )


class _Phases:
    """Feeds an SLI phase by phase; ``bad`` is the number of bad events per sample."""

    def __init__(self, group: Group, feed: SLIFeed) -> None:
        self.feed = feed
        if feed.kind == "time":
            assert feed.gauge is not None
            self.gauge = group.track(feed.gauge, counter=False)
        else:
            self.first = group.track(feed.counters[0], counter=True)
            self.second = group.track(feed.counters[1], counter=True)

    def run(self, samples: int, bad: int, events: int = EVENTS) -> None:
        if self.feed.kind == "time":
            value = self.feed.bad_value if bad else self.feed.good_value
            self.gauge.hold(value, samples)
        elif self.feed.kind == "ratio":
            self.first.grow(Fraction(bad), samples)
            self.second.grow(Fraction(events - bad), samples)
        else:  # latency: the fast bucket and the count
            self.first.grow(Fraction(events - bad), samples)
            self.second.grow(Fraction(events), samples)


@dataclass
class _Rules:
    """The SLO's alert rules as rules.py renders them, keyed for the checks."""

    tiers: dict[str, Labels]
    missing: Labels | None
    exhausted: Labels | None


def _rules(plan: Plan, slo: SLO) -> _Rules:
    tiers: dict[str, Labels] = {}
    missing = exhausted = None
    for rule in slo_alert_rules(plan, slo):
        labels = dict(rule["labels"])
        kind = labels.get(C.LABEL_ALERT_KIND)
        if kind == "burn_rate":
            tiers[labels[C.LABEL_TIER]] = labels
        elif kind == "missing_data":
            missing = labels
        elif kind == "budget_exhausted":
            exhausted = labels
    return _Rules(tiers, missing, exhausted)


def _absent_labels(raw: str) -> Labels:
    """Labels absent() puts on its result: the selector's equality matchers."""
    node = parse(raw)
    if not isinstance(node, promql_parser.VectorSelector):
        return {}
    return equality_labels(one_selector(raw))


def ramp_delay(spent: Fraction) -> Fraction:
    """Seconds the 5m base rate adds to a total outage's detection time.

    The base rate ramps linearly from 0 to the full error rate over BASE_WINDOW, so the long
    window has counted ``spent`` seconds of errors BASE_WINDOW / 2 later than the raw counters
    did; when ``spent`` is reached during the ramp itself, at sqrt(2 * BASE_WINDOW * spent).
    """
    half = Fraction(BASE_WINDOW, 2)
    if spent >= half:
        return half
    root = Fraction(math.isqrt(int(2 * BASE_WINDOW * spent * 10**6)), 1000)
    return root - spent


class SLOTests:
    def __init__(self, plan: Plan, slo: SLO, interval: int) -> None:
        self.plan = plan
        self.slo = slo
        self.interval = interval
        self.feed = sli_feed(slo, plan.metrics)
        self.rules = _rules(plan, slo)
        self.series_labels = {C.LABEL_SLO: slo.name} | _group_labels(slo)

    # --- helpers -------------------------------------------------------------------------------
    def _threshold(self, tier: BurnTier) -> Fraction:
        return error_ratio_threshold(tier.factor, self.slo.budget_fraction)

    def _tier_query(self, tier: BurnTier) -> str:
        return firing_query(self.slo.alert_name, **{C.LABEL_TIER: tier.name})

    def _tier_alert(self, tier: BurnTier) -> Labels:
        return firing_labels(self.slo.alert_name, self.rules.tiers[tier.name], self.series_labels)

    def _steps(self, seconds: int | Fraction) -> int:
        return steps_for(seconds, self.interval)

    def _fed_group(self) -> tuple[Group, _Phases]:
        """A new test group and the feed of the SLI's input series in it."""
        group = Group(self.interval)
        return group, _Phases(group, self.feed)

    # --- scenarios -----------------------------------------------------------------------------
    def constant_burn(self, tier: BurnTier, above: bool) -> Group | None:
        threshold = self._threshold(tier)
        if threshold >= 1:
            return None
        scale = 1 + MARGIN if above else 1 - MARGIN
        target = threshold * scale * EVENTS
        bad = min(EVENTS, math.floor(target)) if above else math.ceil(target)
        if (Fraction(bad, EVENTS) > threshold) != above:
            return None
        group, feed = self._fed_group()
        # Data starts at sample 0; the first rate exists at sample 1, so the condition holds from
        # sample 1 and the alert fires at sample 1 + ceil(for / interval).
        fires = 1 + self._steps(tier.for_)
        checked = fires + 1
        feed.run(checked + 1, bad)
        query = self._tier_query(tier)
        group.expect(fires - 1, query, [])
        group.expect(checked, query, [self._tier_alert(tier)] if above else [])
        if above:
            recovered = self._steps(tier.short + BASE_WINDOW) + 2
            feed.run(recovered, 0)
            group.expect(checked + recovered, query, [])
        return group

    def outage(self) -> Group:
        """Healthy history as long as the longest window, then every event fails."""
        slo = self.slo
        group, feed = self._fed_group()
        longest = max(t.long for t in slo.tiers)
        history = self._steps(longest) + 2
        feed.run(history, 0)
        start = history * self.interval  # the first bad sample
        if self.feed.kind != "time":
            start -= self.interval  # counters: bad events accrue from the sample before
        last = history
        burn_query = firing_query(slo.alert_name)
        group.expect(history - 1, burn_query, [])
        lag = BASE_WINDOW  # the 5m base rate ramps up over its window
        for tier in slo.tiers:
            threshold = self._threshold(tier)
            if threshold >= 1:
                continue
            nominal = detection_time(tier.factor, slo.budget_fraction, tier.long, tier.for_)
            due = start + nominal + ramp_delay(nominal - tier.for_)
            # Quiet one interval before the predicted time; firing once the condition had time
            # to be seen (one interval) and held for `for:` (one more), plus half an interval
            # for the sampled base rate.
            group.expect(math.floor(due / self.interval) - 1, self._tier_query(tier), [])
            fired = math.ceil(due / self.interval + Fraction(5, 2))
            group.expect(fired, self._tier_query(tier), [self._tier_alert(tier)])
            last = max(last, fired)
        if self.rules.exhausted is not None:
            name = slo.budget_exhausted.name
            query = firing_query(name)
            group.expect(history - 1, query, [])
            budget = slo.budget_fraction
            # Bad seconds t after `start` spend the period's budget when
            # t / min(period, start + t) exceeds the budget.
            spent = budget * start / (1 - budget)
            if start + spent > slo.period:
                spent = budget * slo.period
            due = start + spent + lag + slo.budget_exhausted.for_
            fired = math.ceil(due / self.interval) + 1
            exhausted = firing_labels(name, self.rules.exhausted, self.series_labels)
            group.expect(fired, query, [exhausted])
            last = max(last, fired)
        if self.rules.missing is not None:
            group.expect(last, firing_query(slo.missing_data.name), [])
        feed.run(last - history + 1, EVENTS)
        return group

    def idle(self) -> Group | None:
        if self.rules.missing is None:
            return None
        group, feed = self._fed_group()
        samples = self._steps(self.slo.missing_data.for_ + 2 * BASE_WINDOW) + 2
        feed.run(samples, 0, events=0)
        group.expect(samples - 1, firing_query(self.slo.missing_data.name), [])
        group.expect(samples - 1, firing_query(self.slo.alert_name), [])
        return group

    def vanished(self) -> Group | None:
        if self.rules.missing is None:
            return None
        group, feed = self._fed_group()
        samples = self._steps(2 * BASE_WINDOW) + 1
        feed.run(samples, 0)
        last_sample = (samples - 1) * self.interval
        # absent() turns true once the last sample leaves the 5m lookback.
        due = last_sample + BASE_WINDOW + self.slo.missing_data.for_
        name = self.slo.missing_data.name
        query = firing_query(name)
        group.expect(samples - 1, query, [])
        group.expect(math.floor(due / self.interval) - 1, query, [])
        firing = firing_labels(name, self.rules.missing, _absent_labels(self.slo.sli.raw))
        group.expect(math.ceil(due / self.interval) + 1, query, [firing])
        return group

    def groups(self) -> list[Group]:
        found: list[Group | None] = []
        if self.feed.fractional:
            for tier in self.slo.tiers:
                found.append(self.constant_burn(tier, above=True))
                found.append(self.constant_burn(tier, above=False))
        found += [self.outage(), self.idle(), self.vanished()]
        return [g for g in found if g is not None]


def slo_test_groups(plan: Plan, slo: SLO, interval: int) -> list[dict[str, Any]]:
    """Raises Underivable when the SLI cannot be driven by generated series."""
    return [g.data() for g in SLOTests(plan, slo, interval).groups()]
