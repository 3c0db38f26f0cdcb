"""``docs/alerts.md``: the alert catalog, for on-call engineers and reviewers.

Every alert the build emits (from the functions that render the rule files, so nothing is
missed and nothing is described that does not exist; tests/review/test_catalog.py holds the
catalog to the rendered files) with its severity, what it means, its condition,
``for:``, who is notified and its runbook; every SLO with objective, period, error budget in time
and, per burn-rate tier, the error ratio it fires at and its detection time for a total outage.
Numbers are exact. The document comes from a Jinja2 template (bzzzmon/templates/alerts.md.j2).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import SLO, Alert, BurnTier, Plan
from bzzzmon.promql.duration import format_duration, humanize_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction, to_decimal
from bzzzmon.render.alertmanager.routes import RouteMatch, match_routes, route_tree
from bzzzmon.render.catalog_context import (
    InhibitionIndex,
    Relation,
    escalation_steps,
    is_escalation,
    window_text,
)
from bzzzmon.render.escalation import escalation_rules
from bzzzmon.render.output import Files, header
from bzzzmon.render.rules import (
    Rule,
    alerts_file,
    slo_alert_rules,
    slo_rules_file,
    threshold_rule,
)
from bzzzmon.render.text import go_expanded
from bzzzmon.slo.windows import detection_time, error_ratio_threshold, time_to_exhaustion
from bzzzmon.templates import environment


def exact_duration(seconds: Fraction) -> str:
    """``Fraction(3192, 5)`` -> ``10 min 38.4 s``; whole seconds as humanize_duration does."""
    whole = int(seconds)
    rest = seconds - whole
    if not rest:
        return humanize_duration(whole)
    minutes_part = humanize_duration(whole - whole % 60) if whole >= 60 else ""
    secs = Fraction(whole % 60) + rest
    dec = to_decimal(secs)
    text = format_decimal(dec) if dec is not None else f"{float(secs):.3f}"
    return f"{minutes_part} {text} s".strip()


def percent(value: Fraction) -> str:
    scaled = value * 100
    dec = to_decimal(scaled)
    return f"{format_decimal(dec)}%" if dec is not None else f"{format_fraction(scaled)} %"


@dataclass(frozen=True)
class AlertEntry:
    name: str
    tier: str
    severity: str
    meaning: str
    condition: str
    for_: str
    receivers: str
    runbook: str
    dashboard: str
    origin: str
    first_steps: tuple[str, ...] = ()
    inhibited_by: tuple[Relation, ...] = ()
    inhibits: tuple[Relation, ...] = ()
    muted_during: tuple[str, ...] = ()
    escalation: bool = False  # sent under the escalated alert's name: inhibited as that alert


class _Index:
    """Lookups the catalog makes for every alert, built once: a 1,000-SLO spec has 3,000+
    alerts, and a scan of the plan per alert made the catalog quadratic."""

    def __init__(self, plan: Plan, fixed_labels: list[dict[str, str]]) -> None:
        self.plan = plan
        self.alerts = {a.name: a for a in plan.alerts}  # the last of a name, as before
        self.first_origin: dict[str, str] = {}
        for a in plan.alerts:
            self.first_origin.setdefault(a.name, f"{a.origin.file}:{a.origin.line}")
        self.slos = {s.name: s for s in plan.slos}
        self.routes = route_tree(plan)
        self.routing_files = ", ".join(plan.files_of("routing", "severities"))
        self.inhibitions = InhibitionIndex(plan, fixed_labels)
        self.windows = {w.name: window_text(w) for w in plan.routing.maintenance_windows}

    def routes_of(self, name: str, labels: dict[str, str]) -> list[RouteMatch]:
        return match_routes(self.routes, {**labels, "alertname": name})

    @staticmethod
    def receivers(routes: list[RouteMatch]) -> str:
        return ", ".join(dict.fromkeys(m.receiver for m in routes)) or "nobody"

    def muted_during(self, routes: list[RouteMatch]) -> tuple[str, ...]:
        names = dict.fromkeys(n for m in routes for n in m.mute_time_intervals)
        return tuple(self.windows.get(n, n) for n in names)

    def first_steps(self, name: str, labels: dict[str, str]) -> tuple[str, ...]:
        if name in self.alerts:
            return self.alerts[name].first_steps
        if is_escalation(labels):
            return escalation_steps(self.plan, labels.get(C.LABEL_SEVERITY, ""))
        slo = self.slos.get(labels.get(C.LABEL_SLO, ""))
        return slo.first_steps if slo is not None else ()

    def meaning(self, name: str, labels: dict[str, str], rule: Rule) -> str:
        summary = str((rule.get("annotations") or {}).get("summary", ""))
        if name in self.alerts:
            return _threshold_meaning(self.alerts[name])
        if is_escalation(labels):
            severity = labels.get(C.LABEL_SEVERITY, "")
            target = humanize_duration(self.plan.severity(severity).resolution_target)
            return (
                f"An alert of severity {severity} (named in the label `escalated_alert`) has "
                f"been firing longer than the {severity} resolution target ({target})."
            )
        slo = self.slos.get(labels.get(C.LABEL_SLO, ""))
        kind = labels.get(C.LABEL_ALERT_KIND)
        if slo is not None and kind == "burn_rate":
            return _burn_meaning(slo, labels.get(C.LABEL_TIER, ""))
        if slo is not None and kind == "missing_data":
            return (
                f"The {slo.title} SLI has no series at all: the SLO cannot be evaluated. An idle "
                f"service (series present, no events) does not raise it."
            )
        if slo is not None and kind == "budget_exhausted":
            return (
                f"The {slo.title} SLO has spent its whole {slo.period_text} error budget: the "
                f"{format_decimal(slo.objective_percent)}% objective is missed."
            )
        return summary.replace("{{", "`{{").replace("}}", "}}`")

    def origin(self, name: str, labels: dict[str, str]) -> str:
        if name in self.first_origin:
            return self.first_origin[name]
        slo = self.slos.get(labels.get(C.LABEL_SLO, ""))
        if slo is not None:
            return f"{slo.origin.file}:{slo.origin.line}"
        return self.routing_files


def _threshold_meaning(alert: Alert) -> str:
    text = alert.summary
    if alert.op is not None and alert.threshold is not None:
        text += f" Fires while `{alert.value_expr}` {alert.op} {format_decimal(alert.threshold)}"
        text += f" for {format_duration(alert.for_)}." if alert.for_ else "."
    return text


def _burn_meaning(slo: SLO, tier_name: str) -> str:
    tier = next(t for t in slo.tiers if t.name == tier_name)
    threshold = error_ratio_threshold(tier.factor, slo.budget_fraction)
    return (
        f"{slo.title} spends {format_decimal(tier.budget_percent)}% of its {slo.period_text} "
        f"error budget within {tier.long_text}: the error ratio is above {percent(threshold)} "
        f"(burn factor {format_fraction(tier.factor)}) over both {tier.long_text} and "
        f"{tier.short_text}."
    )


def alerting_rules(plan: Plan) -> list[Rule]:
    """Every alerting rule the build writes, in the order of its rule files (sorted by path, as
    a reader of ``prometheus/rules/`` meets them), from the functions that render those files."""
    by_file: dict[str, list[Rule]] = {}
    for slo in plan.slos:
        by_file.setdefault(slo_rules_file(slo), []).extend(slo_alert_rules(plan, slo))
    for alert in plan.alerts:
        by_file.setdefault(alerts_file(alert.component), []).append(threshold_rule(plan, alert))
    by_file.setdefault(C.ESCALATION_RULES, []).extend(escalation_rules(plan))
    return [rule for path in sorted(by_file) for rule in by_file[path]]


def alert_entries(plan: Plan) -> list[AlertEntry]:
    rules = alerting_rules(plan)
    fixed = [
        {"alertname": str(r["alert"]), **{str(k): str(v) for k, v in r["labels"].items()}}
        for r in rules
    ]
    # The alerts Alertmanager's inhibit rules see under their own names (not the escalations).
    index = _Index(plan, [f for f in fixed if not is_escalation(f)])
    entries = []
    for rule in rules:
        name = str(rule["alert"])
        labels = {str(k): go_expanded(str(v)) for k, v in (rule.get("labels") or {}).items()}
        annotations = rule.get("annotations") or {}
        escalation = is_escalation(labels)
        routes = index.routes_of(name, labels)
        inhibited_by, inhibits = (
            ([], []) if escalation else index.inhibitions.relations({**labels, "alertname": name})
        )
        entries.append(
            AlertEntry(
                name=name,
                tier=labels.get(C.LABEL_TIER, ""),
                severity=labels.get(C.LABEL_SEVERITY, ""),
                meaning=index.meaning(name, labels, rule),
                condition=str(rule["expr"]).strip(),
                for_=str(rule.get("for", "0s")),
                receivers=index.receivers(routes),
                runbook=str(annotations.get("runbook_url", "")),
                dashboard=str(annotations.get("dashboard_url", "")),
                origin=index.origin(name, labels),
                first_steps=index.first_steps(name, labels),
                inhibited_by=tuple(inhibited_by),
                inhibits=tuple(inhibits),
                muted_during=index.muted_during(routes),
                escalation=escalation,
            )
        )
    return sorted(entries, key=lambda e: (e.severity, e.name, e.tier))


def slo_entry(slo: SLO) -> dict[str, Any]:
    budget = slo.budget_fraction
    tiers = [
        _tier_entry(t, str(t.budget_percent), budget, slo.period, t.long in slo.raw_windows)
        for t in slo.tiers
    ]
    return {
        "slo": slo,
        "objective": format_decimal(slo.objective_percent),
        "budget": percent(budget),
        "budget_time": exact_duration(budget * slo.period),
        "tiers": tiers,
        "origin": f"{slo.origin.file}:{slo.origin.line}",
    }


@lru_cache(maxsize=1 << 12)  # SLOs of one objective and period share their tiers' exact math
def _tier_entry(
    t: BurnTier, decimal_text: str, budget: Fraction, period: int, raw: bool
) -> dict[str, str]:
    """A tier's row of the catalog (the template only reads it). ``decimal_text`` only keys
    the cache: 2 and 2.0 are equal Decimals (and hash alike) but print apart."""
    threshold = error_ratio_threshold(t.factor, budget)
    detect = detection_time(t.factor, budget, t.long, t.for_, raw=raw)
    return {
        "name": t.name,
        "severity": t.severity,
        "windows": f"{t.long_text} / {t.short_text}",
        "budget_percent": format_decimal(t.budget_percent),
        "factor": format_fraction(t.factor),
        "threshold": percent(threshold),
        "for": format_duration(t.for_) if t.for_ else "0s",
        "detection": exact_duration(detect) if threshold <= 1 else "never (threshold > 100%)",
        "exhaustion": exact_duration(time_to_exhaustion(t.factor, period)),
    }


def render_catalog(plan: Plan) -> str:
    template = environment().get_template("alerts.md.j2")
    sources = list(plan.spec_files)
    head = header(sources, comment="").replace("\n ", "\n").strip()
    body = template.render(
        plan=plan,
        header=head,
        severities=[
            {
                "s": s,
                "response": humanize_duration(s.response_time),
                "resolution": humanize_duration(s.resolution_target),
            }
            for s in plan.severities
        ],
        alerts=alert_entries(plan),
        slos=[slo_entry(s) for s in plan.slos],
    )
    return body


def render(plan: Plan) -> Files:
    return {C.ALERT_CATALOG: render_catalog(plan)}
