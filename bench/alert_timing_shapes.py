"""Rule files of the three shapes the alert-timing bench plays scenarios through, for one period.

* bzzzmon: whatever the real ``bzzzmon build`` generates from a small spec (a plain ratio SLO and
  the same SLO with ``group_by: [instance]``); nothing of its shape is assumed here.
* Sloth: ``bench/peers.py``'s Sloth shape, with the burn factors Sloth derives for the period
  (budget percent x period / long window: 13.44 at 28d; 7d keeps the 30d windows, Sloth having no
  7d default). Sloth's two alerts (page = fast or slow tier, ticket = fast or slow tier) are split
  into one rule per tier with the same name and a ``tier`` label: the page alert fires exactly
  when one of its tiers does, and the table can say which.
* Pyrra: Pyrra's windows for the period (its ``Windows()``: 28d-relative, 1h/5m, 6h/30m, 1d/2h
  and 4d/6h scaled by period / 28d and rounded to the minute, with ``for:`` the same way) and its
  fixed factors 14, 7, 2, 1; ``grouping: [instance]`` for the grouped SLO; its absent alert.
  A ``tier`` label is added (Pyrra puts ``long``/``short`` there).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from bench import peers
from bzzzmon.promql.duration import format_duration, parse_duration

REPO = Path(__file__).resolve().parent.parent
SHAPES = ("sloth", "pyrra", "bzzzmon")
TIER_NAMES = ("page-fast", "page-slow", "ticket-fast", "ticket-slow")
OBJECTIVE = 99.9
# The SLOs every shape is generated for: the scenarios pick one by name.
PLAIN = "plain"
GROUPED = "grouped"
GROUP_LABEL = "instance"
# Google SRE Workbook percentages of the budget and windows, as Sloth's default window sets use.
SLOTH_WINDOW_SET = (("1h", "5m", 2), ("6h", "30m", 5), ("1d", "2h", 10), ("3d", "6h", 10))
# Pyrra's Windows(): each window is period / divisor, rounded to the minute.
PYRRA_WINDOW_SET = (
    # for, long, short divisors, factor, severity
    (20160, 672, 8064, 14, "page"),
    (2688, 112, 1344, 7, "page"),
    (672, 28, 336, 2, "ticket"),
    (224, 7, 112, 1, "ticket"),
)


@dataclass(frozen=True)
class ShapeRules:
    shape: str
    period: str
    files: dict[str, list[Path]]  # SLO name -> rule files holding only that SLO's groups
    origin: str
    catalog: Path | None = None  # bzzzmon's generated alert catalog (docs/alerts.md)


def slo(name: str, period: str, objective: float = OBJECTIVE) -> peers.Slo:
    return peers.bench_slos([name], objective, period)[0]


def _round_minute(seconds: Fraction) -> int:
    """Go's ``Duration.Round(time.Minute)``: to the nearest minute, halves away from zero."""
    return int((seconds / 60 + Fraction(1, 2)) // 1) * 60


def _factor(budget_percent: int, period: str, long: str) -> float:
    f = Fraction(budget_percent, 100) * parse_duration(period) / parse_duration(long)
    return float(f)


def _dump(groups: list[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=200))
    return path


# --- Sloth ------------------------------------------------------------------------------------
def sloth_tiers(period: str) -> list[peers.Tier]:
    return [
        peers.Tier(
            name,
            "page" if name.startswith("page") else "ticket",
            long,
            short,
            _factor(pct, period, long),
            "0s",
        )
        for name, (long, short, pct) in zip(TIER_NAMES, SLOTH_WINDOW_SET, strict=True)
    ]


def sloth_groups(s: peers.Slo) -> list[dict[str, Any]]:
    groups = peers.sloth_rules([s]).groups
    alerts = groups[-1]
    assert alerts["name"].startswith("sloth-slo-alerts-")
    labels = {t["labels"]["severity"]: t for t in alerts["rules"]}
    alerts["rules"] = [
        {
            **labels[t.severity],
            "expr": peers.sloth_tier_condition(s, t),
            "labels": {**labels[t.severity]["labels"], "tier": t.name},
        }
        for t in sloth_tiers(s.period)
    ]
    return groups


# --- Pyrra ------------------------------------------------------------------------------------
def pyrra_tiers(period: str) -> list[peers.Tier]:
    p = parse_duration(period)
    return [
        peers.Tier(
            name,
            severity,
            format_duration(_round_minute(Fraction(p, long))),
            format_duration(_round_minute(Fraction(p, short))),
            factor,
            format_duration(_round_minute(Fraction(p, for_))),
        )
        for name, (for_, long, short, factor, severity) in zip(
            TIER_NAMES, PYRRA_WINDOW_SET, strict=True
        )
    ]


def pyrra_groups(s: peers.Slo, grouping: tuple[str, ...]) -> list[dict[str, Any]]:
    m = peers.pyrra_metric()
    lab = {"slo": s.name}
    by = f"sum by ({', '.join(grouping)}) (" if grouping else "sum("
    tiers = pyrra_tiers(s.period)
    windows = sorted({w for t in tiers for w in (t.long, t.short)}, key=parse_duration)
    burn: list[dict[str, Any]] = [
        {
            "record": f"{m}:burnrate{w}",
            "expr": peers.sloth_ratio_expr(s, w).replace("(sum(", "(" + by),
            "labels": dict(lab),
        }
        for w in windows
    ]
    burn += [
        {
            "alert": "ErrorBudgetBurn",
            "expr": peers.pyrra_tier_condition(s, t),
            "for": t.for_,
            "labels": {
                **lab,
                "long": t.long,
                "short": t.short,
                "tier": t.name,
                "severity": "critical" if t.severity == "page" else "warning",
            },
        }
        for t in tiers
    ]
    absent_for = format_duration(_round_minute(Fraction(parse_duration(s.period), 20160)))
    increase = [
        {
            "record": f"{m}:increase{s.period}",
            "expr": f"sum by (code) (increase({s.total}[{s.period}]))",
            "labels": dict(lab),
        },
        {
            "alert": "SLOMetricAbsent",
            "expr": f"absent({s.total}) == 1",
            "for": absent_for,
            "labels": {**lab, "severity": "critical"},
        },
    ]
    return [{"name": f"{s.name}-increase", "rules": increase}, {"name": s.name, "rules": burn}]


# --- bzzzmon ----------------------------------------------------------------------------------
def bzzzmon_spec(period: str, objective: float = OBJECTIVE) -> dict[str, Any]:
    spec = peers.bzzzmon_spec([slo(PLAIN, period, objective), slo(GROUPED, period, objective)])
    for s in spec["slos"]:
        if s["name"] == GROUPED:
            s["group_by"] = [GROUP_LABEL]
    return spec


def build_bzzzmon(period: str, work: Path, objective: float = OBJECTIVE) -> tuple[list[Path], str]:
    """The rule files ``bzzzmon build`` writes for the bench spec (exit on a failed build: the
    bench measures the real output or nothing)."""
    spec_dir, out = work / "spec", work / "out"
    shutil.rmtree(work, ignore_errors=True)
    spec_dir.mkdir(parents=True)
    spec = bzzzmon_spec(period, objective)
    (spec_dir / "slos.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    cmd = [
        sys.executable,
        "-m",
        "bzzzmon.cli",
        "build",
        "--specs",
        str(spec_dir),
        "--out",
        str(out),
        "--no-verify",
    ]
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    files = sorted((out / "prometheus" / "rules").glob("*.yml"))
    if res.returncode != 0 or not files:
        raise SystemExit(f"bzzzmon build failed (rc={res.returncode}):\n{res.stdout}{res.stderr}")
    return files, "bzzzmon build"


def _reads(expr: str, name: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr) is not None


def prune(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the rules some alert reads (directly or through other recording rules): the rest
    (metadata, the period ratio of Sloth's and Pyrra's dashboards) cannot change when an alert
    fires, and the period-long ones cost most of promtool's time."""
    rules = [r for g in groups for r in g.get("rules", [])]
    needed = [str(r["expr"]) for r in rules if "alert" in r]
    keep: set[str] = set()
    while True:
        new = {
            r["record"]
            for r in rules
            if "record" in r
            and r["record"] not in keep
            and any(_reads(e, r["record"]) for e in needed)
        }
        if not new:
            break
        keep |= new
        needed += [str(r["expr"]) for r in rules if r.get("record") in new]
    out = []
    for g in groups:
        kept = [r for r in g.get("rules", []) if "alert" in r or r.get("record") in keep]
        if kept:
            out.append({**g, "rules": kept})
    return out


def _rule_slo(rule: dict[str, Any]) -> str | None:
    labels = rule.get("labels") or {}
    return labels.get("slo") or labels.get("sloth_slo")


def split_by_slo(files: list[Path], out_dir: Path) -> dict[str, list[Path]]:
    """One rule file per SLO, holding the groups whose rules carry that SLO's label."""
    per_slo: dict[str, list[dict[str, Any]]] = {}
    for f in files:
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            names = {n for r in g.get("rules", []) if (n := _rule_slo(r))}
            for n in names:
                per_slo.setdefault(n, []).append(g)
    return {n: [_dump(prune(gs), out_dir / f"{n}.rules.yml")] for n, gs in sorted(per_slo.items())}


def rules_for(shape: str, period: str, work: Path, objective: float = OBJECTIVE) -> ShapeRules:
    d = work / f"{shape}-{period}"
    if shape == "bzzzmon":
        files, origin = build_bzzzmon(period, d / "build", objective)
        catalog = d / "build" / "out" / "docs" / "alerts.md"
        return ShapeRules(shape, period, split_by_slo(files, d / "split"), origin, catalog)
    out: dict[str, list[Path]] = {}
    for name in (PLAIN, GROUPED):
        s = slo(name, period, objective)
        if shape == "sloth":
            groups = sloth_groups(s)  # Sloth has no grouping: the grouped SLO is one SLI.
        else:
            groups = pyrra_groups(s, (GROUP_LABEL,) if name == GROUPED else ())
        out[name] = [_dump(prune(groups), d / f"{name}.rules.yml")]
    return ShapeRules(shape, period, out, f"bench/alert_timing_shapes.py ({shape}'s shape)")
