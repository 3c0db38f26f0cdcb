"""The overview's rows for the SLO summary and the rest of the runbook's signals: agents and
bootstrap nodes, SLURP and UCXI, hosts and containers, PostgreSQL and its backups.

A row whose series the spec does not read is left out: the host, container and PostgreSQL rows
need the spec's ``node``, ``cadvisor`` and ``postgres`` selectors (the jobs the generated
prometheus.yml scrapes), the backup panels the file probe's metrics, the bootstrap panel the
``dht-bootstrap`` component. Lines drawn are the thresholds of the alerts reading the same
metric, so a panel crosses its line when the alert's condition holds.
"""

from __future__ import annotations

from decimal import Decimal

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.dashboards.common import (
    alert_threshold,
    critical_below,
    job_matchers,
    selector,
    sum_rate,
)
from bzzzmon.render.dashboards.panels import PanelSpec, Query, Row, Threshold

Items = list[PanelSpec | Row]


def _above(plan: Plan, metric: str) -> tuple[Threshold, ...]:
    """Red from the alert's line upwards."""
    value = alert_threshold(plan, metric)
    return (Threshold(value, "red"),) if value is not None else ()


def slo_summary(plan: Plan) -> Items:
    """Objective, SLI over its period, budget left and burn rate now, one value per SLO (the
    worst group of a grouped SLO), read from the SLOs' recording rules."""
    if not plan.slos:
        return []

    def by_slo(aggregation: str, record: str) -> str:
        return f"{aggregation} by ({C.LABEL_SLO}) ({record})"

    legend = "{{slo}}"
    sli = f"1 - {by_slo('max', C.REC_PERIOD_BURN)} * {by_slo('max', C.REC_ERROR_BUDGET)}"
    return [
        Row("Service level objectives"),
        PanelSpec(
            "stat",
            "Objective",
            "percentunit",
            (Query(by_slo("max", C.REC_OBJECTIVE), legend),),
            "Each SLO's objective: the share of good events (or good time) it promises over its "
            "period. The SLO dashboards (links above) have the detail.",
            width=6,
            decimals=2,
        ),
        PanelSpec(
            "stat",
            "SLI over the period",
            "percentunit",
            (Query(sli, legend),),
            "Good over all events in each SLO's whole period (the worst group of a grouped SLO).",
            width=6,
            decimals=3,
        ),
        PanelSpec(
            "stat",
            "Error budget left",
            "percentunit",
            (Query(by_slo("min", C.REC_BUDGET_REMAINING), legend),),
            "Share of the period's error budget not spent yet; at 0 the objective is missed.",
            width=6,
            base_color="red",
            thresholds=(Threshold(0, "orange"), Threshold(Decimal("0.25"), "green")),
            decimals=1,
        ),
        PanelSpec(
            "stat",
            "Burn rate now",
            "suffix:x",
            (Query(by_slo("max", C.REC_CURRENT_BURN), legend),),
            "Error ratio over the base window divided by the budget: 1x spends exactly the "
            "budget over the period; the burn-rate pages start at several times that.",
            width=6,
            thresholds=(Threshold(1, "orange"),),
            decimals=2,
        ),
    ]


