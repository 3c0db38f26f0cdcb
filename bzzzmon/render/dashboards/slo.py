"""One dashboard per SLO: SLI against its objective, the error budget left over the period, the
burn rate of every alert tier against the tier's exact factor, events per second, its alerts.

Every SLO number comes from the recording rules the build produces (bzzzmon.render.rules), so the
dashboard shows exactly what the alerts evaluate; only the raw-input panels read the contract's
series, at ``$__rate_interval``.
"""

from __future__ import annotations

from decimal import Decimal

from bzzzmon import conventions as C
from bzzzmon.model import SLO, BurnTier, Plan
from bzzzmon.promql.builders import selector_text, with_suffix
from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction
from bzzzmon.promql.parse import selectors_of
from bzzzmon.promql.regex_names import finite_names
from bzzzmon.render.dashboards.common import (
    dashboard_path,
    description,
    histogram_quantile,
    overview_uid,
    selector,
    sum_rate,
)
from bzzzmon.render.dashboards.panels import (
    DashboardSpec,
    PanelSpec,
    Query,
    Row,
    Threshold,
    datasource_variable,
    label_variable,
)
from bzzzmon.slo.windows import BASE_WINDOW

BURN_UNIT = "suffix:x"


def _rec(slo: SLO, name: str) -> str:
    """A recording rule's series of this SLO, filtered by the SLO's grouping variables."""
    return selector(name, {C.LABEL_SLO: slo.name}, slo.group_by)


def _ratio(slo: SLO, window: int) -> str:
    return _rec(slo, C.rec_name(C.REC_ERROR_RATIO, format_duration(window)))


def _legend(slo: SLO, text: str) -> str:
    groups = " ".join(f"{{{{{g}}}}}" for g in slo.group_by)
    return f"{text} {groups}" if groups else text


def _burn_panel(slo: SLO, tier: BurnTier) -> PanelSpec:
    budget = format_decimal(slo.budget)
    factor = format_fraction(tier.factor)
    hold = format_duration(tier.for_) if tier.for_ else "one evaluation"
    return PanelSpec(
        "timeseries",
        f"Burn rate, {tier.name} ({tier.long_text} and {tier.short_text} windows)",
        BURN_UNIT,
        (
            Query(f"{_ratio(slo, tier.long)} / {budget}", _legend(slo, f"{tier.long_text} window")),
            Query(
                f"{_ratio(slo, tier.short)} / {budget}", _legend(slo, f"{tier.short_text} window")
            ),
            Query(f"vector({factor})", f"threshold {factor}x"),
        ),
        f"Error ratio divided by the error budget ({budget}). The {tier.severity} alert fires "
        f"when both windows burn faster than {factor}x for {hold}: "
        f"{format_decimal(tier.budget_percent)}% of the {slo.period_text} budget spent within "
        f"{tier.long_text}.",
        width=12,
        thresholds=(Threshold(tier.factor, "red"),),
        min=0,
    )


def per_metric(text: str) -> list[tuple[str, str]]:
    """(metric, selector) for every metric the selector ``text`` names, so a name regex such as
    ``{__name__=~"a|b"}`` becomes one selector per metric: ``rate()`` drops the name, and two
    series that differ only by name would collide (Prometheus rejects such a vector)."""
    (use,) = selectors_of(text)
    if use.name_regex is None:
        return [(use.name or text, text)]
    names = finite_names(use.name_regex) or []
    rest = [(label, op, value) for label, op, value in use.matchers if label != "__name__"]
    return [(name, selector_text(name, rest)) for name in names]


