"""A cost measure that does not depend on how busy the machine is: the samples one evaluation
round of a shape's rules reads, from Prometheus' own query statistics.

Every rule expression (recording and alerting) is run once as an instant query with
``stats=all`` at the end of the backfilled data, and ``samples.totalQueryableSamples`` is summed.
The raw counters and the 5m base series are backfilled for the whole period, so the windows over
them read what they would read in steady state. A rule that reads a series the *same* shape
records but the benchmark does not backfill (e.g. Sloth's 1h ratio in its alert) reads nothing
here instead of one sample per series: a difference of a few samples per rule.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bench.accuracy import duration_seconds
from bench.promserver import Prometheus, http_get


@dataclass
class SampleCost:
    shape: str
    rules: int = 0
    samples: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    slos: int = 0


def queryable_samples(prom: Prometheus, expr: str, at: int) -> int:
    params = urllib.parse.urlencode({"query": expr, "time": str(at), "stats": "all"})
    body = json.loads(http_get(f"{prom.url}/api/v1/query?{params}"))
    if body.get("status") != "success":
        raise RuntimeError(f"query failed: {body}")
    stats = body["data"].get("stats") or {}
    return int(stats.get("samples", {}).get("totalQueryableSamples", 0))


def kind_of(rule: dict[str, object]) -> str:
    if "alert" in rule:
        return "alerts"
    rec = str(rule.get("record", ""))
    expr = str(rule.get("expr", ""))
    if "[28d]" in expr or "[30d]" in expr or "[4w]" in expr:
        return "period"
    if "rate(" in expr or "increase(" in expr:
        return "windows (raw series)"
    if "_over_time(" in expr:
        return "windows (recorded series)"
    return "meta" if rec else "other"


def measure(
    prom: Prometheus,
    shape: str,
    rule_files: list[Path],
    at: int,
    eval_interval: int,
    slos: set[str] | None = None,
) -> SampleCost:
    """Samples read per global evaluation round (a group with a longer ``interval`` counts
    ``eval_interval / interval`` of its samples); with ``slos``, only the rules of those SLOs
    (groups whose name contains the SLO's name)."""
    cost = SampleCost(shape)
    seen: set[str] = set()
    for f in rule_files:
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            name = str(g.get("name", ""))
            if slos is not None:
                hit = next((s for s in slos if s in name), None)
                if hit is None:
                    continue
                seen.add(hit)
            interval = duration_seconds(str(g.get("interval", f"{eval_interval}s")))
            weight = eval_interval / interval
            for r in g.get("rules", []):
                n = round(queryable_samples(prom, str(r["expr"]), at) * weight)
                cost.rules += 1
                cost.samples += n
                k = kind_of(r)
                cost.by_kind[k] = cost.by_kind.get(k, 0) + n
    cost.slos = len(seen) if slos is not None else 0
    return cost
