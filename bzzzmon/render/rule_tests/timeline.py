"""Test groups on a sample grid: input series built from phases, and checks of firing alerts.

Every test file evaluates its rules every ``interval`` seconds from t=0, and every input series has
a sample at each multiple of the same interval. The interval is chosen so that it divides none of
the rule windows (5m, 1h, 3d, 28d...): no sample, raw or recorded, ever sits exactly on a range
boundary, so Prometheus 2.x (ranges closed on the left) and 3.x (open on the left) select the same
samples and agree on every result.

Checks query the ``ALERTS`` series the rule evaluation writes: labels are exact, and annotations
(templates of the live value) stay out of the comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from bzzzmon.promql.numbers import format_fraction, to_decimal
from bzzzmon.render.rule_tests.inputs import Series, labels_text
from bzzzmon.render.text import go_expanded

# Primes near 100 s: the first that divides no window is the file's interval. Below 150 s, so a
# 5m rate always has at least two samples.
_INTERVALS = (97, 89, 83, 79, 73, 71, 67, 61, 59, 53)

Labels = dict[str, str]


def pick_interval(windows: list[int]) -> int:
    for candidate in _INTERVALS:
        if all(w % candidate for w in windows):
            return candidate
    raise ValueError("no test interval avoids every window")  # pragma: no cover


def steps_for(seconds: int | Fraction, interval: int) -> int:
    """Whole intervals covering ``seconds``."""
    if type(seconds) is int:
        return max(0, -(-seconds // interval))  # the same ceiling in integers
    return max(0, math.ceil(Fraction(seconds) / interval))


def number(value: Fraction | Decimal | int) -> str:
    """Series values: exact when the decimal terminates, else 12 significant digits."""
    if type(value) is int:
        return str(value)  # what format_fraction prints for a whole number
    frac = value if isinstance(value, Fraction) else Fraction(value)
    if frac.denominator == 1 or to_decimal(frac) is not None:
        return format_fraction(frac)
    return format(float(frac), ".12g")


@dataclass
class Track:
    """The samples of one series: counter increments or gauge values, phase by phase."""

    series: Series
    counter: bool
    parts: list[str] = field(default_factory=list)
    samples: int = 0
    last: Fraction | int = 0  # an int while the counter moves by whole events

    def grow(self, per_step: Fraction | int, samples: int) -> None:
        """``samples`` more samples, each ``per_step`` above the one before (a counter)."""
        if samples <= 0:
            return
        if self.samples == 0:
            self.parts.append(number(self.last))
            self.samples = 1
            samples -= 1
            if samples == 0:
                return
        self.samples += samples
        if per_step.denominator == 1 and self.last.denominator == 1:
            # Whole events (nearly every counter): integer arithmetic, printed as number() does.
            step, begin = per_step.numerator, self.last.numerator + per_step.numerator
            self.parts.append(f"{begin}+{step}x{samples - 1}")
            self.last = begin + step * (samples - 1)
            return
        start = self.last + per_step
        self.parts.append(f"{number(start)}+{number(per_step)}x{samples - 1}")
        self.last = start + per_step * (samples - 1)

    def hold(self, value: Fraction | Decimal | int, samples: int) -> None:
        """``samples`` more samples of a gauge at ``value``."""
        if samples <= 0:
            return
        self.parts.append(f"{number(value)}+0x{samples - 1}")
        self.samples += samples

    def data(self) -> dict[str, str]:
        return {"series": self.series.text(), "values": " ".join(self.parts)}


def firing_query(alertname: str, **match: str) -> str:
    if not match:
        return _firing_query(alertname)
    return labels_text("ALERTS", {"alertname": alertname, "alertstate": "firing"} | match)


@lru_cache(maxsize=1 << 14)  # an SLO's tests ask the same query at every pinned step
def _firing_query(alertname: str) -> str:
    return labels_text("ALERTS", {"alertname": alertname, "alertstate": "firing"})


def firing_labels(alertname: str, rule_labels: Labels, expr_labels: Labels) -> Labels:
    """The ``ALERTS`` labels of a firing alert: the expression's result labels, overridden by
    the rule's own labels."""
    rendered = {k: go_expanded(v) for k, v in rule_labels.items()}
    return expr_labels | rendered | {"alertname": alertname, "alertstate": "firing"}


@dataclass
class Group:
    interval: int
    tracks: list[Track] = field(default_factory=list)
    checks: list[tuple[int, str, list[Labels]]] = field(default_factory=list)

    def track(self, series: Series, counter: bool, start: int = 0) -> Track:
        """A new input series; a counter's first sample is ``start``."""
        t = Track(series, counter, last=start)
        self.tracks.append(t)
        return t

    def expect(self, step: int, query: str, firing: list[Labels]) -> None:
        """At sample ``step``, ``query`` over ALERTS returns exactly ``firing`` (label sets)."""
        self.checks.append((max(step, 0), query, firing))

    def data(self, texts: dict[int, str] | None = None) -> dict[str, Any]:
        """``texts``: label sets' texts by id, shared by groups whose checks share the label
        sets (they must stay alive as long as it)."""
        tests = []
        texts = {} if texts is None else texts
        for step, query, firing in sorted(self.checks, key=lambda c: (c[0], c[1])):
            if len(firing) > 1:
                firing = sorted(firing, key=lambda x: sorted(x.items()))
            samples = []
            for labels in firing:
                text = texts.get(id(labels))
                if text is None:
                    text = texts[id(labels)] = labels_text("ALERTS", labels)
                samples.append({"labels": text, "value": 1})
            tests.append(
                {"expr": query, "eval_time": f"{step * self.interval}s", "exp_samples": samples}
            )
        return {
            "interval": f"{self.interval}s",
            "input_series": [t.data() for t in self.tracks],
            "promql_expr_test": tests,
        }
