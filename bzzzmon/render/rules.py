"""Prometheus recording and alerting rules: per SLO, and the threshold alerts per component.

Per SLO, three groups:
- ``sli``: bad and total events per second recorded once at the 5m base window, then the error
  ratio of every window needed, each as ``sum_over_time(bad) / sum_over_time(total)`` over the two
  base series. The ratio is traffic-weighted (a busy minute counts more than an idle one), one
  missing sample does not poison the period, and no window reads raw series again.
- ``meta``: objective, budget, period, current burn rate.
- ``period``: the whole-period ratio, period burn rate and budget remaining, every 4 minutes
  (the period's sum is most of the rules' cost; see bzzzmon.slo.windows).
- ``alerts``: one rule per burn-rate tier (same alert name, ``tier`` label), the missing-data
  alert (quiet while the service is merely idle) and the budget-exhausted alert.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import SLO, Alert, Plan
from bzzzmon.promql.builders import slo_selector
from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction
from bzzzmon.render.output import Files, dump_yaml
from bzzzmon.render.text import go_literal
from bzzzmon.slo.windows import BASE_WINDOW, PERIOD_EVALUATION_INTERVAL

Rule = dict[str, Any]


def slo_rules_file(slo: SLO) -> str:
    return f"{C.RULES_DIR}/slo-{slo.name}.rules.yml"


def alerts_file(component: str) -> str:
    return f"{C.RULES_DIR}/alerts-{component}.rules.yml"


def _labels(plan: Plan, *extra: dict[str, str]) -> dict[str, str]:
    """An alerting rule's labels; Prometheus expands them as templates, spec text is literal."""
    merged: dict[str, str] = dict(plan.service.labels)
    for e in extra:
        merged.update(e)
    return {k: go_literal(v) for k, v in sorted(merged.items())}


def threshold_text(factor: Fraction, budget: Fraction) -> str:
    """``(14.4 * 0.001)``: the factor and the budget stay visible to a reviewer, both exact."""
    return f"({format_fraction(factor)} * {format_fraction(budget)})"


def _ratio(slo: SLO, window: int) -> str:
    return slo_selector(C.rec_name(C.REC_ERROR_RATIO, format_duration(window)), slo.name)


def sli_rules(slo: SLO) -> list[Rule]:
    base = format_duration(BASE_WINDOW)
    bad = C.rec_name(C.REC_BAD_RATE, base)
    total = C.rec_name(C.REC_TOTAL_RATE, base)
    labels = {C.LABEL_SLO: slo.name}
    rules: list[Rule] = [
        {"record": bad, "expr": slo.sli.bad, "labels": labels},
        {"record": total, "expr": slo.sli.total, "labels": labels},
    ]
    for window in slo.windows:
        if window == slo.period:
            continue  # recorded by the period group
        w = format_duration(window)
        if window == BASE_WINDOW:
            expr = f"{slo_selector(bad, slo.name)} / {slo_selector(total, slo.name)}"
        else:
            expr = (
                f"sum_over_time({slo_selector(bad, slo.name)}[{w}])"
                f" / sum_over_time({slo_selector(total, slo.name)}[{w}])"
            )
        rules.append({"record": C.rec_name(C.REC_ERROR_RATIO, w), "expr": expr, "labels": labels})
    return rules


def period_rules(slo: SLO) -> list[Rule]:
    """The whole-period ratio, burn rate and budget remaining: a group of their own, evaluated
    every PERIOD_EVALUATION_INTERVAL (see bzzzmon.slo.windows)."""
    labels = {C.LABEL_SLO: slo.name}
    budget = format_decimal(slo.budget)
    w = slo.period_text
    bad = slo_selector(C.rec_name(C.REC_BAD_RATE, format_duration(BASE_WINDOW)), slo.name)
    total = slo_selector(C.rec_name(C.REC_TOTAL_RATE, format_duration(BASE_WINDOW)), slo.name)
    return [
        {
            "record": C.rec_name(C.REC_ERROR_RATIO, w),
            "expr": f"sum_over_time({bad}[{w}]) / sum_over_time({total}[{w}])",
            "labels": labels,
        },
        {
            "record": C.REC_PERIOD_BURN,
            "expr": f"{_ratio(slo, slo.period)} / {budget}",
            "labels": labels,
        },
        {
            "record": C.REC_BUDGET_REMAINING,
            "expr": f"1 - {slo_selector(C.REC_PERIOD_BURN, slo.name)}",
            "labels": labels,
        },
    ]


