"""Grafana: the dashboards (overview, one per SLO, the exporter) and their provisioning.

Dashboards are built with grafana-foundation-sdk and written as JSON, one file per dashboard named
by its uid; the uids are the ones the plan gives alerts for their ``dashboard_url``.
"""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.dashboards import exporter, overview, provisioning, slo
from bzzzmon.render.dashboards.panels import DashboardSpec, dashboard_json
from bzzzmon.render.dashboards.queries import runnable_queries
from bzzzmon.render.output import Files


def dashboard_file(uid: str) -> str:
    return f"{C.GRAFANA_DASHBOARDS_DIR}/{uid}.json"


def dashboard_specs(plan: Plan) -> list[DashboardSpec]:
    specs = [overview.build(plan), *(slo.build(plan, s) for s in plan.slos)]
    return [*specs, exporter.build(plan)] if plan.probed else specs


def render(plan: Plan) -> Files:
    files: Files = {}
    for spec in dashboard_specs(plan):
        files[dashboard_file(spec.uid)] = dashboard_json(spec)
    files.update(provisioning.render(plan))
    return files


def panel_queries(files: Files) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL) of every panel query in the rendered ``files``, with
    Grafana's variables replaced by values a live Prometheus accepts (``$__rate_interval`` ->
    ``1m``, template variables -> ``.*``)."""
    return runnable_queries(files)
