"""Prometheus recording and alerting rules: per SLO, and the threshold alerts per component.

Per SLO, four groups:
- ``sli``: bad and total events per second from the raw series at the 5m base window and at every
  page window up to an hour (5m, 30m, 1h by default), so page-fast sees an outage as soon as the
  counters do. Longer windows are ``sum_over_time(bad) / sum_over_time(total)`` over the two 5m
  series: traffic-weighted, cheap, and a window of hours can afford the 2.5 minutes the 5m rate
  smears an event by. Such a window is prorated by the share of it that holds data
  (``window_coverage``), so on a history shorter than the window it does not read as the
  history's ratio.
- ``meta``: objective, budget, period, current burn rate.
- ``period``: the whole-period ratio, its coverage of the period, the period burn rate and the
  budget remaining, every 4 minutes (the period's sum is most of the rules' cost; see
  bzzzmon.slo.windows).
- ``alerts``: one rule per burn-rate tier (same alert name, ``tier`` label), the missing-data
  alerts (quiet while the service is merely idle) and the budget-exhausted alert.

One incident notifies once: a tier stays quiet while a more urgent tier of the same SLO (and
group) was pending or firing within its own short window, read from ``ALERTS``. A page tier also
needs ``min_events`` events in its long window, so a few failed requests at night do not page.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import SLO, Alert, BurnTier, Plan
from bzzzmon.promql.builders import aggregate, selector_text, slo_selector
from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction
from bzzzmon.promql.parse import selectors_of
from bzzzmon.render.memo import plan_memo
from bzzzmon.render.output import Files, dump_yaml
from bzzzmon.render.text import go_literal
from bzzzmon.slo.windows import BASE_WINDOW, PERIOD_EVALUATION_INTERVAL

Rule = dict[str, Any]

# The groups of an SLO's rule file, in the order their rules depend on each other.
SLO_GROUP_ORDER = ("sli", "meta", "period", "alerts")


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


def ratio_series(slo: SLO, window: int) -> str:
    """The SLO's recorded error ratio over ``window`` (the tiers and the explanations' lead)."""
    return slo_selector(C.rec_name(C.REC_ERROR_RATIO, format_duration(window)), slo.name)


def rate_series(template: str, slo: SLO, window: int) -> str:
    """The SLO's recorded bad or total events per second (``template``) over ``window``."""
    return slo_selector(C.rec_name(template, format_duration(window)), slo.name)


def guard_windows(slo: SLO) -> list[int]:
    """The long windows of the page tiers the low-traffic guard reads."""
    if not slo.min_events:
        return []
    return sorted({t.long for t in slo.tiers if t.kind == "page"})


def window_coverage(slo: SLO, window: int) -> str:
    """The share of ``window`` that holds data, up to 1: the 5m total rate counted on a fixed
    5m grid (a subquery, so the count does not depend on the evaluation interval) against the
    grid points a full window holds. A window longer than the history (a fresh install) has its
    ratio multiplied by it: the missing part counts as no errors, so the burn over the window is
    the bad events seen over the events a full window would hold, and a ticket tier's long
    window cannot equal the short history's ratio and fire before the page tiers."""
    total5 = rate_series(C.REC_TOTAL_RATE, slo, BASE_WINDOW)
    w, step = format_duration(window), format_duration(BASE_WINDOW)
    # A window that is no multiple of 5m holds floor(window / 5m) points at least.
    return f"clamp_max(count_over_time({total5}[{w}:{step}]) / {window // BASE_WINDOW}, 1)"


