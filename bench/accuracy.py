"""Accuracy: each shape's period error ratio and budget remaining against the exact value, and the
alerts each shape's burn-rate rules raise on the known error episodes.

Method. A Prometheus without rules serves the settled data dir (raw counters plus the backfilled
5m base series). Every expression a shape records is *inlined*: a reference to one of its own
recording rules is replaced by that rule's expression (with the rule's static labels put back by
``label_replace``), down to the raw counters or the backfilled base series. So

* the period ratio is each shape's own period rule, evaluated as an instant query at the end of
  the period (``end``) - exactly what the recording rule would yield at that instant;
* an alert tier's condition is evaluated as a range query over the whole period (step 60 s for
  the page tiers, 300 s for the ticket tiers); ``for:`` is applied afterwards (a tier fires at the
  first step its condition has held for ``for``). A firing that starts inside an episode or within
  the tier's long window after it is attributed to that episode; any other firing is spurious.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench import peers
from bench.promserver import Prometheus
from bzzzmon import conventions as C

SELECTOR = re.compile(r"\b([a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+)\{([^}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"')
# bzzzmon's base series (and the hourly-level shape's sums); Sloth's is its 5m ratio.
BASE_SERIES = {
    C.rec_name(C.REC_BAD_RATE, "5m"),
    C.rec_name(C.REC_TOTAL_RATE, "5m"),
    C.REC_BAD_SUM_1H,
    C.REC_TOTAL_SUM_1H,
}
MAX_POINTS = 10_000


def duration_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    total = 0
    for num, unit in re.findall(r"(\d+)([smhdw])", text):
        total += int(num) * units[unit]
    return total


@dataclass
class Recorded:
    name: str
    labels: dict[str, str]
    expr: str


class Inliner:
    """Replaces references to a shape's recording rules by their expressions."""

    def __init__(self, rule_files: list[Path]) -> None:
        self.rules: dict[str, list[Recorded]] = {}
        for f in rule_files:
            for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
                for r in g.get("rules", []):
                    if "record" in r:
                        rec = Recorded(r["record"], dict(r.get("labels") or {}), str(r["expr"]))
                        self.rules.setdefault(rec.name, []).append(rec)

    @staticmethod
    def is_base(name: str, matchers: dict[str, str]) -> bool:
        if name in BASE_SERIES:
            return True
        return name == "slo:sli_error:ratio_rate5m" and "sloth_id" in matchers

    def find(self, name: str, matchers: dict[str, str]) -> Recorded | None:
        hits = [
            r
            for r in self.rules.get(name, [])
            if all(r.labels.get(k) == v for k, v in matchers.items())
        ]
        if len(hits) > 1:
            raise ValueError(f"ambiguous reference {name}{matchers}: {len(hits)} rules match")
        return hits[0] if hits else None

    def inline(self, expr: str, depth: int = 0) -> str:
        if depth > 8:
            raise ValueError(f"recording rules nest too deep: {expr}")

        def repl(m: re.Match[str]) -> str:
            name, body = m.group(1), m.group(2)
            matchers = dict(MATCHER.findall(body))
            if self.is_base(name, matchers):
                return m.group(0)
            rec = self.find(name, matchers)
            if rec is None:
                return m.group(0)
            all_matchers = [x.strip() for x in body.split(",") if x.strip()]
            if len(all_matchers) != len(matchers) or not set(matchers) <= set(rec.labels):
                # A matcher on a label the rule's expression produces (e.g. `code=~"5.."` on a
                # `sum by (code)` rule) cannot be kept by inlining.
                raise ValueError(f"cannot inline {m.group(0)}: matchers beyond the rule's labels")
            inner = f"({self.inline(rec.expr, depth + 1).strip()})"
            for k, v in sorted(rec.labels.items()):
                inner = f'label_replace({inner}, "{k}", "{v}", "", "")'
            return inner

        return SELECTOR.sub(repl, expr)


def scalar(result: list[dict[str, Any]]) -> float:
    if not result:
        return math.nan
    return float(result[0]["value"][1])


@dataclass
class PeriodRow:
    shape: str
    slo: str
    exact: float
    value: float
    objective: float

    @property
    def rel_error(self) -> float:
        if math.isnan(self.value):
            return math.nan
        return (self.value - self.exact) / self.exact

    def budget_remaining(self, ratio: float) -> float:
        return 1 - ratio / (1 - self.objective)


def period_rows(
    prom: Prometheus,
    shape: str,
    period_exprs: dict[str, str],
    truth: dict[str, float],
    end: int,
    objective: float,
) -> list[PeriodRow]:
    return [
        PeriodRow(shape, slo, truth[slo], scalar(prom.query(expr, end)), objective)
        for slo, expr in sorted(period_exprs.items())
    ]


# --- period expressions per shape ---------------------------------------------------------------
def bzzzmon_period_exprs(rule_files: list[Path], slos: list[str], period: str) -> dict[str, str]:
    inl = Inliner(rule_files)
    out = {}
    for slo in slos:
        out[slo] = inl.inline(f'{C.rec_name(C.REC_ERROR_RATIO, period)}{{slo="{slo}"}}')
    return out


def sloth_period_exprs(rule_files: list[Path], slos: list[peers.Slo]) -> dict[str, str]:
    inl = Inliner(rule_files)
    return {
        s.name: inl.inline(f"slo:sli_error:ratio_rate{s.period}{{{peers.sloth_sel(s)}}}")
        for s in slos
    }


