"""``docs/alerts.md``: the alert catalog, for on-call engineers and reviewers.

Every alert the build emits (read back from the rendered rule files, so nothing is missed and
nothing is described that does not exist) with its severity, what it means, its condition,
``for:``, who is notified and its runbook; every SLO with objective, period, error budget in time
and, per burn-rate tier, the error ratio it fires at and its detection time for a total outage.
Numbers are exact. The document comes from a Jinja2 template (bzzzmon/templates/alerts.md.j2).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.lint.rules_lint import rule_refs
from bzzzmon.model import SLO, Alert, Plan
from bzzzmon.promql.duration import format_duration, humanize_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction, to_decimal
from bzzzmon.render.alertmanager import receivers_for
from bzzzmon.render.output import Files, header
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


def _receivers(plan: Plan, name: str, labels: dict[str, str]) -> str:
    found = receivers_for(plan, {**labels, "alertname": name})
    return ", ".join(dict.fromkeys(found)) or "nobody"


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


def _meaning(plan: Plan, name: str, labels: dict[str, str], rule: dict[str, Any]) -> str:
    summary = str((rule.get("annotations") or {}).get("summary", ""))
    by_name = {a.name: a for a in plan.alerts}
    if name in by_name:
        return _threshold_meaning(by_name[name])
    slo = next((s for s in plan.slos if s.name == labels.get(C.LABEL_SLO)), None)
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


def _origin(plan: Plan, name: str, labels: dict[str, str]) -> str:
    for alert in plan.alerts:
        if alert.name == name:
            return f"{alert.origin.file}:{alert.origin.line}"
    for slo in plan.slos:
        if slo.name == labels.get(C.LABEL_SLO):
            return f"{slo.origin.file}:{slo.origin.line}"
    return ", ".join(plan.files_of("routing", "severities"))


def alert_entries(plan: Plan, files: Files) -> list[AlertEntry]:
    entries = []
    for ref in rule_refs(files):
        if "alert" not in ref.rule:
            continue
        rule = ref.rule
        name = str(rule["alert"])
        labels = {str(k): go_expanded(str(v)) for k, v in (rule.get("labels") or {}).items()}
        annotations = rule.get("annotations") or {}
        entries.append(
            AlertEntry(
                name=name,
                tier=labels.get(C.LABEL_TIER, ""),
                severity=labels.get(C.LABEL_SEVERITY, ""),
                meaning=_meaning(plan, name, labels, rule),
                condition=str(rule["expr"]).strip(),
                for_=str(rule.get("for", "0s")),
                receivers=_receivers(plan, name, labels),
                runbook=str(annotations.get("runbook_url", "")),
                dashboard=str(annotations.get("dashboard_url", "")),
                origin=_origin(plan, name, labels),
            )
        )
    return sorted(entries, key=lambda e: (e.severity, e.name, e.tier))


def slo_entry(slo: SLO) -> dict[str, Any]:
    budget = slo.budget_fraction
    tiers = []
    for t in slo.tiers:
        threshold = error_ratio_threshold(t.factor, budget)
        detect = detection_time(t.factor, budget, t.long, t.for_)
        tiers.append(
            {
                "name": t.name,
                "severity": t.severity,
                "windows": f"{t.long_text} / {t.short_text}",
                "budget_percent": format_decimal(t.budget_percent),
                "factor": format_fraction(t.factor),
                "threshold": percent(threshold),
                "for": format_duration(t.for_) if t.for_ else "0s",
                "detection": exact_duration(detect)
                if threshold <= 1
                else "never (threshold > 100%)",
                "exhaustion": exact_duration(time_to_exhaustion(t.factor, slo.period)),
            }
        )
    return {
        "slo": slo,
        "objective": format_decimal(slo.objective_percent),
        "budget": percent(budget),
        "budget_time": exact_duration(budget * slo.period),
        "tiers": tiers,
        "origin": f"{slo.origin.file}:{slo.origin.line}",
    }


def render_catalog(plan: Plan, files: Files) -> str:
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
        alerts=alert_entries(plan, files),
        slos=[slo_entry(s) for s in plan.slos],
    )
    return body


def render_from_files(plan: Plan, files: Files) -> Files:
    """The catalog of the rule files a build has already rendered."""
    return {C.ALERT_CATALOG: render_catalog(plan, files)}