def sli_rules(slo: SLO) -> list[Rule]:
    labels = {C.LABEL_SLO: slo.name}
    rules: list[Rule] = []
    for window in slo.raw_windows:
        bad, total = slo.sli.rates[window]
        w = format_duration(window)
        rules.append({"record": C.rec_name(C.REC_BAD_RATE, w), "expr": bad, "labels": labels})
        rules.append({"record": C.rec_name(C.REC_TOTAL_RATE, w), "expr": total, "labels": labels})
    total5 = rate_series(C.REC_TOTAL_RATE, slo, BASE_WINDOW)
    for window in guard_windows(slo):
        if window not in slo.raw_windows:
            # Events per second over a long page window, for the low-traffic guard, prorated
            # like the window's ratio: on a history shorter than the window the average alone
            # counts the window full of traffic, and the guard passes on a few events.
            w = format_duration(window)
            expr = f"avg_over_time({total5}[{w}]) * {window_coverage(slo, window)}"
            rules.append(
                {"record": C.rec_name(C.REC_TOTAL_RATE, w), "expr": expr, "labels": labels}
            )
    for window in slo.windows:
        if window == slo.period:
            continue  # recorded by the period group
        w = format_duration(window)
        if window in slo.raw_windows:
            bad = rate_series(C.REC_BAD_RATE, slo, window)
            expr = f"{bad} / {rate_series(C.REC_TOTAL_RATE, slo, window)}"
        else:
            bad5 = rate_series(C.REC_BAD_RATE, slo, BASE_WINDOW)
            expr = f"sum_over_time({bad5}[{w}]) / sum_over_time({total5}[{w}])"
            expr += f" * {window_coverage(slo, window)}"
        rules.append({"record": C.rec_name(C.REC_ERROR_RATIO, w), "expr": expr, "labels": labels})
    return rules


def period_rules(slo: SLO) -> list[Rule]:
    """The whole-period ratio, its coverage, burn rate and budget remaining: a group of their
    own, evaluated every PERIOD_EVALUATION_INTERVAL (see bzzzmon.slo.windows).

    Coverage counts the period ratio's own samples over the period against those of the last
    hour, so it needs no knowledge of the evaluation interval; during the first hour it reads as
    one hour. The budget remaining is prorated by it: on a young deployment the bad events so far
    are weighed against the budget of the whole period's traffic, not of the traffic so far.
    """
    labels = {C.LABEL_SLO: slo.name}
    budget = format_decimal(slo.budget)
    w = slo.period_text
    bad = rate_series(C.REC_BAD_RATE, slo, BASE_WINDOW)
    total = rate_series(C.REC_TOTAL_RATE, slo, BASE_WINDOW)
    ratio = ratio_series(slo, slo.period)
    hour = format_duration(3600)
    coverage = (
        f"clamp_max(count_over_time({ratio}[{w}]) / count_over_time({ratio}[{hour}])"
        f" * {format_fraction(Fraction(3600, slo.period))}, 1)"
    )
    return [
        {
            "record": C.rec_name(C.REC_ERROR_RATIO, w),
            "expr": f"sum_over_time({bad}[{w}]) / sum_over_time({total}[{w}])",
            "labels": labels,
        },
        {"record": C.REC_PERIOD_COVERAGE, "expr": coverage, "labels": labels},
        {
            "record": C.REC_PERIOD_BURN,
            "expr": f"{ratio} / {budget}",
            "labels": labels,
        },
        {
            "record": C.REC_BUDGET_REMAINING,
            "expr": (
                f"1 - {slo_selector(C.REC_PERIOD_BURN, slo.name)}"
                f" * {slo_selector(C.REC_PERIOD_COVERAGE, slo.name)}"
            ),
            "labels": labels,
        },
    ]


