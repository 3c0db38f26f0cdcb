"""``alertmanager/alertmanager.yml``, its notification templates and its routing/inhibition tests.

The config, built as data from the plan:
- ``route``: the tree of ``alertmanager.routes`` (Watchdog -> heartbeat, explanation holds ->
  nobody, escalations -> each severity's ``escalate_to``, severities -> their receivers plus team
  overrides; anything else -> ``routing.catch_all``, else ``blackhole``), with timings derived
  from each severity's response time R: ``group_wait = R/30``, ``group_interval = R/6``,
  ``repeat_interval = R`` (whole seconds, at least 1s). A new alert is told within R/30 (new
  group) or R/6 (existing group), leaving most of the response time to the human; an unresolved
  one is repeated once per response time, exactly on a group_interval tick since R/6 divides R
  (R in whole minutes). The runbook's P0/P1/P2/P3 (R = 15m/1h/4h/24h) give 30s/2m30s/15m,
  2m/10m/1h, 8m/40m/4h and 48m/4h/1d. The Watchdog uses 0s/1m/1m.
- ``inhibit_rules``: ``alertmanager.inhibit`` (``source_matchers``/``target_matchers``/``equal``).
- ``time_intervals``: one per maintenance window; the leaf routes of the severities a window
  mutes list it in ``mute_time_intervals``.
- ``receivers``: ``alertmanager.receivers``; secrets only by file.
- ``templates``: ``templates/*.tmpl``, relative to the config file as Alertmanager resolves it.

``receivers_for(plan, labels)`` answers "who is notified" by walking the same route tree in
Python exactly as Alertmanager does.
"""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import MaintenanceWindow, Plan
from bzzzmon.render.alertmanager import templates as alertmanager_templates
from bzzzmon.render.alertmanager.inhibit import inhibit_rules
from bzzzmon.render.alertmanager.matchers import Matcher
from bzzzmon.render.alertmanager.receivers import receivers
from bzzzmon.render.alertmanager.routes import (
    catch_all_route,
    composed_catch_all,
    match_routes,
    most_urgent,
    receivers_for,
    route_tree,
)
from bzzzmon.render.alertmanager.tests import (
    composed_inhibition_cases,
    composed_routing_cases,
    inhibition_cases,
    routing_cases,
)
from bzzzmon.render.output import Files, dump_yaml

__all__ = ["config", "match_routes", "receivers_for", "render"]


def time_interval(window: MaintenanceWindow) -> dict[str, Any]:
    ranges = []
    for t in window.times:
        entry: dict[str, Any] = {}
        if t.weekdays:
            entry["weekdays"] = list(t.weekdays)
        entry["times"] = [{"start_time": t.start, "end_time": t.end}]
        entry["location"] = t.location
        ranges.append(entry)
    return {"name": window.name, "time_intervals": ranges}


def config(plan: Plan) -> dict[str, Any]:
    """The whole alertmanager.yml as data."""
    data: dict[str, Any] = {
        "templates": [alertmanager_templates.TEMPLATES_GLOB],
        "route": route_tree(plan),
        "receivers": receivers(plan),
    }
    rules = [rule for _, rule in inhibit_rules(plan)]
    if rules:
        data["inhibit_rules"] = rules
    if plan.routing.maintenance_windows:
        data["time_intervals"] = [time_interval(w) for w in plan.routing.maintenance_windows]
    return data


def _files(plan: Plan, data: dict[str, Any], routing: list[Any], inhibition: list[Any]) -> Files:
    """The config, its tests and the templates, with ``plan``'s spec files in the headers."""
    sources = plan.files_of("service", "severities", "receivers", "routing")
    files: Files = {
        C.ALERTMANAGER_CONFIG: dump_yaml(data, sources),
        C.ALERTMANAGER_ROUTING_TESTS: dump_yaml(routing, sources),
        C.ALERTMANAGER_INHIBITION_TESTS: dump_yaml(inhibition, sources),
    }
    files.update(alertmanager_templates.render(plan))
    return files


def render(plan: Plan) -> Files:
    return _files(plan, config(plan), routing_cases(plan), inhibition_cases(plan))


def _scoped(plan: Plan, rule: dict[str, Any]) -> dict[str, Any]:
    """An inhibit rule of one service, never crossing into another's alerts."""
    own = Matcher(C.LABEL_SERVICE, "=", plan.service.name).format()
    return {
        **rule,
        "source_matchers": [own, *rule["source_matchers"]],
        "target_matchers": [own, *rule["target_matchers"]],
    }


def composed_config(plans: list[Plan]) -> dict[str, Any]:
    """alertmanager.yml of several services (``bzzzmon.compose`` has checked that a receiver or
    time interval two services declare is the same): a route per service matching
    ``service="<name>"`` with that service's tree below it, then one catch-all for alerts of no
    known service, which tells every service's ``routing.catch_all``."""
    routes: list[dict[str, Any]] = []
    found: dict[str, dict[str, dict[str, Any]]] = {"receivers": {}, "time_intervals": {}}
    rules: list[dict[str, Any]] = []
    for plan in plans:
        data = config(plan)
        routes.append(
            {
                "matchers": [Matcher(C.LABEL_SERVICE, "=", plan.service.name).format()],
                "receiver": C.NULL_RECEIVER,
                "group_by": data["route"]["group_by"],
                "routes": data["route"]["routes"],
            }
        )
        for key, known in found.items():
            for item in data.get(key, []):
                known.setdefault(item["name"], item)
        rules += [_scoped(plan, rule) for rule in data.get("inhibit_rules", [])]
    catch_all = composed_catch_all(plans)
    if catch_all:
        routes.append(catch_all_route(most_urgent(plans), catch_all))
    composed: dict[str, Any] = {
        "templates": [alertmanager_templates.TEMPLATES_GLOB],
        "route": {
            "receiver": C.NULL_RECEIVER,
            "group_by": [C.LABEL_SERVICE, "alertname"],
            "routes": routes,
        },
        "receivers": list(found["receivers"].values()),
    }
    if rules:
        composed["inhibit_rules"] = rules
    if found["time_intervals"]:
        composed["time_intervals"] = list(found["time_intervals"].values())
    return composed


def render_composed(plans: list[Plan], merged: Plan) -> Files:
    """alertmanager.yml, its templates and its tests for several services; every service's
    routing and inhibition tests run against the composed config, with cases of their own for
    what the composition adds (an alert of no known service; no inhibition across services)."""
    return _files(
        merged,
        composed_config(plans),
        composed_routing_cases(plans),
        composed_inhibition_cases(plans),
    )