def _input_panels(slo: SLO) -> list[PanelSpec]:
    """The SLI's raw inputs at Grafana's resolution, to look behind the 5m recording rules."""
    inputs = slo.sli.inputs
    if slo.sli.kind == "ratio":
        queries = [
            Query(sum_rate(sel, slo.group_by), _legend(slo, f"{role} {name}"))
            for role in ("total", "bad", "good")
            if role in inputs
            for name, sel in per_metric(inputs[role])
        ]
        return [
            PanelSpec(
                "timeseries",
                "Raw events per second",
                "ops",
                tuple(queries),
                "The SLI's counters read directly, at the dashboard's resolution, one series "
                "per counter.",
            )
        ]
    if slo.sli.kind == "latency":
        bucket = with_suffix(inputs["histogram"], "_bucket")
        return [
            PanelSpec(
                "timeseries",
                "Latency against the SLI threshold",
                "s",
                tuple(
                    Query(
                        histogram_quantile(q, bucket, ("le", *slo.group_by)),
                        _legend(slo, f"quantile {q}"),
                    )
                    for q in ("0.5", "0.9", "0.99")
                ),
                f"Events slower than {inputs['le']} s count against the SLO (dashed line).",
                thresholds=(Threshold(Decimal(inputs["le"]), "red"),),
                min=0,
            )
        ]
    if slo.sli.kind == "promql":
        return [
            PanelSpec(
                "timeseries",
                "Raw events",
                "short",
                tuple(
                    Query(inputs[f"{role}_grafana"], _legend(slo, role))
                    for role in ("total", "bad", "good")
                    if role in inputs
                ),
                "The SLI's own PromQL, with Grafana's rate interval as the window.",
                min=0,
            )
        ]
    return [
        PanelSpec(
            "timeseries",
            "SLI condition input",
            "short",
            (
                Query(inputs["expr"], _legend(slo, "value")),
                Query(inputs["condition"], _legend(slo, "condition holds (1) or not (0)")),
            ),
            f"The value the time-based SLI tests, and whether `{inputs['condition']}` holds.",
            min=0,
        )
    ]