def meta_rules(slo: SLO) -> list[Rule]:
    labels = {C.LABEL_SLO: slo.name}
    budget = format_decimal(slo.budget)
    info = {
        C.LABEL_SLO: slo.name,
        C.LABEL_COMPONENT: slo.component,
        "objective": format_decimal(slo.objective),
        "period": slo.period_text,
        "sli_kind": slo.sli.kind,
        "title": slo.title,
    }
    days = Fraction(slo.period, 86400)
    return [
        {
            "record": C.REC_OBJECTIVE,
            "expr": f"vector({format_decimal(slo.objective)})",
            "labels": labels,
        },
        {"record": C.REC_ERROR_BUDGET, "expr": f"vector({budget})", "labels": labels},
        {"record": C.REC_PERIOD_DAYS, "expr": f"vector({format_fraction(days)})", "labels": labels},
        {
            "record": C.REC_CURRENT_BURN,
            "expr": f"{_ratio(slo, BASE_WINDOW)} / {budget}",
            "labels": labels,
        },
        {"record": C.REC_SLI_INFO, "expr": "vector(1)", "labels": dict(sorted(info.items()))},
    ]


def _annotations(summary: str, description: str, runbook: str, dashboard: str) -> dict[str, str]:
    return {
        "summary": summary,
        "description": description,
        "runbook_url": runbook,
        "dashboard_url": dashboard,
    }


def _group_text(slo: SLO) -> str:
    if not slo.group_by:
        return ""
    return " for " + ", ".join(f"{g} {{{{ $labels.{g} }}}}" for g in slo.group_by)