def agents_and_bootstrap(plan: Plan) -> Items:
    agent = job_matchers(plan, C.SELECTOR_AGENT)
    up = selector("up", agent, (C.VAR_INSTANCE,))
    items: Items = [
        Row("Agents and DHT bootstrap nodes"),
        PanelSpec(
            "stat",
            "Agents up",
            "short",
            (Query(f"sum({up})", "up"), Query(f"count({up})", "scraped")),
            "Agents Prometheus scrapes successfully, of all it scrapes. An agent down is named "
            "by its own alert.",
            width=6,
            decimals=0,
        ),
        PanelSpec(
            "timeseries",
            "Agent up, per agent",
            "short",
            (Query(up, "{{instance}}"),),
            "1 while Prometheus scrapes the agent, 0 while it is down or unreachable.",
            width=10 if _has_bootstrap(plan) else 18,
            base_color="red",
            thresholds=(Threshold(1, "green"),),
            min=0,
            max=1,
        ),
    ]
    if _has_bootstrap(plan):
        probes = selector(
            C.PROBE_SUCCESS,
            {
                **job_matchers(plan, C.SELECTOR_EXPORTER),
                C.LABEL_COMPONENT: C.COMPONENT_DHT_BOOTSTRAP,
            },
        )
        items.append(
            PanelSpec(
                "stat",
                "DHT bootstrap nodes",
                "short",
                (Query(f"max by ({C.LABEL_TARGET}) ({probes})", "{{target}}"),),
                "1: the node accepts TCP connections; 0: new agents cannot join through it.",
                width=8,
                base_color="red",
                thresholds=(Threshold(1, "green"),),
                decimals=0,
            )
        )
    return items


def _has_bootstrap(plan: Plan) -> bool:
    return any(c.name == C.COMPONENT_DHT_BOOTSTRAP for c in plan.components)


def slurp_and_ucxi(plan: Plan) -> Items:
    agent = job_matchers(plan, C.SELECTOR_AGENT)

    def a(metric: str) -> str:
        return selector(metric, agent, (C.VAR_INSTANCE,))

    return [
        Row("SLURP and UCXI"),
        PanelSpec(
            "timeseries",
            "SLURP events per second by result",
            "ops",
            (Query(sum_rate(a(C.AGENT_SLURP_EVENTS), (C.LABEL_RESULT,)), "{{result}}"),),
            "Context events the SLURP generator processed, failed and dead-lettered.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "SLURP events per second, per agent",
            "ops",
            (Query(sum_rate(a(C.AGENT_SLURP_EVENTS), ("instance",)), "{{instance}}"),),
            "SLURP runs on the admin only: a second agent here is a split brain.",
            width=8,
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "UCXI resolutions per second by result",
            "ops",
            (Query(sum_rate(a(C.AGENT_UCXI_RESOLUTIONS), (C.LABEL_RESULT,)), "{{result}}"),),
            "Address resolutions of the UCXI resolver, by result.",
            width=8,
            min=0,
        ),
    ]


def hosts_and_containers(plan: Plan) -> Items:
    selectors = plan.service.selectors
    items: Items = []
    if C.SELECTOR_CADVISOR in selectors:
        cadvisor = job_matchers(plan, C.SELECTOR_CADVISOR)

        def c(metric: str) -> str:
            return selector(metric, cadvisor, extra=('name!=""',))

        by = "instance, name"
        items += [
            PanelSpec(
                "timeseries",
                "Container memory, of its limit",
                "percentunit",
                (
                    Query(
                        f"max by ({by}) ({c(C.CONTAINER_MEMORY)} / "
                        f"({c(C.CONTAINER_MEMORY_LIMIT)} > 0))",
                        "{{name}} {{instance}}",
                    ),
                ),
                "Working set over the memory limit (cAdvisor); at 100% the container is "
                "OOM-killed. Containers without a limit are left out.",
                width=8,
                thresholds=_above(plan, C.CONTAINER_MEMORY),
                min=0,
            ),
            PanelSpec(
                "timeseries",
                "Container CPU, of its quota",
                "percentunit",
                (
                    Query(
                        f"sum by ({by}) (rate({c(C.CONTAINER_CPU)}[$__rate_interval])) "
                        f"/ on ({by}) (max by ({by}) ({c(C.CONTAINER_CPU_QUOTA)} > 0) "
                        f"/ max by ({by}) ({c(C.CONTAINER_CPU_PERIOD)}))",
                        "{{name}} {{instance}}",
                    ),
                ),
                "CPU used over the CPU quota (cAdvisor); near 100% the container is throttled. "
                "Containers without a quota are left out.",
                width=8,
                thresholds=_above(plan, C.CONTAINER_CPU),
                min=0,
            ),
        ]
    if C.SELECTOR_NODE in selectors:
        node = job_matchers(plan, C.SELECTOR_NODE)

        def n(metric: str) -> str:
            return selector(metric, node, extra=(f'fstype!~"{C.NODE_FS_PSEUDO}"',))

        items.append(
            PanelSpec(
                "timeseries",
                "Host filesystems used",
                "percentunit",
                (
                    Query(
                        f"1 - {n(C.NODE_FS_AVAIL)} / {n(C.NODE_FS_SIZE)}",
                        "{{instance}} {{mountpoint}}",
                    ),
                ),
                "Share of each filesystem in use (node_exporter); the runbook plans capacity at "
                "the dashed line.",
                width=8,
                thresholds=_above(plan, C.NODE_FS_AVAIL),
                min=0,
                max=1,
            )
        )
    return [Row("Hosts and containers"), *items] if items else []


