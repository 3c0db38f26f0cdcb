"""Alert states from an expression's values, as Prometheus' alerting rule computes them.

At each evaluation a series of the result is active; a new one is pending from that evaluation
(its ActiveAt) and fires once ``t - ActiveAt >= for``; a series missing from an evaluation is
resolved there. The alert's labels are the series' labels with the rule's labels on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bzzzmon.backtest.prom import Series
from bzzzmon.backtest.rules import Rule


@dataclass(frozen=True)
class Episode:
    """One alert series from the evaluation it became active to the one it resolved at."""

    labels: dict[str, str]  # alertname included
    active: int  # unix seconds: the first evaluation it held (pending from here)
    fired: int | None  # the first evaluation it was firing; None: it never fired
    end: int  # the evaluation it was resolved at (or the range end + step: still active)
    peak: float  # the largest value while firing (while pending if it never fired)
    open_start: bool  # active at the range's first evaluation: its history before is unknown
    open_end: bool  # still active at the range's last evaluation
    step: int  # the rule's evaluation interval

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]

    @property
    def firing_seconds(self) -> int:
        return 0 if self.fired is None else self.end - self.fired

    def state_at(self, t: int) -> str:
        if not self.active <= t < self.end:
            return ""
        return "firing" if self.fired is not None and t >= self.fired else "pending"


def alert_labels(rule: Rule, series: dict[str, str]) -> dict[str, str]:
    return {**series, **rule.labels, "alertname": rule.name}


def _runs(points: list[tuple[int, float]], step: int) -> Iterator[list[tuple[int, float]]]:
    """Maximal runs of consecutive evaluations (a missing evaluation resolves the alert)."""
    run: list[tuple[int, float]] = []
    for t, v in points:
        if run and t != run[-1][0] + step:
            yield run
            run = []
        run.append((t, v))
    if run:
        yield run


def episodes(
    rule: Rule, result: Iterable[Series], start: int, end: int, step: int
) -> list[Episode]:
    """The episodes of ``rule`` given its expression's values on the grid ``start + k*step``."""
    out: list[Episode] = []
    for series in result:
        labels = alert_labels(rule, series.labels)
        for run in _runs(series.points, step):
            active = run[0][0]
            fired_at = [(t, v) for t, v in run if t - active >= rule.for_]
            fired = fired_at[0][0] if fired_at else None
            peak = max(v for _, v in (fired_at or run))
            out.append(
                Episode(
                    labels=labels,
                    active=active,
                    fired=fired,
                    end=run[-1][0] + step,
                    peak=peak,
                    open_start=active == start,
                    open_end=run[-1][0] + step > end,
                    step=step,
                )
            )
    return sorted(out, key=lambda e: (e.active, sorted(e.labels.items())))
