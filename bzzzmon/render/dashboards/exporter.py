"""The exporter's own view: probe success per component and target, probe durations, stale
results, failure reasons, and whether the exporter itself is scraped and configured."""

from __future__ import annotations

from decimal import Decimal

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.dashboards.common import (
    RATE,
    dashboard_path,
    description,
    exporter_uid,
    histogram_quantile,
    job_matchers,
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


def _healthy_when_one(title: str, query: Query, what: str) -> PanelSpec:
    """A yes/no stat: red unless the value is 1."""
    return PanelSpec(
        "stat",
        title,
        "bool_yes_no",
        (query,),
        what,
        width=6,
        base_color="red",
        thresholds=(Threshold(1, "green"),),
    )


def build(plan: Plan) -> DashboardSpec:
    exporter = job_matchers(plan, C.SELECTOR_EXPORTER)
    comp = (C.VAR_COMPONENT,)

    def e(metric: str) -> str:
        return selector(metric, exporter, comp)

    def plain(metric: str) -> str:
        return selector(metric, exporter)

    duration = plain(C.PROBE_DURATION + "_bucket")
    items: list[PanelSpec | Row] = [
        Row("Probes"),
        PanelSpec(
            "timeseries",
            "Probe success per component and target",
            "percentunit",
            (Query(f"avg_over_time({e(C.PROBE_SUCCESS)}[{RATE}])", "{{component}} {{target}}"),),
            "Share of probes that succeeded and were fresh, per component and target.",
            base_color="red",
            thresholds=(Threshold(1, "green"),),
            min=0,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            "Probe failures per second by component, target and reason",
            "cps",
            (
                Query(
                    sum_rate(
                        e(C.EXPORTER_PROBE_FAILURES),
                        (C.LABEL_COMPONENT, C.LABEL_TARGET, C.LABEL_REASON),
                    ),
                    "{{component}} {{target}} {{reason}}",
                ),
            ),
            "Why probes fail: timeout, refused, bad status, stale result and so on.",
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Probe duration",
            "s",
            tuple(
                Query(histogram_quantile(q, duration, ("le",)), f"quantile {q}")
                for q in ("0.5", "0.9", "0.99")
            ),
            "Duration of every probe of every target (the histogram carries no per-target "
            "labels); the dashed line is the probe timeout.",
            thresholds=(Threshold(plan.exporter.probe_timeout, "red"),),
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Stale probe results per component",
            "short",
            (
                Query(
                    f"sum by ({C.LABEL_COMPONENT}) ({e(C.EXPORTER_STALE_PROBES)})",
                    "{{component}}",
                ),
            ),
            f"Results older than the maximum result age ({plan.exporter.max_result_age}s), "
            "which count as failed.",
            thresholds=(Threshold(Decimal("0.5"), "red"),),
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Age of the latest probe round",
            "s",
            (Query(f"time() - {plain(C.EXPORTER_LAST_PROBE_TIMESTAMP)}", "age"),),
            "Seconds since the latest probe round finished; above the dashed line results go "
            "stale.",
            thresholds=(Threshold(plan.exporter.max_result_age, "red"),),
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Probe round duration",
            "s",
            (Query(plain(C.EXPORTER_ROUND_DURATION), "round"),),
            "How long the latest probe round took; above the dashed line (the probe interval) "
            "rounds overrun their schedule.",
            thresholds=(Threshold(plan.exporter.probe_interval, "red"),),
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Targets per component",
            "short",
            (Query(e(C.EXPORTER_TARGETS), "{{component}}"),),
            "Targets probed for each component in the latest round.",
            min=0,
        ),
        Row("Health checks and scores"),
        PanelSpec(
            "timeseries",
            "Health checks per second by component and check",
            "cps",
            (
                Query(
                    sum_rate(e(C.HEALTH_CHECKS_PASSED), (C.LABEL_COMPONENT, C.LABEL_CHECK)),
                    "passed {{component}} {{check}}",
                ),
                Query(
                    sum_rate(e(C.HEALTH_CHECKS_FAILED), (C.LABEL_COMPONENT, C.LABEL_CHECK)),
                    "failed {{component}} {{check}}",
                ),
            ),
            "Checks read from the agents' /health/checks, passed and failed.",
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Component health scores",
            "percentunit",
            (Query(e(C.COMPONENT_HEALTH_SCORE), "{{component}}"),),
            "The scores the exporter derives from the probe results.",
            min=0,
            max=1,
        ),
        Row("Exporter process"),
        _healthy_when_one(
            "Exporter scraped",
            Query(f"min({plain('up')})", "up"),
            "Whether Prometheus' latest scrape of the exporter succeeded.",
        ),
        _healthy_when_one(
            "Last config reload successful",
            Query(f"min({plain(C.EXPORTER_CONFIG_LAST_RELOAD_OK)})", "reload ok"),
            "0 after a reload (SIGHUP) whose config was rejected; the old config stays in use.",
        ),
        PanelSpec(
            "stat",
            "Exporter version",
            "short",
            (Query(plain(C.EXPORTER_BUILD_INFO), "{{version}}"),),
            "The running exporter's version (the series' label).",
            width=6,
        ),
        PanelSpec(
            "stat",
            "Scrape duration",
            "s",
            (Query(f"max({plain('scrape_duration_seconds')})", "scrape"),),
            "A scrape reads the latest results and should never wait on a probe.",
            width=6,
            thresholds=(Threshold(1, "orange"),),
        ),
    ]
    return DashboardSpec(
        uid=exporter_uid(plan),
        title=f"{plan.service.alert_prefix} exporter",
        description=description(
            plan.files_of("service", "components", "probes", "exporter"),
            "The bzzzmon exporter's own view: probe success and duration, stale probes.",
        ),
        tags=(plan.service.name, "bzzzmon", C.DASHBOARD_KIND_EXPORTER),
        variables=[
            datasource_variable(plan),
            label_variable(C.VAR_COMPONENT, "Component", plain(C.PROBE_SUCCESS)),
        ],
        items=items,
        links=[
            ("Overview", dashboard_path(overview_uid(plan))),
            ("Runbook", plan.service.runbook_url),
        ],
    )
