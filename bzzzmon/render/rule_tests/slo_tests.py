"""promtool tests for one SLO's alerts: burn-rate tiers, missing data and budget exhaustion.

Every burn-rate check is pinned to one evaluation step: ``bzzzmon.slo.replay`` evaluates the
generated rules exactly on the test's sample grid, and each check asserts the whole set of firing
tiers one step before and at the step a tier starts or stops firing. Scenarios (one test group
each), with steady traffic of EVENTS events per sample:
- constant burn just above each tier's threshold (factor * budget) from the start, for as long
  as the tier's long window when that window is prorated (built from the 5m rates): that tier
  fires, no other tier does, and it resolves after the burn stops; just below it: quiet (a time
  SLI's condition is true or false per sample: it burns by one bad sample in every n instead);
- a 10-minute total outage after a healthy history as long as the longest window: the most
  urgent tier fires and resolves at the replayed steps, and no tier fires after the outage ended;
- a total outage after two hours of history: the budget-exhausted alert waits until the bad
  events exceed the budget of the whole period's traffic, not of the two hours seen;
- an idle service (series present, no events) raises no missing-data or burn alert; vanished
  series raise the missing-data alert after the lookback and its ``for:``; for a grouped SLI, one
  group vanishing raises that group's missing-data alert.
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
    matches,
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
from bzzzmon.slo.replay import Feed, Replay, replay_once, replay_shape
from bzzzmon.slo.windows import BASE_WINDOW, error_ratio_threshold

EVENTS = 100_000  # events per sample: error ratios down to 1e-5 are exact integers of events
MARGIN = Fraction(1, 10)  # "just above/below": 10% off the threshold
OUTAGE = 600  # the total outage scenario: 10 minutes


@dataclass(frozen=True)
class SLIFeed:
    """The input series of an SLI and how to drive them: ``bad`` events of EVENTS per sample."""

    kind: str
    # ratio: (bad, rest of the total, or the total when bad_in_total is False); latency: (fast
    # bucket, count)
    counters: tuple[Series, Series]
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
                # A bad counter of its own (failures_total beside evaluations_total) is not one
                # of the total's series: the total's then counts the bad events too.
                bad_in_total=matches(one_selector(total), bad),
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
    if sli.kind == "promql":
        # Series for arbitrary PromQL cannot be derived; a user test under specs/tests/ can.
        raise Underivable("a promql SLI's inputs cannot be generated; write a test in specs/tests/")
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


COUNTER_START = 10 * EVENTS  # counters start far from 0: rate() never clamps at a zero point


class _Phases:
    """Feeds an SLI phase by phase into promtool input series and the replay's feed at once;
    ``bad`` is the number of bad events per sample."""

    def __init__(self, group: Group, feed: SLIFeed, labels: dict[str, str]) -> None:
        self.feed = feed
        self.samples = 0
        self.runs: list[tuple[int, int, int]] = []  # what determines bad and total, for replay_once
        if feed.kind == "time":
            assert feed.gauge is not None
            self.gauge = group.track(feed.gauge.with_labels(labels, replace=True), counter=False)
        else:
            first, second = (c.with_labels(labels, replace=True) for c in feed.counters)
            self.first = group.track(first, counter=True, start=COUNTER_START)
            self.second = group.track(second, counter=True, start=COUNTER_START)

    def run(self, samples: int, bad: int, events: int = EVENTS) -> None:
        if samples <= 0:
            return
        self.runs.append((samples, bad, events))
        self.samples += samples
        if self.feed.kind == "time":
            self.gauge.hold(self.feed.bad_value if bad else self.feed.good_value, samples)
        elif self.feed.kind == "ratio":
            self.first.grow(bad, samples)
            self.second.grow(events - bad if self.feed.bad_in_total else events, samples)
        else:  # latency: the fast bucket and the count
            self.first.grow(events - bad, samples)
            self.second.grow(events, samples)

    def _events(self) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
        """Bad and total events of every sample, for the replay: built only when an SLO of
        this shape has not replayed these phases yet."""
        bad: list[Fraction] = []
        total: list[Fraction] = []
        for samples, level, events in self.runs:
            if self.feed.kind == "time":
                bad += [Fraction(1 if level else 0)] * samples
                total += [Fraction(1)] * samples
                continue
            # The first sample of a counter has no increment.
            fresh = 1 if not bad else 0
            bad += [Fraction(0)] * fresh + [Fraction(level)] * (samples - fresh)
            total += [Fraction(0)] * fresh + [Fraction(events)] * (samples - fresh)
        return tuple(bad), tuple(total)

    def replay(self, slo: SLO, interval: int, shape: str) -> Replay:
        counter = self.feed.kind != "time"
        return replay_once(
            slo,
            shape,
            (counter, interval, tuple(self.runs)),
            lambda: Feed(interval, counter, *self._events()),
        )


@dataclass
class _Rules:
    """The SLO's alert rules as rules.py renders them, keyed for the checks."""

    tiers: dict[str, Labels]
    missing: Labels | None
    missing_group: Labels | None
    exhausted: Labels | None


