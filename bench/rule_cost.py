"""Rule evaluation cost: one real Prometheus 2.42 per shape over a copy of the same data dir.

Each run: copy the settled data dir, start Prometheus with the shape's rule files and the live
feeder as its only scrape target, wait ``warmup`` seconds, then read ``/metrics`` once per
evaluation interval for ``cycles`` intervals. Reported per run:

* ``group_seconds``: sum over the shape's rule groups of
  ``prometheus_rule_group_last_duration_seconds`` (the wall time one evaluation round costs; a
  group with a longer ``interval`` is weighted by global interval / its interval), median over
  the sampled cycles;
* ``rule_eval_p50/p99``: ``prometheus_rule_evaluation_duration_seconds`` quantiles (all rules);
* ``samples``: sum of ``prometheus_rule_group_last_evaluation_samples`` (2.42's name for what
  later versions also call that; ``prometheus_rule_group_last_samples`` does not exist in 2.42);
* ``eval_seconds_per_round``: growth of ``prometheus_rule_evaluation_duration_seconds_sum`` over
  the measured period divided by the evaluation rounds in it (a mean over all rounds, not a
  sample);
* ``cpu_seconds_per_min``: ``process_cpu_seconds_total`` growth per minute over the measured
  cycles (includes scraping the feeder and the TSDB, which the ``none`` baseline run shows);
* ``cpu_seconds_per_round``: the same CPU growth per completed evaluation round, and
  ``rounds_per_min`` (2 at a 30 s interval when evaluation keeps up). When many groups run at
  once on 2 cores, each group's wall time includes waiting for a core, so the wall-time sums
  above overstate the work and this is the measure to compare;
* ``rss_mib``: the largest ``process_resident_memory_bytes`` seen;
* ``missed`` / ``failures``: iterations missed and rule evaluation failures (expected 0).
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import promserver

Metrics = dict[str, list[tuple[dict[str, str], float]]]


@dataclass
class CostResult:
    shape: str
    n_slos: int
    rules: int
    groups: int
    group_seconds: float
    group_seconds_max: float
    eval_seconds_per_round: float
    cpu_seconds_per_round: float
    rounds_per_min: float
    rule_eval_p50: float
    rule_eval_p99: float
    samples: float
    cpu_seconds_per_min: float
    rss_mib: float
    missed: float
    failures: float
    cycles: int
    load_avg_1m: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _sum(m: Metrics, name: str, **match: str) -> float:
    return sum(
        v for labels, v in m.get(name, []) if all(labels.get(k) == x for k, x in match.items())
    )


def _quantile(m: Metrics, q: str) -> float:
    return _sum(m, "prometheus_rule_evaluation_duration_seconds", quantile=q)


def _rounds(first: Metrics, last: Metrics, eval_interval: int) -> float:
    """Evaluation rounds completed in the measured period: iterations of the groups that run at
    the global interval, divided by their number."""
    iters = {
        labels.get("rule_group", ""): v
        for labels, v in last.get("prometheus_rule_group_iterations_total", [])
        if _interval(last, labels.get("rule_group", "")) == eval_interval
    }
    before = {
        labels.get("rule_group", ""): v
        for labels, v in first.get("prometheus_rule_group_iterations_total", [])
    }
    if not iters:
        return 0.0
    return sum(v - before.get(g, 0.0) for g, v in iters.items()) / len(iters)


def _per_round(first: Metrics, last: Metrics, eval_interval: int, name: str) -> float:
    """Growth of counter ``name`` per evaluation round over the measured period."""
    rounds = _rounds(first, last, eval_interval)
    if rounds <= 0:
        return 0.0
    return (_sum(last, name) - _sum(first, name)) / rounds


def _interval(m: Metrics, group: str) -> float:
    for labels, v in m.get("prometheus_rule_group_interval_seconds", []):
        if labels.get("rule_group") == group:
            return v
    return 0.0


def _weighted_last_duration(m: Metrics, eval_interval: int) -> float:
    """Sum of the groups' last evaluation durations, each weighted by how many global rounds
    it runs in (a group with ``interval: 4m`` counts 30s/4m of its duration)."""
    total = 0.0
    for labels, v in m.get("prometheus_rule_group_last_duration_seconds", []):
        interval = _interval(m, labels.get("rule_group", "")) or eval_interval
        total += v * min(1.0, eval_interval / interval)
    return total


def count_rules(rule_files: list[Path]) -> tuple[int, int]:
    import yaml

    rules = groups = 0
    for f in rule_files:
        doc = yaml.safe_load(f.read_text()) or {}
        for g in doc.get("groups", []):
            groups += 1
            rules += len(g.get("rules", []))
    return rules, groups


def measure(
    shape: str,
    n_slos: int,
    rule_files: list[Path],
    data_src: Path,
    work: Path,
    target: str,
    eval_interval: int,
    warmup: float,
    cycles: int,
) -> CostResult:
    run_dir = work / f"cost-{shape}"
    shutil.rmtree(run_dir, ignore_errors=True)
    data = run_dir / "data"
    shutil.copytree(data_src, data, ignore=shutil.ignore_patterns("lock", "queries.active"))
    cfg = run_dir / "prometheus.yml"
    promserver.write_config(cfg, rule_files, target, f"{eval_interval}s")
    rules, groups = count_rules(rule_files)
    print(f"  [{shape}] N={n_slos}: {rules} rules in {groups} groups; warming up {warmup:.0f}s")
    durations: list[float] = []
    samples: list[float] = []
    rss: list[float] = []
    with promserver.running(cfg, data, run_dir / "prometheus.log") as prom:
        time.sleep(warmup)
        first = promserver.parse_metrics(prom.metrics_text())
        t_first = time.monotonic()
        for k in range(cycles):
            time.sleep(eval_interval)
            m = promserver.parse_metrics(prom.metrics_text())
            durations.append(_weighted_last_duration(m, eval_interval))
            samples.append(_sum(m, "prometheus_rule_group_last_evaluation_samples"))
            rss.append(_sum(m, "process_resident_memory_bytes"))
            print(
                f"  [{shape}] cycle {k + 1}/{cycles}: groups {durations[-1]:.4f}s, "
                f"samples {samples[-1]:.0f}, rss {rss[-1] / 2**20:.0f} MiB",
                flush=True,
            )
        last = m
        elapsed = time.monotonic() - t_first
    cpu = _sum(last, "process_cpu_seconds_total") - _sum(first, "process_cpu_seconds_total")
    shutil.rmtree(data, ignore_errors=True)
    return CostResult(
        shape=shape,
        n_slos=n_slos,
        rules=rules,
        groups=groups,
        group_seconds=statistics.median(durations),
        group_seconds_max=max(durations),
        eval_seconds_per_round=_per_round(
            first, last, eval_interval, "prometheus_rule_evaluation_duration_seconds_sum"
        ),
        cpu_seconds_per_round=_per_round(first, last, eval_interval, "process_cpu_seconds_total"),
        rounds_per_min=_rounds(first, last, eval_interval) / elapsed * 60,
        rule_eval_p50=_quantile(last, "0.5"),
        rule_eval_p99=_quantile(last, "0.99"),
        samples=statistics.median(samples),
        cpu_seconds_per_min=cpu / elapsed * 60,
        rss_mib=max(rss) / 2**20,
        missed=_sum(last, "prometheus_rule_group_iterations_missed_total"),
        failures=_sum(last, "prometheus_rule_evaluation_failures_total"),
        cycles=cycles,
        load_avg_1m=os.getloadavg()[0],
    )
