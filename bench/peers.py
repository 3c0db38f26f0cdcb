"""The benchmark's SLOs written three ways: as a bzzzmon spec, and as rule files of the published
shapes of Sloth and Pyrra (generated here from the same SLO definitions; no peer code is used).

Sloth's shape: every window's error ratio from the raw series, the period ratio as the mean of the
5m ratios; two alerts (page: 1h/5m at 14.4x or 6h/30m at 6x, ticket: 1d/2h at 3x or 3d/6h at 1x),
no ``for:``. Pyrra's shape: ``increase`` over the whole period from the raw counters (recorded by
``code``), burn-rate ratios per window from the raw counters, four alerts with ``for:`` and the
Pyrra factors 14/7/2/1 on 1h/5m, 6h/30m, 1d/2h, 4d/6h, and an absent-metric alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C

SERVICE = "bench"
# The request counter every bench SLO counts (by ``slo``, ``instance`` and ``code``). Here, not in
# workload.py, so that the alert-timing bench and its tests import no numpy.
METRIC = "bench_requests_total"
SLOTH_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
PYRRA_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "4d")

# bzzzmon's recording-rule level; Sloth's shapes here keep their own ``slo:``.
NS = C.REC_NAMESPACE


@dataclass(frozen=True)
class Slo:
    name: str
    objective: float  # percent, e.g. 99.9
    period: str  # e.g. "30d"
    bad: str  # counter selector of bad events
    total: str  # counter selector of all events

    @property
    def budget(self) -> float:
        return round(1 - self.objective / 100, 12)

    @property
    def alert_name(self) -> str:
        return "Bench" + "".join(p.capitalize() for p in self.name.split("-")) + "BudgetBurn"


def bench_slos(names: list[str], objective: float = 99.9, period: str = "30d") -> list[Slo]:
    return [
        Slo(
            n,
            objective,
            period,
            f'{METRIC}{{slo="{n}",code=~"5.."}}',
            f'{METRIC}{{slo="{n}"}}',
        )
        for n in names
    ]


@dataclass(frozen=True)
class Tier:
    """One burn-rate tier as a shape alerts on it (for the accuracy comparison)."""

    name: str  # page-fast, page-slow, ticket-fast, ticket-slow
    severity: str  # page | ticket
    long: str
    short: str
    factor: float
    for_: str  # "0s" when the shape has no for:


SLOTH_TIERS = (
    Tier("page-fast", "page", "1h", "5m", 14.4, "0s"),
    Tier("page-slow", "page", "6h", "30m", 6, "0s"),
    Tier("ticket-fast", "ticket", "1d", "2h", 3, "0s"),
    Tier("ticket-slow", "ticket", "3d", "6h", 1, "0s"),
)
PYRRA_TIERS = (
    Tier("page-fast", "page", "1h", "5m", 14, "2m"),
    Tier("page-slow", "page", "6h", "30m", 7, "15m"),
    Tier("ticket-fast", "ticket", "1d", "2h", 2, "1h"),
    Tier("ticket-slow", "ticket", "4d", "6h", 1, "3h"),
)


@dataclass
class RuleSet:
    """Rule groups of one shape, plus what the accuracy check needs to know about it."""

    shape: str
    groups: list[dict[str, Any]] = field(default_factory=list)

    def dump(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"groups": self.groups}, sort_keys=False, width=200))
        return path


# --- Sloth ------------------------------------------------------------------------------------
def sloth_ids(slo: Slo) -> dict[str, str]:
    return {"sloth_id": f"{SERVICE}-{slo.name}", "sloth_service": SERVICE, "sloth_slo": slo.name}


def sloth_sel(slo: Slo) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in sloth_ids(slo).items())


def sloth_ratio_expr(slo: Slo, window: str) -> str:
    return f"(sum(rate({slo.bad}[{window}])))\n/\n(sum(rate({slo.total}[{window}])))\n"


def sloth_rules(slos: list[Slo]) -> RuleSet:
    rs = RuleSet("sloth")
    for slo in slos:
        ids = sloth_ids(slo)
        sel = sloth_sel(slo)
        sli = [
            {
                "record": f"slo:sli_error:ratio_rate{w}",
                "expr": sloth_ratio_expr(slo, w),
                "labels": {**ids, "sloth_window": w},
            }
            for w in SLOTH_WINDOWS
        ]
        sli.append(
            {
                "record": f"slo:sli_error:ratio_rate{slo.period}",
                "expr": (
                    f"sum_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{slo.period}])\n"
                    "/ ignoring (sloth_window)\n"
                    f"count_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{slo.period}])\n"
                ),
                "labels": {**ids, "sloth_window": slo.period},
            }
        )
        period_days = int(slo.period.rstrip("d"))
        on = "on(sloth_id, sloth_slo, sloth_service) group_left"
        meta = [
            {"record": "slo:objective:ratio", "expr": f"vector({slo.objective / 100!r})"},
            {"record": "slo:error_budget:ratio", "expr": f"vector(1-{slo.objective / 100!r})"},
            {"record": "slo:time_period:days", "expr": f"vector({period_days})"},
            {
                "record": "slo:current_burn_rate:ratio",
                "expr": f"slo:sli_error:ratio_rate5m{{{sel}}}\n/ {on}\n"
                f"slo:error_budget:ratio{{{sel}}}\n",
            },
            {
                "record": "slo:period_burn_rate:ratio",
                "expr": f"slo:sli_error:ratio_rate{slo.period}{{{sel}}}\n/ {on}\n"
                f"slo:error_budget:ratio{{{sel}}}\n",
            },
            {
                "record": "slo:period_error_budget_remaining:ratio",
                "expr": f"1 - slo:period_burn_rate:ratio{{{sel}}}",
            },
            {"record": "sloth_slo_info", "expr": "vector(1)"},
        ]
        for r in meta:
            r["labels"] = dict(ids)
        alerts = []
        for sev, tiers in (("page", SLOTH_TIERS[:2]), ("ticket", SLOTH_TIERS[2:])):
            parts = [
                "(\n"
                f"    max(slo:sli_error:ratio_rate{t.short}{{{sel}}} > ({t.factor} * {slo.budget}))"
                " without (sloth_window)\n    and\n"
                f"    max(slo:sli_error:ratio_rate{t.long}{{{sel}}} > ({t.factor} * {slo.budget}))"
                " without (sloth_window)\n)"
                for t in tiers
            ]
            alerts.append(
                {
                    "alert": slo.alert_name,
                    "expr": "\nor\n".join(parts) + "\n",
                    "labels": {"sloth_severity": sev, "severity": sev},
                    "annotations": {"summary": f"{slo.name} error budget burn"},
                }
            )
        rs.groups += [
            {"name": f"sloth-slo-sli-recordings-{SERVICE}-{slo.name}", "rules": sli},
            {"name": f"sloth-slo-meta-recordings-{SERVICE}-{slo.name}", "rules": meta},
            {"name": f"sloth-slo-alerts-{SERVICE}-{slo.name}", "rules": alerts},
        ]
    return rs


def sloth_tier_condition(slo: Slo, tier: Tier) -> str:
    """One tier of Sloth's alert, in terms of Sloth's recording rules."""
    sel = sloth_sel(slo)
    thr = f"({tier.factor} * {slo.budget})"
    return (
        f"max(slo:sli_error:ratio_rate{tier.short}{{{sel}}} > {thr}) without (sloth_window)"
        f" and max(slo:sli_error:ratio_rate{tier.long}{{{sel}}} > {thr}) without (sloth_window)"
    )


# --- Pyrra ------------------------------------------------------------------------------------
def pyrra_metric() -> str:
    return METRIC.removesuffix("_total")


def pyrra_rules(slos: list[Slo]) -> RuleSet:
    rs = RuleSet("pyrra")
    m = pyrra_metric()
    for slo in slos:
        lab = {"slo": slo.name}
        sel = f'slo="{slo.name}"'
        increase = [
            {
                "record": f"{m}:increase{slo.period}",
                "expr": f"sum by (code) (increase({slo.total}[{slo.period}]))",
                "labels": dict(lab),
            },
            {
                "alert": "SLOMetricAbsent",
                "expr": f"absent({slo.total}) == 1",
                "for": "2m",
                "labels": {**lab, "severity": "critical"},
            },
        ]
        burn = [
            {
                "record": f"{m}:burnrate{w}",
                "expr": f"sum(rate({slo.bad}[{w}]))\n/\nsum(rate({slo.total}[{w}]))\n",
                "labels": dict(lab),
            }
            for w in PYRRA_WINDOWS
        ]
        # The period error ratio, from the recorded increase (Pyrra computes it in its API/UI from
        # the same series; recorded here so each shape has one period series).
        burn.append(
            {
                "record": "pyrra:sli_error:ratio_period",
                "expr": f'sum({m}:increase{slo.period}{{{sel},code=~"5.."}})\n/\n'
                f"sum({m}:increase{slo.period}{{{sel}}})\n",
                "labels": dict(lab),
            }
        )
        for t in PYRRA_TIERS:
            burn.append(
                {
                    "alert": "ErrorBudgetBurn",
                    "expr": pyrra_tier_condition(slo, t),
                    "for": t.for_,
                    "labels": {
                        **lab,
                        "long": t.long,
                        "short": t.short,
                        "severity": "critical" if t.severity == "page" else "warning",
                    },
                }
            )
        rs.groups += [
            {"name": f"{slo.name}-increase", "rules": increase},
            {"name": slo.name, "rules": burn},
        ]
    return rs


def pyrra_tier_condition(slo: Slo, tier: Tier) -> str:
    m = pyrra_metric()
    sel = f'slo="{slo.name}"'
    thr = f"({tier.factor} * (1-{slo.objective / 100!r}))"
    return f"{m}:burnrate{tier.short}{{{sel}}} > {thr} and {m}:burnrate{tier.long}{{{sel}}} > {thr}"


# --- bzzzmon ----------------------------------------------------------------------------------
def bzzzmon_spec(slos: list[Slo]) -> dict[str, Any]:
    return {
        "apiVersion": "bzzzmon/v1",
        # What the build's lints ask for (the counter declared, alert names under the prefix, a
        # runbook), so that the benches measure what `bzzzmon build` writes; without them the
        # rule bench fell back to the bare renderer.
        "service": {
            "name": SERVICE,
            "alert_prefix": "Bench",
            "runbook_url": "https://runbooks.example/bench.md",
        },
        "metrics": {METRIC: "counter"},
        "components": [{"name": "bench", "weight": 1}],
        "slos": [
            {
                "name": s.name,
                "component": "bench",
                "objective": s.objective,
                "period": s.period,
                "sli": {"ratio": {"bad": s.bad, "total": s.total}},
                "alerting": {
                    "name": s.alert_name,
                    "page": "P1",
                    "ticket": "P2",
                    "runbook": f"#{s.name}",
                },
            }
            for s in slos
        ],
    }


def write_bzzzmon_spec(slos: list[Slo], spec_dir: Path) -> Path:
    spec_dir.mkdir(parents=True, exist_ok=True)
    path = spec_dir / "slos.yaml"
    path.write_text(yaml.safe_dump(bzzzmon_spec(slos), sort_keys=False, width=200))
    return path


BZZZMON_TIERS = (
    Tier("page-fast", "page", "1h", "5m", 14.4, "2m"),
    Tier("page-slow", "page", "6h", "30m", 6, "15m"),
    Tier("ticket-fast", "ticket", "1d", "2h", 3, "1h"),
    Tier("ticket-slow", "ticket", "3d", "6h", 1, "3h"),
)
BZZZMON_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


def bzzzmon_shape_rules(slos: list[Slo], period_interval: str | None = None) -> RuleSet:
    """bzzzmon's rule shape as the issue describes it (a stand-in until ``bzzzmon build`` runs,
    and the base for measured variants). ``period_interval`` puts the period ratio into its own
    group evaluated at that interval."""
    rs = RuleSet(
        "bzzzmon-shape" if period_interval is None else f"bzzzmon-period-{period_interval}"
    )
    for slo in slos:
        lab = {"slo": slo.name}
        sel = f'slo="{slo.name}"'
        sli: list[dict[str, Any]] = [
            {
                "record": f"{NS}:sli_bad_events:rate5m",
                "expr": f"sum(rate({slo.bad}[5m]))",
                "labels": lab,
            },
            {
                "record": f"{NS}:sli_total_events:rate5m",
                "expr": f"sum(rate({slo.total}[5m]))",
                "labels": lab,
            },
        ]
        ratios = [
            {
                "record": f"{NS}:sli_error:ratio_rate{w}",
                "expr": (
                    f"sum_over_time({NS}:sli_bad_events:rate5m{{{sel}}}[{w}])"
                    f" / sum_over_time({NS}:sli_total_events:rate5m{{{sel}}}[{w}])"
                    if w != "5m"
                    else f"{NS}:sli_bad_events:rate5m{{{sel}}}"
                    f" / {NS}:sli_total_events:rate5m{{{sel}}}"
                ),
                "labels": lab,
            }
            for w in (*BZZZMON_WINDOWS, slo.period)
        ]
        if period_interval is None:
            sli += ratios
            period_group: list[dict[str, Any]] = []
        else:
            sli += ratios[:-1]
            period_group = ratios[-1:]
        meta = [
            {
                "record": f"{NS}:objective:ratio",
                "expr": f"vector({slo.objective / 100!r})",
                "labels": lab,
            },
            {
                "record": f"{NS}:error_budget:ratio",
                "expr": f"vector({slo.budget!r})",
                "labels": lab,
            },
            {
                "record": f"{NS}:period_error_budget_remaining:ratio",
                "expr": f"1 - {NS}:sli_error:ratio_rate{slo.period}{{{sel}}} / {slo.budget!r}",
                "labels": lab,
            },
        ]
        alerts = [
            {
                "alert": slo.alert_name,
                "expr": bzzzmon_tier_condition(slo, t),
                "for": t.for_,
                "labels": {
                    **lab,
                    "tier": t.name,
                    "severity": "P1" if t.severity == "page" else "P2",
                },
            }
            for t in BZZZMON_TIERS
        ]
        alerts.append(
            {
                "alert": slo.alert_name.replace("BudgetBurn", "SLIMissing"),
                "expr": f"absent({NS}:sli_total_events:rate5m{{{sel}}})",
                "for": "10m",
                "labels": {**lab, "severity": "P2"},
            }
        )
        rs.groups.append({"name": f"{SERVICE}-slo-{slo.name}-sli", "rules": sli})
        if period_group:
            rs.groups.append(
                {
                    "name": f"{SERVICE}-slo-{slo.name}-period",
                    "interval": period_interval,
                    "rules": period_group,
                }
            )
        rs.groups.append({"name": f"{SERVICE}-slo-{slo.name}-meta", "rules": meta})
        rs.groups.append({"name": f"{SERVICE}-slo-{slo.name}-alerts", "rules": alerts})
    return rs


def bzzzmon_tier_condition(slo: Slo, tier: Tier) -> str:
    sel = f'slo="{slo.name}"'
    thr = f"({tier.factor} * {slo.budget!r})"
    return (
        f"{NS}:sli_error:ratio_rate{tier.long}{{{sel}}} > {thr}"
        f" and {NS}:sli_error:ratio_rate{tier.short}{{{sel}}} > {thr}"
    )