def build(plan: Plan, slo: SLO) -> DashboardSpec:
    base = format_duration(BASE_WINDOW)
    objective = format_decimal(slo.objective)
    objective_pct = format_decimal(slo.objective_percent)
    period_ratio = _ratio(slo, slo.period)
    alerts = selector("ALERTS", {C.LABEL_SLO: slo.name, "alertstate": "firing"})
    total = _rec(slo, C.rec_name(C.REC_TOTAL_RATE, base))
    bad = _rec(slo, C.rec_name(C.REC_BAD_RATE, base))
    time_kind = slo.sli.kind == "time"
    remaining = Query(_rec(slo, C.REC_BUDGET_REMAINING), _legend(slo, "remaining"))
    # Red below the objective, green from it upwards.
    meets_objective = (Threshold(slo.objective, "green"),)
    # The SLI over the fastest tier's long window: smooth enough to read, quick to react.
    short = slo.tiers[0].long if slo.tiers else BASE_WINDOW
    items: list[PanelSpec | Row] = [
        Row(f"Objective: {objective_pct}% over {slo.period_text}"),
        PanelSpec(
            "stat",
            f"SLI over {slo.period_text}",
            "percentunit",
            (Query(f"1 - {period_ratio}", _legend(slo, "SLI")),),
            f"Good events over all events in the last {slo.period_text}; red below the "
            f"objective {objective_pct}%.",
            width=5,
            base_color="red",
            thresholds=meets_objective,
            decimals=3,
        ),
        PanelSpec(
            "stat",
            f"Error budget remaining ({slo.period_text})",
            "percentunit",
            (remaining,),
            "Share of the period's error budget not yet spent; at 0 the objective is missed. "
            "Before the history covers the period, the bad events so far are weighed against "
            "the budget of the whole period's traffic.",
            width=5,
            base_color="red",
            thresholds=(Threshold(0, "orange"), Threshold(Decimal("0.25"), "green")),
            decimals=1,
        ),
        PanelSpec(
            "stat",
            f"History covered ({slo.period_text})",
            "percentunit",
            (Query(_rec(slo, C.REC_PERIOD_COVERAGE), _legend(slo, "covered")),),
            "How much of the period the SLI's history spans: below 100% the period figures "
            "rest on less than a whole period of data.",
            width=4,
            base_color="orange",
            thresholds=(Threshold(1, "green"),),
            decimals=0,
        ),
        PanelSpec(
            "stat",
            f"Current burn rate ({base})",
            BURN_UNIT,
            (Query(_rec(slo, C.REC_CURRENT_BURN), _legend(slo, "burn rate")),),
            "Error ratio over the base window divided by the budget; 1x spends exactly the "
            "budget over the period.",
            width=5,
            thresholds=(Threshold(1, "orange"),),
            decimals=2,
        ),
        PanelSpec(
            "stat",
            "Firing alerts of this SLO",
            "short",
            (Query(f"count({alerts}) or vector(0)", "firing"),),
            f"Alerts with slo={slo.name} firing now.",
            width=5,
            thresholds=(Threshold(1, "red"),),
        ),
        PanelSpec(
            "timeseries",
            "SLI against the objective",
            "percentunit",
            (
                Query(f"1 - {_ratio(slo, short)}", _legend(slo, f"SLI ({format_duration(short)})")),
                Query(f"1 - {period_ratio}", _legend(slo, f"SLI ({slo.period_text})")),
                Query(
                    selector(C.REC_OBJECTIVE, {C.LABEL_SLO: slo.name}),
                    f"objective {objective_pct}%",
                ),
            ),
            f"The SLI over a short and the whole window, against the objective {objective}.",
            base_color="red",
            thresholds=meets_objective,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            f"Error budget remaining over the {slo.period_text} period",
            "percentunit",
            (remaining,),
            "1 - (error ratio over the period / budget) x history covered, as the "
            "budget-exhausted alert reads it.",
            base_color="red",
            thresholds=(Threshold(0, "green"),),
            max=1,
        ),
        Row("Burn rate per alert tier"),
        *(_burn_panel(slo, tier) for tier in slo.tiers),
        Row("Traffic and alerts"),
        PanelSpec(
            "timeseries",
            "SLI series: evaluated and failing the condition" if time_kind else "Events per second",
            "short" if time_kind else "ops",
            (
                Query(total, _legend(slo, "total")),
                Query(bad, _legend(slo, "bad")),
            ),
            f"The SLI's numerator and denominator as recorded at the {base} base window; every "
            "longer window is built from these two series.",
            min=0,
        ),
        *_input_panels(slo),
        PanelSpec(
            "timeseries",
            "Alerts of this SLO",
            "short",
            (
                Query(
                    # A "none" series at 0 while nothing fires: the panel shows a line, not
                    # "No data" (on() keeps it out as soon as any alert fires).
                    f"sum by (alertname, {C.LABEL_TIER}, {C.LABEL_SEVERITY}) ({alerts}) "
                    'or on() label_replace(vector(0), "alertname", "none", "", "")',
                    "{{alertname}} {{tier}} {{severity}}",
                ),
            ),
            "Burn-rate tiers, missing-data and budget-exhausted alerts of this SLO that fire.",
            width=24,
            min=0,
            stacked=True,
        ),
    ]
    variables = [datasource_variable(plan)]
    for label in slo.group_by:
        variables.append(
            label_variable(
                label, label, selector(C.rec_name(C.REC_TOTAL_RATE, base), {C.LABEL_SLO: slo.name})
            )
        )
    return DashboardSpec(
        uid=slo.dashboard_uid,
        title=f"{plan.service.alert_prefix} SLO: {slo.title}",
        description=description(
            [slo.origin.file],
            f"SLO {slo.name}: {slo.description} Objective {objective_pct}% over {slo.period_text}.",
        ),
        tags=(plan.service.name, "bzzzmon", "slo"),
        variables=variables,
        items=items,
        links=[
            ("Overview", dashboard_path(overview_uid(plan))),
            ("Runbook", slo.runbook_url),
        ],
        link_tags=(plan.service.name, "slo"),
        time_from="now-7d",
    )