def meta_rules(slo: SLO) -> list[Rule]:
    labels = {C.LABEL_SLO: slo.name}
    budget = format_decimal(slo.budget)
    info = {
        **slo.own_labels,
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
            "expr": f"{ratio_series(slo, BASE_WINDOW)} / {budget}",
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


def tier_expr(slo: SLO, tier: BurnTier) -> str:
    """Both windows above the tier's threshold; for a page tier enough events in the long window;
    for a tier slower than page-fast, on a history shorter than page-fast's window, page-fast's
    events too; and no more urgent tier of the SLO pending or firing within the short window."""
    threshold = threshold_text(tier.factor, slo.budget_fraction)
    long, short = ratio_series(slo, tier.long), ratio_series(slo, tier.short)
    parts = [f"{long} > {threshold}", f"{short} > {threshold}"]
    if tier.kind == "page" and slo.min_events:
        events = rate_series(C.REC_TOTAL_RATE, slo, tier.long)
        parts.append(f"{events} * {tier.long} >= {slo.min_events}")
    young = slo.raw_guard_window
    if young is not None and tier.long > young:
        # On a history shorter than page-fast's window both windows hold the same events, which
        # the raw counters and the 5m rates count a few apart: a slower tier (a ticket has no
        # guard of its own) takes page-fast's guard there, so it cannot pass before page-fast is
        # pending, which holds it (measured on a young live stack: a ticket, then the page).
        events = rate_series(C.REC_TOTAL_RATE, slo, young)
        parts.append(
            f"(\n  {events} * {young} >= {slo.min_events}\n  or\n"
            f"  {window_coverage(slo, young)} >= 1\n)"
        )
    expr = "\nand\n".join(parts)
    if tier.suppressed_by:
        on = ", ".join((C.LABEL_SLO, *slo.group_by))
        alerts = selector_text(
            "ALERTS",
            [
                ("alertname", "=", slo.alert_name),
                (C.LABEL_SLO, "=", slo.name),
                (C.LABEL_TIER, "=~", "|".join(tier.suppressed_by)),
            ],
        )
        expr += f"\nunless on ({on})\nmax_over_time({alerts}[{tier.short_text}])"
    return expr


def missing_group_expr(slo: SLO) -> str:
    """A group of a grouped SLI whose series vanished: seen within the longest page window, not
    now, while other groups remain (the whole SLI vanishing is ``absent()``'s job)."""
    by = slo.group_by
    lookback = format_duration(max((t.long for t in slo.tiers if t.kind == "page"), default=3600))
    raw = slo.sli.raw
    if any(use.name_regex for use in selectors_of(raw)):
        # Several metrics: present_over_time() drops their names and their series with equal
        # labels would collide; the recorded total rate is one series per group.
        raw = rate_series(C.REC_TOTAL_RATE, slo, BASE_WINDOW)
    seen = aggregate("count", by, f"present_over_time({raw}[{lookback}])")
    now = aggregate("count", by, raw)
    return f"{seen}\nunless\n{now}\nand on ()\ncount({raw})"


def slo_alert_rules(plan: Plan, slo: SLO) -> list[Rule]:
    """The SLO's alerting rules, rendered once per plan (the rules file, its tests, the catalog
    and the routing checks all read them): shared, so read them, never change them."""
    memo = plan_memo(plan)
    key = ("slo_alert_rules", id(slo))
    found = memo.get(key)
    if found is None:
        found = memo[key] = _slo_alert_rules(plan, slo)
    return found


def _slo_alert_rules(plan: Plan, slo: SLO) -> list[Rule]:
    rules: list[Rule] = []
    title = go_literal(slo.title)  # annotations are templates; the title is not
    base_labels = slo.own_labels | slo.labels
    objective = format_decimal(slo.objective_percent)
    for tier in slo.tiers:
        expr = tier_expr(slo, tier)
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
        missing = {
            "for": format_duration(slo.missing_data.for_),
            "labels": _labels(
                plan,
                base_labels,
                {C.LABEL_SEVERITY: slo.missing_data.severity, C.LABEL_ALERT_KIND: "missing_data"},
            ),
        }
        since = format_duration(slo.missing_data.for_)
        rules.append(
            {"alert": slo.missing_data.name, "expr": f"absent({slo.sli.raw})"}
            | missing
            | {
                "annotations": _annotations(
                    f"The {title} SLI has no data.",
                    f"No series of the {title} SLI have been seen for {since}: the SLO cannot "
                    f"be evaluated and its burn-rate alerts cannot fire. An idle service keeps "
                    f"its series and does not raise this alert; vanished series (scrape failure, "
                    f"renamed metric) do.",
                    slo.runbook_url,
                    slo.dashboard_url,
                )
            }
        )
        if slo.group_by:
            groups = ", ".join(slo.group_by)
            rules.append(
                {"alert": slo.missing_data.name, "expr": missing_group_expr(slo)}
                | missing
                | {
                    "annotations": _annotations(
                        f"The {title} SLI has no data{_group_text(slo)}.",
                        f"The series of this {groups} of the {title} SLI vanished at least "
                        f"{since} ago while others remain: it is not counted in the SLO and its "
                        f"burn cannot alert.",
                        slo.runbook_url,
                        slo.dashboard_url,
                    )
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
