"""A backtest run: scratch TSDB, recording rules by level, alerts by round, then the limits.

Every PromQL evaluation is Prometheus' own, by ``query_range`` at each rule's group interval on
one grid from the range start: a recording rule's values are written into the scratch TSDB
(``promtool tsdb create-blocks-from openmetrics``) before the next level reads them from the
scratch Prometheus, which serves the levels already written and reads raw series from the
source. All groups evaluate in lockstep, as in ``promtool test rules``:
``promtool tsdb create-blocks-from rules`` would put each group on its own hash-offset grid
(measured: 5 s before the range's grid for the SLI groups), which moves window edges and flips
comparisons near a threshold. Only ``for:`` and the ALERTS series are computed here
(``episodes``, ``scratch_blocks``).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from bzzzmon import conventions as C
from bzzzmon.backtest import BacktestError, prom
from bzzzmon.backtest.episodes import Episode, episodes
from bzzzmon.backtest.guards import guarded, needed_times
from bzzzmon.backtest.rules import (
    ALERTS,
    PREFIX,
    Rule,
    RuleSet,
    alert_rounds,
    alerts_read,
    needed,
    raw_metrics,
    reads_own,
    reads_raw,
    recording_levels,
    renamed,
    renamer,
)
from bzzzmon.backtest.scratch_blocks import (
    alerts_openmetrics,
    backfill_openmetrics,
    recorded_openmetrics,
)
from bzzzmon.model import Plan

Progress = Callable[[str], None]
Spans = Callable[[Rule], list[prom.Span]]  # where a rule is evaluated
GAP = 300  # a base-rate series missing for longer than this is a gap (Prometheus' lookback)


@dataclass(frozen=True)
class SloBudget:
    slo: str
    alert: str
    objective: str
    error_ratio: float | None  # over the range; None: no events
    budget_spent: float | None  # share of one period's error budget the range used


@dataclass
class Outcome:
    start: int
    end: int
    source_version: str
    episodes: list[Episode]
    steps: dict[str, int]  # alertname -> evaluation interval
    budgets: list[SloBudget]
    limits: list[str]
    timings: dict[str, float] = field(default_factory=dict)


def _name_match(raw: str) -> str:
    """A series selector for a metric name (or ``__name__`` regex) the rules read."""
    if all(c.isalnum() or c in "_:" for c in raw):
        return f'{{__name__="{raw}"}}'
    return f'{{__name__=~"{raw}"}}'


def _check_source(url: str, rules: RuleSet, start: int, end: int) -> tuple[str, list[str]]:
    version = prom.check(url)
    wanted = sorted(raw_metrics(rules))
    present = [m for m in wanted if prom.series_count(url, _name_match(m), start, end)]
    if not present:
        ever = [m for m in wanted if prom.series_count(url, _name_match(m))]
        if ever:
            raise BacktestError(
                f"the Prometheus at {url} has no data between {iso(start)} and {iso(end)} "
                f"for the series the rules read (it has {', '.join(ever[:3])} at other times)"
            )
        raise BacktestError(
            f"the Prometheus at {url} has none of the series the rules read "
            f"(e.g. {', '.join(wanted[:3])}); is it the one that scrapes this service?"
        )
    missing = [m for m in wanted if m not in present]
    limits = []
    if missing:
        limits.append(
            "series absent from the whole range (the rules reading them saw no data): "
            + ", ".join(missing)
        )
    return version, limits


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _coverage_limits(url: str, plan: Plan, start: int, end: int, step: int) -> list[str]:
    """Per SLO: when its base rate first existed and how long it was missing afterwards."""
    out: list[str] = []
    total = PREFIX + C.rec_name(C.REC_TOTAL_RATE, "5m")
    for slo in plan.slos:
        found = prom.query_range(url, f'count({total}{{slo="{slo.name}"}})', start, end, step)
        times = [t for s in found for t, _ in s.points]
        if not times:
            out.append(f"SLO {slo.name}: no events in the range; its alerts could not fire")
            continue
        if times[0] - start > GAP:
            out.append(
                f"SLO {slo.name}: its series start at {iso(times[0])}, not at the range start"
            )
        gaps = [b - a for a, b in pairwise(times) if b - a > GAP]
        if gaps:
            out.append(
                f"SLO {slo.name}: {len(gaps)} scrape gap(s) longer than {GAP // 60}m "
                f"(longest {max(gaps) // 60}m); its alerts resolve there as in Prometheus"
            )
    return out


def _budgets(url: str, plan: Plan, start: int, end: int) -> list[SloBudget]:
    bad = PREFIX + C.rec_name(C.REC_BAD_RATE, "5m")
    total = PREFIX + C.rec_name(C.REC_TOTAL_RATE, "5m")
    span = end - start
    out = []
    for slo in plan.slos:
        sel = f'{{slo="{slo.name}"}}'
        expr = f"sum_over_time({bad}{sel}[{span}s]) / sum_over_time({total}{sel}[{span}s])"
        found = prom.query(url, expr, end)
        ratio = found[0].points[0][1] if found else None
        if ratio is not None and ratio != ratio:  # NaN: no events
            ratio = None
        spent = None if ratio is None else ratio / float(slo.budget) * span / slo.period
        out.append(SloBudget(slo.name, slo.alert_name, str(slo.objective), ratio, spent))
    return out


def run(
    source: str,
    rules: RuleSet,
    plan: Plan,
    start: int,
    end: int,
    progress: Progress,
    resolution: int = 0,
) -> Outcome:
    """Backtest ``rules`` over [start, end] of the Prometheus at ``source``."""
    if end <= start:
        raise BacktestError("the range is empty: --end must be after --start")
    timings: dict[str, float] = {}
    clock = time.monotonic()
    version, limits = _check_source(source, rules, start, end)
    rates = frozenset(C.rec_name(kind, "5m") for kind in (C.REC_BAD_RATE, C.REC_TOTAL_RATE))
    wanted = needed(rules, rates)
    lazy = guarded(wanted, rules.alerting, rates)
    later = {id(g.rule) for g in lazy}
    eager = tuple(r for r in wanted if id(r) not in later)
    levels = recording_levels(dataclasses.replace(rules, recording=eager))
    rounds = alert_rounds(rules)
    names = rules.recorded | {ALERTS}
    pattern = renamer(names)
    base = min((r.interval for r in rules.alerting), default=60)
    with tempfile.TemporaryDirectory(prefix="bzzzmon-backtest-") as tmp:
        work = Path(tmp)
        scratch = prom.Scratch(work / "scratch", source, base)

        def target(batch: list[Rule]) -> str:
            """Where a batch of rules is evaluated: the source when it reads only raw series
            (no hop through the scratch), else the scratch, reading the source only if needed."""
            if not any(reads_own(r, names) for r in batch):
                return source
            scratch.restart(remote=any(reads_raw(r, names) for r in batch))
            return scratch.url

        def ask(rule: Rule, spans: list[prom.Span]) -> tuple[str, int, list[prom.Span]]:
            return renamed(rule.expr, pattern, base), max(rule.interval, resolution), spans

        def record(name: str, url: str, batch: list[Rule], spans: Spans) -> None:
            """Evaluate ``batch`` over ``spans`` of each rule into the scratch TSDB."""
            batch = sorted(batch, key=lambda r: r.name)  # a metric family in one piece
            answers = prom.ranges(url, [ask(r, spans(r)) for r in batch])
            found = ((PREFIX + r.name, r.labels, a) for r, a in zip(batch, answers, strict=True))
            om = work / f"{name}.om"
            if recorded_openmetrics(found, om):
                backfill_openmetrics(om, work / f"{name}-blocks", "the recorded series")
                scratch.add_blocks(work / f"{name}-blocks")
            om.unlink()

        def whole(_: Rule) -> list[prom.Span]:
            return [(start, end)]

        def where_read() -> tuple[str, Spans]:
            """Where the guarded rules are evaluated, and per rule the spans its readers'
            guards make it matter (see guards)."""
            pseudo = [
                Rule("", a.interval, g, alert=a.name)
                for x in lazy
                for a, gs in x.guards
                for g in gs
            ]
            url = target(pseudo + [x.rule for x in lazy])
            asked = sorted(
                {
                    (f"count({renamed(r.expr, pattern, base)})", max(r.interval, resolution))
                    for r in pseudo
                }
            )
            held = {
                q: {t for s in answer for t, _ in s.values}
                for q, answer in zip(
                    asked,
                    prom.ranges(url, [(e, st, [(start, end)]) for e, st in asked]),
                    strict=True,
                )
            }
            runs: dict[int, list[prom.Span]] = {}
            for x in lazy:
                times = []
                for a, gs in x.guards:
                    step = max(a.interval, resolution)
                    sets = [held[(f"count({renamed(g, pattern, base)})", step)] for g in gs]
                    times.append(sorted(set.intersection(*sets)))
                runs[id(x.rule)] = needed_times(times, max(x.rule.interval, resolution), start, end)
            return url, lambda r: runs[id(r)]

        try:
            for k, level in enumerate(levels):
                progress(
                    f"recording rules, level {k + 1}/{len(levels)}: {len(level)} rules "
                    f"({time.monotonic() - clock:.0f}s so far)"
                )
                record(f"level{k}", target(level), level, whole)
            if lazy:
                progress(
                    f"long-window rules where alerts read them: {len(lazy)} rules "
                    f"({time.monotonic() - clock:.0f}s so far)"
                )
                url, spans = where_read()
                record("guarded", url, [x.rule for x in lazy], spans)
            timings["recording rules"] = time.monotonic() - clock
            found: list[Episode] = []
            steps: dict[str, int] = {}
            for k, batch in enumerate(rounds):
                progress(
                    f"alerts, round {k + 1}/{len(rounds)}: {len(batch)} rules "
                    f"({time.monotonic() - clock:.0f}s so far)"
                )
                now: list[Episode] = []
                groups = (
                    [r for r in batch if not reads_own(r, names)],
                    [r for r in batch if reads_own(r, names)],
                )
                for group in groups:
                    if not group:
                        continue
                    url = target(group)
                    asked = [ask(r, whole(r)) for r in group]
                    answers = prom.ranges(url, asked)
                    for rule, (_, step, _), answer in zip(group, asked, answers, strict=True):
                        steps[rule.name] = step
                        result = [s.parsed() for s in answer]
                        now.extend(episodes(rule, result, start, end, step))
                found.extend(now)
                if k + 1 < len(rounds):
                    om = work / f"alerts{k}.om"
                    read = alerts_read(r for later in rounds[k + 1 :] for r in later)
                    if alerts_openmetrics((e for e in now if read(e.labels)), om):
                        backfill_openmetrics(om, work / f"alert-blocks{k}")
                        scratch.add_blocks(work / f"alert-blocks{k}")
            timings["alerts"] = time.monotonic() - clock - timings["recording rules"]
            progress("budgets and coverage")
            scratch.restart(remote=False)
            limits += _coverage_limits(scratch.url, plan, start, end, max(base, 60))
            budgets = _budgets(scratch.url, plan, start, end)
        finally:
            scratch.stop()
    timings["total"] = time.monotonic() - clock
    return Outcome(start, end, version, found, steps, budgets, limits, timings)