def slo_alert_rules(plan: Plan, slo: SLO) -> list[Rule]:
    rules: list[Rule] = []
    title = go_literal(slo.title)  # annotations are templates; the title is not
    budget = slo.budget_fraction
    base_labels = {
        C.LABEL_SLO: slo.name,
        C.LABEL_COMPONENT: slo.component,
    } | slo.labels
    objective = format_decimal(slo.objective_percent)
    for tier in slo.tiers:
        threshold = threshold_text(tier.factor, budget)
        expr = (
            f"{_ratio(slo, tier.long)} > {threshold}\nand\n{_ratio(slo, tier.short)} > {threshold}"
        )
        factor = format_fraction(tier.factor)
        rule: Rule = {"alert": slo.alert_name, "expr": expr}
        if tier.for_:
            rule["for"] = format_duration(tier.for_)
        rule["labels"] = _labels(
            plan,
            base_labels,
            {
                C.LABEL_SEVERITY: tier.severity,
                C.LABEL_TIER: tier.name,
                C.LABEL_ALERT_KIND: "burn_rate",
                C.LABEL_WINDOW: tier.long_text,
            },
        )
        rule["annotations"] = _annotations(
            f"{title} burns its error budget {factor}x too fast ({tier.name}){_group_text(slo)}.",
            f"The {title} SLO ({objective}% over {slo.period_text}) has an error ratio of "
            f"{{{{ $value | humanizePercentage }}}} over the last {tier.long_text} "
            f"(and above {factor}x its budget over {tier.short_text} too). At this rate "
            f"{format_decimal(tier.budget_percent)}% of the {slo.period_text} error budget is "
            f"spent within {tier.long_text}.",
            slo.runbook_url,
            slo.dashboard_url,
        )
        rules.append(rule)
    if slo.missing_data.enabled:
        rules.append(
            {
                "alert": slo.missing_data.name,
                "expr": f"absent({slo.sli.raw})",
                "for": format_duration(slo.missing_data.for_),
                "labels": _labels(
                    plan,
                    base_labels,
                    {
                        C.LABEL_SEVERITY: slo.missing_data.severity,
                        C.LABEL_ALERT_KIND: "missing_data",
                    },
                ),
                "annotations": _annotations(
                    f"The {title} SLI has no data.",
                    f"No series of the {title} SLI have been seen for "
                    f"{format_duration(slo.missing_data.for_)}: the SLO cannot be evaluated and "
                    f"its burn-rate alerts cannot fire. An idle service keeps its series and does "
                    f"not raise this alert; vanished series (scrape failure, renamed metric) do.",
                    slo.runbook_url,
                    slo.dashboard_url,
                ),
            }
        )
    if slo.budget_exhausted.enabled:
        rules.append(
            {
                "alert": slo.budget_exhausted.name,
                "expr": f"{slo_selector(C.REC_BUDGET_REMAINING, slo.name)} <= 0",
                "for": format_duration(slo.budget_exhausted.for_),
                "labels": _labels(
                    plan,
                    base_labels,
                    {
                        C.LABEL_SEVERITY: slo.budget_exhausted.severity,
                        C.LABEL_ALERT_KIND: "budget_exhausted",
                    },
                ),
                "annotations": _annotations(
                    f"The {title} SLO has spent its whole {slo.period_text} error budget"
                    f"{_group_text(slo)}.",
                    f"The error budget remaining over the last {slo.period_text} is "
                    f"{{{{ $value | humanizePercentage }}}}: the {objective}% objective is missed. "
                    f"Freeze risky changes until the budget recovers.",
                    slo.runbook_url,
                    slo.dashboard_url,
                ),
            }
        )
    return rules


def threshold_rule(plan: Plan, alert: Alert) -> Rule:
    rule: Rule = {"alert": alert.name, "expr": alert.expr}
    if alert.for_:
        rule["for"] = format_duration(alert.for_)
    rule["labels"] = _labels(
        plan,
        alert.labels,
        {
            C.LABEL_COMPONENT: alert.component,
            C.LABEL_SEVERITY: alert.severity,
            C.LABEL_ALERT_KIND: "threshold",
        },
    )
    rule["annotations"] = _annotations(
        go_literal(alert.summary), alert.description, alert.runbook_url, alert.dashboard_url
    )
    return rule


def render(plan: Plan) -> Files:
    files: Files = {}
    svc = plan.service.name
    for slo in plan.slos:
        groups = [
            {"name": C.slo_group(svc, slo.name, "sli"), "rules": sli_rules(slo)},
            {"name": C.slo_group(svc, slo.name, "meta"), "rules": meta_rules(slo)},
            {
                "name": C.slo_group(svc, slo.name, "period"),
                "interval": format_duration(PERIOD_EVALUATION_INTERVAL),
                "rules": period_rules(slo),
            },
        ]
        alerts = slo_alert_rules(plan, slo)
        if alerts:
            groups.append({"name": C.slo_group(svc, slo.name, "alerts"), "rules": alerts})
        files[slo_rules_file(slo)] = dump_yaml({"groups": groups}, [slo.origin.file])
    by_component: dict[str, list[Alert]] = {}
    for alert in plan.alerts:
        by_component.setdefault(alert.component, []).append(alert)
    for component in sorted(by_component):
        alerts_list = by_component[component]
        group = {
            "name": C.alerts_group(svc, component),
            "rules": [threshold_rule(plan, a) for a in alerts_list],
        }
        sources = [a.origin.file for a in alerts_list]
        files[alerts_file(component)] = dump_yaml({"groups": [group]}, sources)
    return files