def postgres_and_backups(plan: Plan) -> Items:
    items: Items = []
    if C.SELECTOR_POSTGRES in plan.service.selectors:
        pg = job_matchers(plan, C.SELECTOR_POSTGRES)
        base, steps = critical_below(Decimal(1))
        items += [
            PanelSpec(
                "stat",
                "PostgreSQL up",
                "short",
                (Query(f"min({selector(C.PG_UP, pg)})", "pg_up"),),
                "1 while postgres_exporter can query the database.",
                width=4,
                base_color=base,
                thresholds=steps,
                decimals=0,
            ),
            PanelSpec(
                "timeseries",
                "Connections, of max_connections",
                "percentunit",
                (
                    Query(
                        f"sum by (instance) ({selector(C.PG_BACKENDS, pg)}) / max by (instance) "
                        f"({selector(C.PG_MAX_CONNECTIONS, pg)})",
                        "{{instance}}",
                    ),
                ),
                "Open connections over the server's limit.",
                width=7,
                thresholds=_above(plan, C.PG_BACKENDS),
                min=0,
                max=1,
            ),
            PanelSpec(
                "timeseries",
                "WAL archiving",
                "s",
                (Query(selector(C.PG_ARCHIVE_AGE, pg), "since the last archived segment"),),
                "Seconds since the last WAL segment was archived (archive_timeout bounds it "
                "on an idle database).",
                width=7,
                thresholds=_above(plan, C.PG_ARCHIVE_AGE),
                min=0,
            ),
            PanelSpec(
                "timeseries",
                "WAL archive failures per second",
                "ops",
                (Query(sum_rate(selector(C.PG_ARCHIVE_FAILED, pg), ("instance",)), "failed"),),
                "Failed archive_command runs.",
                width=6,
                min=0,
            ),
        ]
    if C.FILE_NEWEST_AGE in plan.metrics and C.FILE_NEWEST_SIZE in plan.metrics:
        exporter = job_matchers(plan, C.SELECTOR_EXPORTER)
        by = f"{C.LABEL_COMPONENT}, {C.LABEL_TARGET}"
        size_base, size_steps = critical_below(alert_threshold(plan, C.FILE_NEWEST_SIZE))
        items += [
            PanelSpec(
                "timeseries",
                "Newest backup age",
                "s",
                (
                    Query(
                        f"max by ({by}) ({selector(C.FILE_NEWEST_AGE, exporter)})",
                        "{{target}}",
                    ),
                ),
                "Age of the newest file matching each backup pattern (the exporter's file "
                "probe); past the dashed line the daily backup is overdue.",
                width=12,
                thresholds=_above(plan, C.FILE_NEWEST_AGE),
                min=0,
            ),
            PanelSpec(
                "timeseries",
                "Newest backup size",
                "bytes",
                (
                    Query(
                        f"min by ({by}) ({selector(C.FILE_NEWEST_SIZE, exporter)})",
                        "{{target}}",
                    ),
                ),
                "Size of that newest file; below the dashed line the dump failed early.",
                width=12,
                base_color=size_base,
                thresholds=size_steps,
                min=0,
            ),
        ]
    return [Row("PostgreSQL and backups"), *items] if items else []