def _rules(plan: Plan, slo: SLO) -> _Rules:
    tiers: dict[str, Labels] = {}
    missing = missing_group = exhausted = None
    for rule in slo_alert_rules(plan, slo):
        labels = dict(rule["labels"])
        kind = labels.get(C.LABEL_ALERT_KIND)
        if kind == "burn_rate":
            tiers[labels[C.LABEL_TIER]] = labels
        elif kind == "missing_data" and str(rule["expr"]).startswith("absent("):
            missing = labels
        elif kind == "missing_data":
            missing_group = labels
        elif kind == "budget_exhausted":
            exhausted = labels
    return _Rules(tiers, missing, missing_group, exhausted)


def _absent_labels(raw: str) -> Labels:
    """Labels absent() puts on its result: the selector's equality matchers."""
    node = parse(raw)
    if not isinstance(node, promql_parser.VectorSelector):
        return {}
    return equality_labels(one_selector(raw))


class SLOTests:
    def __init__(self, plan: Plan, slo: SLO, interval: int) -> None:
        self.plan = plan
        self.slo = slo
        self.interval = interval
        self.feed = sli_feed(slo, plan.metrics)
        self.rules = _rules(plan, slo)
        self.series_labels = {C.LABEL_SLO: slo.name} | _group_labels(slo)
        self.fired: set[str] = set()  # tiers some scenario pins firing
        self.shape = replay_shape(slo)
        self._tier_alerts: dict[str, Labels] = {}

    # --- helpers -------------------------------------------------------------------------------
    def _threshold(self, tier: BurnTier) -> Fraction:
        return error_ratio_threshold(tier.factor, self.slo.budget_fraction)

    def _tier_alert(self, tier: BurnTier) -> Labels:
        """The ALERTS labels of ``tier`` firing (made once per tier; every check reads them)."""
        found = self._tier_alerts.get(tier.name)
        if found is None:
            found = self._tier_alerts[tier.name] = firing_labels(
                self.slo.alert_name, self.rules.tiers[tier.name], self.series_labels
            )
        return found

    def _steps(self, seconds: int | Fraction) -> int:
        return steps_for(seconds, self.interval)

    def _filling(self, tier: BurnTier) -> int:
        """Steps a burn from the start needs before ``tier`` can see it whole: a window built
        from the 5m rates is prorated by the share of it that holds data, so it burns as fast as
        the data only once the history is as long as the window."""
        if tier.long in self.slo.raw_windows:
            return 0
        return self._steps(tier.long)

    def _fed_group(self, labels: dict[str, str] | None = None) -> tuple[Group, _Phases]:
        """A new test group and the feed of the SLI's input series in it."""
        group = Group(self.interval)
        return group, _Phases(group, self.feed, labels or _group_labels(self.slo))

    def _expect_tiers(self, group: Group, result: Replay, step: int) -> None:
        """At ``step``, exactly the tiers the replay has firing are firing."""
        if step < 0 or step in result.borderline:
            return
        firing = [
            self._tier_alert(t) for t in self.slo.tiers if result.states[t.name][step] == "firing"
        ]
        group.expect(step, firing_query(self.slo.alert_name), firing)

    def _expect_edges(self, group: Group, result: Replay, tier: BurnTier, after: int) -> int:
        """Pin the step ``tier`` starts firing at or after ``after`` and the step it stops;
        returns the last step checked."""
        fired = result.first(tier.name, "firing", after)
        if fired is None:
            return after
        self.fired.add(tier.name)
        self._expect_tiers(group, result, fired - 1)
        self._expect_tiers(group, result, fired)
        stopped = result.first_not(tier.name, "firing", fired)
        if stopped is None:
            return fired
        self._expect_tiers(group, result, stopped - 1)
        self._expect_tiers(group, result, stopped)
        return stopped

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
        burning = 2 + self._steps(tier.for_) + 2 + self._filling(tier)
        feed.run(burning, bad)
        feed.run(self._steps(tier.short + BASE_WINDOW) + 3, 0)
        result = feed.replay(self.slo, self.interval, self.shape)
        if above:
            if result.first(tier.name) is None:
                return None  # the guard or a more urgent tier covers this level
            self._expect_edges(group, result, tier, 0)
        else:
            self._expect_tiers(group, result, burning - 1)
        return group

    def duty_cycle(self, tier: BurnTier) -> Group | None:
        """A time SLI at a burn just above ``tier``'s threshold: one bad sample in every n, the
        last of each cycle, so the most urgent windows never see more than the slow burn."""
        threshold = self._threshold(tier)
        if threshold >= 1:
            return None
        n = math.floor(1 / (threshold * (1 + MARGIN)))
        if n < 2:
            return None
        group, feed = self._fed_group()
        cycles = 2 + (self._steps(tier.for_) + self._filling(tier)) // n + 1
        for _ in range(cycles):
            feed.run(n - 1, 0)
            feed.run(1, 1)
        feed.run(self._steps(tier.short + BASE_WINDOW) + 3, 0)
        result = feed.replay(self.slo, self.interval, self.shape)
        if result.first(tier.name) is None:
            return None
        self._expect_edges(group, result, tier, 0)
        return group

    def outage(self) -> Group:
        """Healthy history as long as the longest window, a 10-minute total outage, recovery."""
        slo = self.slo
        group, feed = self._fed_group()
        history = self._steps(max(t.long for t in slo.tiers)) + 2
        feed.run(history, 0)
        outage = self._steps(OUTAGE)
        feed.run(outage, EVENTS)
        ended = history + outage
        recovery = self._steps(max(t.short for t in slo.tiers) + BASE_WINDOW) + 3
        feed.run(recovery, 0)
        result = feed.replay(slo, self.interval, self.shape)
        self._expect_tiers(group, result, history - 1)
        last = history
        for tier in slo.tiers:
            last = max(last, self._expect_edges(group, result, tier, history))
        # Nothing starts after the outage has ended, and everything has resolved at the end.
        for step in range(ended, feed.samples, max(1, self._steps(BASE_WINDOW))):
            if not result.any_firing(step):
                self._expect_tiers(group, result, step)
        self._expect_tiers(group, result, feed.samples - 1)
        if self.rules.missing is not None:
            group.expect(last, firing_query(slo.missing_data.name), [])
        return group

    def budget(self) -> Group | None:
        """Two hours of history, then a total outage: the budget is exhausted once the bad
        events exceed the budget of the whole period's traffic (coverage-prorated), give or take
        the coverage estimate (a tenth) and the 4m period group."""
        if self.rules.exhausted is None:
            return None
        slo = self.slo
        group, feed = self._fed_group()
        history = self._steps(2 * 3600)
        feed.run(history, 0)
        start = history * self.interval
        spent = slo.budget_fraction * slo.period  # seconds of total outage the budget allows
        name = slo.budget_exhausted.name
        query = firing_query(name)
        quiet = math.floor((start + spent * Fraction(9, 10)) / self.interval)
        due = start + spent * Fraction(11, 10) + slo.budget_exhausted.for_ + 2 * BASE_WINDOW
        fired = math.ceil(due / self.interval)
        feed.run(fired - history + 1, EVENTS)
        group.expect(history - 1, query, [])
        group.expect(quiet, query, [])
        group.expect(fired, query, [firing_labels(name, self.rules.exhausted, self.series_labels)])
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
        # The whole SLI is gone: only absent() fires, not a per-group alert besides.
        group.expect(math.ceil(due / self.interval) + 1, query, [firing])
        return group

    def group_vanished(self) -> Group | None:
        """Two groups; one stops reporting: its own missing-data alert fires, naming it."""
        if self.rules.missing_group is None:
            return None
        slo = self.slo
        group = Group(self.interval)
        stays = _Phases(group, self.feed, {g: "test-a" for g in slo.group_by})
        goes = _Phases(group, self.feed, {g: "test-b" for g in slo.group_by})
        samples = self._steps(2 * BASE_WINDOW) + 1
        due = (samples - 1) * self.interval + BASE_WINDOW + slo.missing_data.for_
        total = math.ceil(due / self.interval) + 2
        goes.run(samples, 0)
        stays.run(total, 0)
        name = slo.missing_data.name
        query = firing_query(name)
        gone = {C.LABEL_SLO: slo.name} | {g: "test-b" for g in slo.group_by}
        group.expect(math.floor(due / self.interval) - 1, query, [])
        firing = firing_labels(name, self.rules.missing_group, gone)
        group.expect(math.ceil(due / self.interval) + 1, query, [firing])
        return group

    def groups(self) -> list[Group]:
        found: list[Group | None] = []
        for tier in self.slo.tiers:
            if self.feed.fractional:
                found.append(self.constant_burn(tier, above=True))
                found.append(self.constant_burn(tier, above=False))
            else:
                found.append(self.duty_cycle(tier))
        found += [self.outage(), self.budget(), self.idle(), self.vanished()]
        found.append(self.group_vanished())
        return [g for g in found if g is not None]


def slo_test_groups(plan: Plan, slo: SLO, interval: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The test groups, and a note for every tier no scenario makes fire. Raises Underivable
    when the SLI cannot be driven by generated series."""
    tests = SLOTests(plan, slo, interval)
    found = tests.groups()
    texts: dict[int, str] = {}  # the tiers' firing labels, one set per SLO, kept alive by found
    groups = [g.data(texts) for g in found]
    notes = [
        f"{slo.alert_name} tier {t.name}: no generated input fires it without a more urgent "
        f"tier covering it (a time SLI's bad sample weighs 1/n of a short window)"
        for t in slo.tiers
        if t.name not in tests.fired
    ]
    return groups, notes