def sloth_nan_skipped_exprs(slos: list[peers.Slo], step: int) -> dict[str, str]:
    """Sloth's mean of 5m ratios, but skipping NaN 5m ratios (what it would give if 0/0 windows
    did not exist): isolates the traffic-weighting bias from the NaN poisoning."""
    out = {}
    for s in slos:
        inner = f"(slo:sli_error:ratio_rate5m{{{peers.sloth_sel(s)}}} >= 0)[{s.period}:{step}s]"
        out[s.name] = f"sum_over_time({inner}) / count_over_time({inner})"
    return out


def pyrra_period_exprs(slos: list[peers.Slo]) -> dict[str, str]:
    """Pyrra's period ratio: its ``increase`` over the period, recorded by ``code``, summed for
    the bad codes and for all of them - i.e. this expression."""
    return {
        s.name: f"sum(increase({s.bad}[{s.period}])) / sum(increase({s.total}[{s.period}]))"
        for s in slos
    }


# --- alerts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TierCondition:
    shape: str
    slo: str
    tier: str
    severity: str
    long: int
    for_: int
    expr: str  # inlined


def bzzzmon_conditions(rule_files: list[Path], slos: set[str]) -> list[TierCondition]:
    inl = Inliner(rule_files)
    out = []
    for f in rule_files:
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            for r in g.get("rules", []):
                labels = r.get("labels") or {}
                if "alert" not in r or "tier" not in labels or labels.get("slo") not in slos:
                    continue
                tier = next(t for t in peers.BZZZMON_TIERS if t.name == labels["tier"])
                out.append(
                    TierCondition(
                        "bzzzmon",
                        labels["slo"],
                        tier.name,
                        tier.severity,
                        duration_seconds(tier.long),
                        duration_seconds(str(r.get("for", "0s"))),
                        inl.inline(str(r["expr"])),
                    )
                )
    return out


def peer_conditions(
    shape: str, rule_files: list[Path], slos: list[peers.Slo]
) -> list[TierCondition]:
    inl = Inliner(rule_files)
    out = []
    for s in slos:
        tiers = peers.SLOTH_TIERS if shape == "sloth" else peers.PYRRA_TIERS
        for t in tiers:
            cond = (
                peers.sloth_tier_condition(s, t)
                if shape == "sloth"
                else peers.pyrra_tier_condition(s, t)
            )
            out.append(
                TierCondition(
                    shape,
                    s.name,
                    t.name,
                    t.severity,
                    duration_seconds(t.long),
                    duration_seconds(t.for_),
                    inl.inline(cond),
                )
            )
    return out


def true_steps(prom: Prometheus, expr: str, start: int, end: int, step: int) -> list[int]:
    """Timestamps (over [start, end] at ``step``) at which ``expr`` returns a sample."""
    out: set[int] = set()
    t = start
    while t <= end:
        t_end = min(end, t + step * (MAX_POINTS - 1))
        for series in prom.query_range(expr, t, t_end, step):
            out.update(int(float(ts)) for ts, _ in series["values"])
        t = t_end + step
    return sorted(out)


def firings(steps: list[int], step: int, for_: int) -> list[int]:
    """Alert onsets: the first step at which the condition has held continuously for ``for_``."""
    onsets = []
    run_start = None
    prev = None
    fired = False
    for t in steps:
        if prev is None or t - prev > step:
            run_start, fired = t, False
        if not fired and run_start is not None and t - run_start >= for_:
            onsets.append(t)
            fired = True
        prev = t
    return onsets


@dataclass
class AlertOutcome:
    shape: str
    slo: str
    tier: str
    severity: str
    for_: int
    onsets: list[int]


def evaluate_alerts(
    prom: Prometheus, conds: list[TierCondition], start: int, end: int, progress: bool = True
) -> list[AlertOutcome]:
    out = []
    for k, c in enumerate(conds):
        step = 60 if c.severity == "page" else 300
        steps = true_steps(prom, c.expr, start, end, step)
        out.append(
            AlertOutcome(c.shape, c.slo, c.tier, c.severity, c.for_, firings(steps, step, c.for_))
        )
        if progress:
            print(
                f"  alerts {k + 1}/{len(conds)} {c.shape} {c.slo} {c.tier}: "
                f"{len(out[-1].onsets)} onsets",
                flush=True,
            )
    return out


def attribute(
    outcomes: list[AlertOutcome],
    episodes: list[dict[str, Any]],
    long_of: dict[tuple[str, str], int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per (shape, episode): first page and ticket delay; and the spurious firings."""
    by_slo: dict[str, list[dict[str, Any]]] = {}
    for e in episodes:
        by_slo.setdefault(e["slo"], []).append(e)
    detections: dict[tuple[str, str, str], dict[str, Any]] = {}
    spurious = []
    for o in outcomes:
        long = long_of[(o.shape, o.tier)]
        for t in o.onsets:
            ep = next(
                (e for e in by_slo.get(o.slo, []) if e["start"] <= t <= e["end"] + long), None
            )
            if ep is None:
                spurious.append({"shape": o.shape, "slo": o.slo, "tier": o.tier, "at": t})
                continue
            key = (o.shape, o.slo, ep["kind"])
            d = detections.setdefault(
                key,
                {"shape": o.shape, "slo": o.slo, "kind": ep["kind"], "meant_for": ep["meant_for"],
                 "page": None, "ticket": None, "page_condition": None, "ticket_condition": None,
                 "tiers": {}},
            )  # fmt: skip
            delay = t - ep["start"]
            if d[o.severity] is None or delay < d[o.severity]:
                d[o.severity] = delay
            cond = f"{o.severity}_condition"
            if d[cond] is None or delay - o.for_ < d[cond]:
                d[cond] = delay - o.for_
            if o.tier not in d["tiers"] or delay < d["tiers"][o.tier]:
                d["tiers"][o.tier] = delay
    return list(detections.values()), spurious
