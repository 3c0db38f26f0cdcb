"""The overview: BZZZ as the runbook's first incident step looks at it, or any other service's
firing alerts and error budgets."""

from __future__ import annotations

from decimal import Decimal

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.dashboards import runbook_panels
from bzzzmon.render.dashboards.common import (
    alert_threshold,
    critical_below,
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


def _firing(plan: Plan) -> PanelSpec:
    alerts_sel = selector("ALERTS", {**plan.service.labels, "alertstate": "firing"})
    return PanelSpec(
        "timeseries",
        "Firing alerts by severity",
        "short",
        (Query(f"sum by ({C.LABEL_SEVERITY}) ({alerts_sel})", "{{severity}}"),),
        "Alerts firing now, from Prometheus' ALERTS series (the watchdog always fires).",
        width=12,
        stacked=True,
    )


def _links(plan: Plan) -> list[tuple[str, str]]:
    exporter = [("Exporter", dashboard_path(exporter_uid(plan)))] if plan.probed else []
    slo_links = [(f"SLO: {s.title}", dashboard_path(s.dashboard_uid)) for s in plan.slos]
    return [*exporter, *slo_links, ("Runbook", plan.service.runbook_url)]


def _service_overview(plan: Plan) -> DashboardSpec:
    """A service that is no BZZZ (no ``agent`` selector): its firing alerts and each SLO's
    remaining error budget; each SLO's own dashboard has the rest."""
    budgets = [
        PanelSpec(
            "stat",
            f"Error budget remaining: {s.title}",
            "percentunit",
            (Query(selector(C.REC_BUDGET_REMAINING, {C.LABEL_SLO: s.name}), s.name),),
            f"The share of the {s.period_text} error budget not yet spent.",
            width=6,
            base_color="red",
            thresholds=(Threshold(Decimal(0), "green"),),
        )
        for s in plan.slos
    ]
    items: list[PanelSpec | Row] = [Row("Alerts"), _firing(plan)]
    if budgets:
        items += [Row("Error budgets"), *budgets]
    return DashboardSpec(
        uid=overview_uid(plan),
        title=f"{plan.service.alert_prefix} overview",
        description=description(
            plan.files_of("service", "slos", "alerts"),
            "Firing alerts and the error budget each SLO has left.",
        ),
        tags=(plan.service.name, "bzzzmon", C.DASHBOARD_KIND_OVERVIEW),
        variables=[datasource_variable(plan)],
        items=items,
        links=_links(plan),
    )


def build(plan: Plan) -> DashboardSpec:
    if C.SELECTOR_AGENT not in plan.service.own_selectors:
        return _service_overview(plan)
    agent = job_matchers(plan, C.SELECTOR_AGENT)
    exporter = job_matchers(plan, C.SELECTOR_EXPORTER)
    inst = (C.VAR_INSTANCE,)

    def a(metric: str) -> str:
        return selector(metric, agent, inst)

    def e(metric: str) -> str:
        return selector(metric, exporter)

    health_base, health_steps = critical_below(alert_threshold(plan, C.SYSTEM_HEALTH_SCORE))
    peers_base, peers_steps = critical_below(alert_threshold(plan, C.AGENT_PEERS))
    repl_base, repl_steps = critical_below(alert_threshold(plan, C.AGENT_DHT_REPLICATION))
    memory = alert_threshold(plan, "process_resident_memory_bytes")
    memory_steps = (Threshold(memory, "red"),) if memory is not None else ()
    latency = C.AGENT_DHT_LATENCY + "_bucket"

    items: list[PanelSpec | Row] = [
        Row("System health"),
        PanelSpec(
            "stat",
            "System health score",
            "percentunit",
            (Query(f"min({e(C.SYSTEM_HEALTH_SCORE)})", "system"),),
            "Weighted mean of the component scores; below the red line the system is critical.",
            width=6,
            base_color=health_base,
            thresholds=health_steps,
            min=0,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            "System health score over time",
            "percentunit",
            (Query(e(C.SYSTEM_HEALTH_SCORE), "system health"),),
            "The dashed line is the critical level the system-health alert fires on.",
            width=18,
            base_color=health_base,
            thresholds=health_steps,
            min=0,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            "Component health scores",
            "percentunit",
            (Query(e(C.COMPONENT_HEALTH_SCORE), "{{component}}"),),
            "Score of each component (0..1) from the exporter's latest probe results.",
            width=12,
            min=0,
            max=1,
        ),
        _firing(plan),
        *runbook_panels.slo_summary(plan),
        *runbook_panels.agents_and_bootstrap(plan),
        Row("P2P network and admin election"),
        PanelSpec(
            "timeseries",
            "Connected peers per agent",
            "short",
            (Query(a(C.AGENT_PEERS), "{{instance}}"),),
            "Below the dashed line the agent alerts as partitioned.",
            width=8,
            base_color=peers_base,
            thresholds=peers_steps,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Agents per election state",
            "short",
            (Query(f"sum by ({C.LABEL_STATE}) ({a(C.AGENT_ELECTION_STATE)})", "{{state}}"),),
            "Exactly one agent should be admin.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Leader changes per minute",
            "cpm",
            (Query(f"{sum_rate(a(C.AGENT_LEADER_CHANGES))} * 60", "leader changes"),),
            "Admin role changes; frequent changes mean an unstable election.",
            width=8,
            min=0,
        ),
        Row("DHT"),
        PanelSpec(
            "timeseries",
            "DHT replication factor",
            "short",
            (Query(a(C.AGENT_DHT_REPLICATION), "{{instance}}"),),
            "Copies of each record; the dashed line is the degraded level.",
            width=8,
            base_color=repl_base,
            thresholds=repl_steps,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "DHT provider records",
            "short",
            (Query(a(C.AGENT_DHT_PROVIDER_RECORDS), "{{instance}}"),),
            "Provider records each agent holds.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "DHT operations per second",
            "ops",
            (
                Query(sum_rate(a(C.AGENT_DHT_PUT), (C.LABEL_RESULT,)), "put {{result}}"),
                Query(sum_rate(a(C.AGENT_DHT_GET), (C.LABEL_RESULT,)), "get {{result}}"),
            ),
            "Put and get operations by result.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "DHT operation latency",
            "s",
            tuple(
                Query(
                    histogram_quantile(q, a(latency), ("le", C.LABEL_OPERATION)),
                    f"p{q[2:].ljust(2, '0')} {{{{operation}}}}",
                )
                for q in ("0.5", "0.99")
            ),
            "Median and 99th percentile latency of DHT operations, by operation.",
            width=24,
            min=0,
        ),
        *runbook_panels.slurp_and_ucxi(plan),
        Row("Errors and resources"),
        PanelSpec(
            "timeseries",
            "Errors per second by component",
            "cps",
            (Query(sum_rate(a(C.AGENT_ERRORS), (C.LABEL_COMPONENT,)), "{{component}}"),),
            "Errors the agents count, by component.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "PubSub messages per second",
            "cps",
            (Query(sum_rate(a(C.AGENT_PUBSUB_MESSAGES), (C.LABEL_DIRECTION,)), "{{direction}}"),),
            "Messages sent and received over PubSub.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Resident memory per agent",
            "bytes",
            (Query(a("process_resident_memory_bytes"), "{{instance}}"),),
            "The dashed line is the high-memory alert's threshold.",
            width=8,
            base_color="green",
            thresholds=memory_steps,
            min=0,
        ),
        *runbook_panels.hosts_and_containers(plan),
        *runbook_panels.postgres_and_backups(plan),
    ]
    return DashboardSpec(
        uid=overview_uid(plan),
        title=f"{plan.service.alert_prefix} overview",
        description=description(
            plan.files_of("service", "components", "alerts"),
            "BZZZ system health, SLOs, agents, P2P network, admin election, DHT, SLURP, UCXI, "
            "errors, hosts, containers, PostgreSQL, backups and firing alerts.",
        ),
        tags=(plan.service.name, "bzzzmon", C.DASHBOARD_KIND_OVERVIEW),
        variables=[
            datasource_variable(plan),
            label_variable(C.VAR_INSTANCE, "Agent", selector(C.AGENT_PEERS, agent)),
        ],
        items=items,
        links=_links(plan),
    )
