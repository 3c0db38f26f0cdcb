"""Read panel queries back out of rendered dashboards, and make them runnable on Prometheus.

Grafana expands its variables before it sends a query; Prometheus (and promql-parser) never see
them. ``substitute`` plays Grafana's part with values a live Prometheus accepts, so the lint can
parse every query and the end-to-end test can run it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.render.output import Files

# Grafana's built-in interval variables, by the value a Prometheus scraping every 15s accepts.
BUILTIN_VALUES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
}
# Template variables are multi-value with "All" = ".*" and are used only as regex matchers.
VARIABLE_VALUE = ".*"

# $name, ${name} and ${name:format}
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")


class UnknownVariable(ValueError):
    pass


@dataclass(frozen=True)
class PanelQuery:
    uid: str
    panel: str  # the panel's title
    panel_id: int
    ref_id: str
    expr: str  # as stored in the dashboard, with Grafana variables


def substitute(expr: str, variables: frozenset[str] | set[str]) -> str:
    """``expr`` with Grafana's variables replaced; raises UnknownVariable for any other ``$x``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTIN_VALUES:
            return BUILTIN_VALUES[name]
        if name in variables:
            return VARIABLE_VALUE
        raise UnknownVariable(name)

    return _VARIABLE.sub(value, expr)


def dashboard_paths(files: Files) -> list[str]:
    """The path of every rendered dashboard, in order."""
    prefix = C.GRAFANA_DASHBOARDS_DIR + "/"
    return sorted(p for p in files if p.startswith(prefix) and p.endswith(".json"))


def dashboards(files: Files) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, dashboard JSON) of every rendered dashboard, in path order."""
    for path in dashboard_paths(files):
        yield path, json.loads(files[path])


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, with the panels of collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", []) or []


def variable_names(dashboard: dict[str, Any]) -> frozenset[str]:
    return frozenset(v["name"] for v in dashboard.get("templating", {}).get("list", []))


def queries(dashboard: dict[str, Any]) -> Iterator[PanelQuery]:
    uid = str(dashboard.get("uid", ""))
    for panel in panels(dashboard):
        for target in panel.get("targets", []) or []:
            expr = target.get("expr")
            if isinstance(expr, str):
                yield PanelQuery(
                    uid,
                    str(panel.get("title", "")),
                    int(panel.get("id", 0)),
                    str(target.get("refId", "")),
                    expr,
                )


def runnable_queries(files: Files) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL with Grafana variables substituted) of every query."""
    found: list[tuple[str, str, str]] = []
    for _, dashboard in dashboards(files):
        names = variable_names(dashboard)
        for q in queries(dashboard):
            found.append((q.uid, q.panel, substitute(q.expr, names)))
    return found
