"""promtool tests for threshold alerts: far side fires after ``for:``, near side and blips don't.

The input series come from the alert's ``value_expr`` (see inputs.py). Conditions without a
threshold get explicit cases by shape: no selector at all (``vector(1)``: always fires), and
alternatives joined by ``or`` of ``selector OP number`` and ``absent(selector)`` (fires on the
value and on absence).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import promql_parser

from bzzzmon.model import Alert, Plan
from bzzzmon.promql.parse import parse, selectors
from bzzzmon.render.rule_tests.held import Driven, condition_held, derive_driven
from bzzzmon.render.rule_tests.inputs import (
    Series,
    Underivable,
    ValueInput,
    comparison_sides,
    derive,
    equality_labels,
    matches,
    one_selector,
    unwrap,
)
from bzzzmon.render.rule_tests.timeline import (
    Group,
    Labels,
    firing_labels,
    firing_query,
    steps_for,
)
from bzzzmon.render.rules import threshold_rule
from bzzzmon.slo.windows import BASE_WINDOW


def _literal(node: Any) -> Decimal:
    return Decimal(str(node.val))


def _is_comparison(node: Any) -> bool:
    """``x OP number``, not ``bool``."""
    return (
        isinstance(node, promql_parser.BinaryExpr)
        and str(node.op) in ("<", "<=", ">", ">=", "==", "!=")
        and isinstance(node.rhs, promql_parser.NumberLiteral)
        and not (node.modifier is not None and node.modifier.return_bool)
    )


class ThresholdTests:
    def __init__(self, plan: Plan, alert: Alert, interval: int) -> None:
        self.alert = alert
        self.metrics = plan.metrics
        self.interval = interval
        self.rule_labels: Labels = dict(threshold_rule(plan, alert)["labels"])
        self.query = firing_query(alert.name)

    def _firing(self, expr_labels: Labels) -> Labels:
        return firing_labels(self.alert.name, self.rule_labels, expr_labels)

    def _steps(self, seconds: int | Fraction) -> int:
        return steps_for(seconds, self.interval)

    def _feed(self, group: Group, value: ValueInput) -> Any:
        return group.track(value.series, counter=value.kind == "counter")

    def _run(self, track: Any, driven: Driven, level: Decimal, samples: int) -> None:
        value = driven.value
        if value.kind == "counter":
            track.grow(value.slope(driven.level(level)) * self.interval, samples)
        else:
            track.hold(driven.level(level), samples)

    def _hold_others(self, group: Group, driven: Driven) -> Group:
        """The held series, constant for as long as the driver runs."""
        samples = max(t.samples for t in group.tracks)
        for held in driven.held:
            group.track(held.series, counter=False).hold(held.value, samples)
        return group

    def comparison(self, driven: Driven, op: str, threshold: Decimal) -> list[Group]:
        """Near side long enough to fire if it could, then the far side: fires after ``for:``."""
        alert = self.alert
        value = driven.value
        far, near = comparison_sides(op, threshold)
        window = value.range_seconds or BASE_WINDOW
        if value.kind == "counter":
            # A rate is computed, not copied: keep the near side a clear step off the threshold.
            step = abs(threshold) / 10 if threshold != 0 else Decimal(1)
            near = threshold - step if op in (">", ">=", "!=") else threshold + step
            if op in ("==", "!="):
                raise Underivable("equality on a rate")
            if near < 0:
                # A counter never falls: the quiet side of ``rate > 0`` is a flat counter (a
                # negative rate would be a counter reset, which promtool reads as growth).
                if op != ">" or threshold != 0:
                    raise Underivable("a counter's rate is never on the quiet side")
                near = Decimal(0)
        firing = [self._firing(value.output_labels)]
        groups = []

        group = Group(self.interval)
        track = self._feed(group, value)
        quiet = self._steps(alert.for_ + window) + 2
        self._run(track, driven, near, quiet)
        group.expect(quiet - 1, self.query, [])
        start = quiet * self.interval  # the first far-side sample
        if value.kind == "counter":
            start -= self.interval
        lag = window if value.kind == "counter" else 0
        group.expect(math.floor((start + alert.for_) / self.interval) - 1, self.query, [])
        fired = math.ceil((start + lag + alert.for_) / self.interval) + 1
        group.expect(fired, self.query, firing)
        self._run(track, driven, far, fired - quiet + 1)
        groups.append(self._hold_others(group, driven))

        if alert.for_ >= self.interval and value.kind == "gauge":
            # A blip on the far side, shorter than for:, between two near-side stretches.
            blip = Group(self.interval)
            track = self._feed(blip, value)
            before = self._steps(BASE_WINDOW) + 1
            held = max(1, alert.for_ // self.interval)
            after = self._steps(alert.for_) + 2
            self._run(track, driven, near, before)
            self._run(track, driven, far, held)
            self._run(track, driven, near, after)
            blip.expect(before + held, self.query, [])
            blip.expect(before + self._steps(alert.for_), self.query, [])
            blip.expect(before + held + after - 1, self.query, [])
            groups.append(self._hold_others(blip, driven))
        return groups

    def always(self) -> list[Group]:
        group = Group(self.interval)
        fired = self._steps(self.alert.for_) + 1
        group.expect(fired, self.query, [self._firing({})])
        # A series that only sets the evaluation's length.
        return [group] if self._anchor(group, fired) else []

    def _anchor(self, group: Group, samples: int) -> bool:
        group.track(Series("bzzzmon_test_clock", ()), counter=False).hold(0, samples + 1)
        return True

    def alternatives(self, parts: list[Any]) -> list[Group]:
        """``A OP c or absent(B)``-shaped conditions: one case per alternative."""
        comparisons = []
        absents = []
        joined: list[tuple[Any, Any, bool]] = []  # (comparison, condition, keep)
        for part in parts:  # unwrapped by groups()
            if isinstance(part, promql_parser.Call) and part.func.name == "absent":
                absents.append(part)
            elif isinstance(part, promql_parser.BinaryExpr) and str(part.op) in ("and", "unless"):
                joined.append((unwrap(part.lhs), part.rhs, str(part.op) == "and"))
            elif _is_comparison(part):
                comparisons.append(part)
            else:
                raise Underivable("an alternative that is neither a comparison nor absent()")
        groups: list[Group] = []
        for part in comparisons:
            value = derive(part.lhs.prettify(), self.metrics)
            for absent in absents:
                used = list(selectors(absent))
                if not all(matches(u, value.series) for u in used):
                    raise Underivable("absent() of a series the comparison does not feed")
            groups += self.comparison(Driven(value), str(part.op), _literal(part.rhs))
        for comparison, condition, keep in joined:
            if absents or not _is_comparison(comparison):
                raise Underivable("and/unless of something other than two comparisons")
            driven = derive_driven(comparison.lhs.prettify(), self.metrics)
            held = condition_held(condition, keep, driven.value.series, self.metrics)
            groups += self.comparison(
                driven.holding(held), str(comparison.op), _literal(comparison.rhs)
            )
        for absent in absents:
            inner = absent.args[0]
            labels: Labels = {}
            if isinstance(inner, promql_parser.VectorSelector):
                labels = equality_labels(one_selector(inner.prettify()))
            group = Group(self.interval)
            fired = self._steps(self.alert.for_) + 1
            group.expect(fired - 2, self.query, [])
            group.expect(fired, self.query, [self._firing(labels)])
            self._anchor(group, fired)
            groups.append(group)
        return groups

    def groups(self) -> list[Group]:
        alert = self.alert
        if alert.op is not None and alert.threshold is not None:
            driven = derive_driven(alert.value_expr, self.metrics)
            return self.comparison(driven, alert.op, alert.threshold)
        node = parse(alert.expr)
        if not list(selectors(node)):
            return self.always()
        parts: list[Any] = []
        stack = [node]
        while stack:
            current = unwrap(stack.pop())
            if isinstance(current, promql_parser.BinaryExpr) and str(current.op) == "or":
                stack += [current.rhs, current.lhs]
            else:
                parts.append(current)
        return self.alternatives(parts)


def threshold_test_groups(plan: Plan, alert: Alert, interval: int) -> list[dict[str, Any]]:
    """Raises Underivable when no case can be generated for the alert."""
    return [g.data() for g in ThresholdTests(plan, alert, interval).groups()]
