"""The Alertmanager route tree, built as data from the plan, and a Python walk of it that answers
"who is notified" exactly as Alertmanager's ``Route.Match`` does.

Tree (top-level children of the root, first match wins unless ``continue``):

1. the Watchdog (``conventions.watchdog_alert`` of the service's prefix) -> the heartbeat
   receiver, repeated every minute (``blackhole`` when the spec names no heartbeat receiver: it
   must never reach a human);
2. explanation holds (``bzzzmon.render.escalation``), when the spec has any -> ``blackhole``;
3. per escalated severity: ``escalation="true", severity=<S>`` -> S's ``escalate_to`` receivers;
4. per severity: ``severity=<S>`` -> S's receivers, then every team whose components match;
5. the catch-all: anything else (no severity, an unknown one) -> ``routing.catch_all``, with the
   most urgent severity's timings, since a typo in a P0's severity must not wait a day.

A route has one receiver, so a severity with several receivers is a parent route whose children
(one per receiver, no matchers, all ``continue: true``) all match; the parent carries the timings
they inherit. Team routes are children of every severity route (``component=~...``), so a team is
told in addition to the severity's receivers, with that severity's timings and maintenance mutes.
``mute_time_intervals`` is not inherited in Alertmanager, so every leaf route of a muted severity
names the windows itself. A severity without receivers ends at ``blackhole`` (the lint warns);
without ``catch_all`` so does an alert without a known severity (the lint warns too).

Timings, from a severity's response time R (the time a human has to react):
- ``group_wait = R/30``: the first notification of a new group leaves 29/30 of R to the human;
- ``group_interval = R/6``: an alert joining a group already notified waits at most R/6;
- ``repeat_interval = R``: while unresolved, remind once per response time. R/6 divides R (for
  any R in whole minutes), so the reminder lands exactly on a group_interval tick instead of
  drifting to the next one.
Each is rounded down to whole seconds and at least one second. For the runbook's P0 (R = 15m):
30s / 2m30s / 15m; P1 (1h): 2m / 10m / 1h; P2 (4h): 8m / 40m / 4h; P3 (24h): 48m / 4h / 1d.
Escalation routes use their severity's timings. The Watchdog uses 0s / 1m / 1m: the heartbeat
receiver's own deadline then detects a dead pipeline within about a minute plus its grace time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Severity
from bzzzmon.promql.duration import format_duration
from bzzzmon.render.alertmanager.matchers import Matcher, all_match, equal_or_any, parse_all
from bzzzmon.spec.names import explanation_hold_alert_name

Route = dict[str, Any]


@dataclass(frozen=True)
class Timings:
    group_wait: int
    group_interval: int
    repeat_interval: int

    def as_route(self) -> dict[str, str]:
        return {
            "group_wait": _duration(self.group_wait),
            "group_interval": _duration(self.group_interval),
            "repeat_interval": _duration(self.repeat_interval),
        }


# 0s / 1m / 1m (see the module doc).
WATCHDOG_TIMINGS = Timings(group_wait=0, group_interval=60, repeat_interval=60)


def _duration(seconds: int) -> str:
    return format_duration(seconds) if seconds > 0 else "0s"


def timings(severity: Severity) -> Timings:
    """Notification timings derived from the severity's response time (see the module doc)."""
    r = severity.response_time
    return Timings(max(1, r // 30), max(1, r // 6), max(1, r))


def mutes_of(plan: Plan, severity: str) -> list[str]:
    """Maintenance windows that mute ``severity``, in spec order."""
    return [w.name for w in plan.routing.maintenance_windows if severity in w.mute]


def _leaf(receiver: str, mutes: list[str], matchers: list[Matcher] | None = None) -> Route:
    route: Route = {}
    if matchers:
        route["matchers"] = [m.format() for m in matchers]
    route["receiver"] = receiver
    if mutes:
        route["mute_time_intervals"] = list(mutes)
    route["continue"] = True
    return route


def watchdog_route(plan: Plan) -> Route:
    return {
        "matchers": [Matcher("alertname", "=", plan.service.watchdog_alert).format()],
        "receiver": plan.routing.heartbeat_receiver or C.NULL_RECEIVER,
        **WATCHDOG_TIMINGS.as_route(),
    }


def _parent(matchers: list[Matcher], severity: Severity, children: list[Route]) -> Route:
    """A route with the severity's timings whose leaf children name the receivers."""
    route: Route = {
        "matchers": [m.format() for m in matchers],
        "receiver": C.NULL_RECEIVER,
        **timings(severity).as_route(),
    }
    if children:
        route["routes"] = children
    return route


def escalation_route(plan: Plan, severity: Severity) -> Route:
    mutes = mutes_of(plan, severity.name)
    return _parent(
        [
            Matcher(C.LABEL_ESCALATION, "=", "true"),
            Matcher(C.LABEL_SEVERITY, "=", severity.name),
        ],
        severity,
        [_leaf(r, mutes) for r in severity.escalate_to],
    )


def severity_route(plan: Plan, severity: Severity) -> Route:
    mutes = mutes_of(plan, severity.name)
    children = [_leaf(r, mutes) for r in severity.receivers]
    for team in plan.routing.teams:
        component = equal_or_any(C.LABEL_COMPONENT, team.components)
        children.extend(
            _leaf(r, mutes, [component]) for r in team.receivers if r not in severity.receivers
        )
    return _parent([Matcher(C.LABEL_SEVERITY, "=", severity.name)], severity, children)


def hold_route(plan: Plan) -> Route:
    return {
        "matchers": [Matcher("alertname", "=", explanation_hold_alert_name(plan)).format()],
        "receiver": C.NULL_RECEIVER,
    }


def catch_all_route(plan: Plan, receivers: Sequence[str] | None = None) -> Route:
    """Anything else -> ``receivers`` (default: the plan's catch-all), with the timings of the
    plan's most urgent severity."""
    urgent = plan.severities[0]
    told = plan.routing.catch_all if receivers is None else receivers
    return {
        "receiver": C.NULL_RECEIVER,
        **timings(urgent).as_route(),
        "routes": [_leaf(r, []) for r in told],
    }


def composed_catch_all(plans: Sequence[Plan]) -> list[str]:
    """Who is told of an alert of no known service (several services in one Alertmanager):
    every service's catch-all receivers."""
    return list(dict.fromkeys(r for p in plans if p.severities for r in p.routing.catch_all))


def most_urgent(plans: Sequence[Plan]) -> Plan:
    """The plan whose most urgent severity responds first (the composed catch-all's timings)."""
    return min((p for p in plans if p.severities), key=lambda p: p.severities[0].response_time)


def route_tree(plan: Plan) -> Route:
    """The ``route:`` section of alertmanager.yml."""
    routes = [watchdog_route(plan)]
    if any(i.hold for i in plan.routing.inhibitions):
        routes.append(hold_route(plan))
    routes += [escalation_route(plan, plan.severity(s)) for s in plan.routing.escalate]
    routes += [severity_route(plan, s) for s in plan.severities]
    if plan.routing.catch_all and plan.severities:
        routes.append(catch_all_route(plan))
    return {
        "receiver": C.NULL_RECEIVER,
        "group_by": list(plan.routing.group_by),
        "routes": routes,
    }


@dataclass(frozen=True)
class RouteMatch:
    """A route an alert ends at: its (possibly inherited) receiver and its own mutes."""

    receiver: str
    mute_time_intervals: tuple[str, ...]


def match_routes(route: Route, labels: Mapping[str, str]) -> list[RouteMatch]:
    """Alertmanager's ``Route.Match`` over a route dict: the routes an alert ends at, in order.

    A route matches when all its matchers do; its children are tried in order, a matching child
    without ``continue`` stops its siblings; when no child matches the route itself is the match.
    """
    return _match(route, labels, route.get("receiver", ""))


def _match(route: Route, labels: Mapping[str, str], inherited: str) -> list[RouteMatch]:
    if not all_match(parse_all(route.get("matchers", [])), labels):
        return []
    receiver = route.get("receiver") or inherited
    found: list[RouteMatch] = []
    for child in route.get("routes", []):
        matched = _match(child, labels, receiver)
        found.extend(matched)
        if matched and not child.get("continue", False):
            break
    if not found:
        found.append(RouteMatch(receiver, tuple(route.get("mute_time_intervals", ()))))
    return found


def receivers_for(plan: Plan, labels: dict[str, str]) -> list[str]:
    """Receivers notified of an alert with ``labels``, in the order ``amtool config routes test``
    prints them (one per matched route, as Alertmanager notifies them)."""
    return [m.receiver for m in match_routes(route_tree(plan), labels)]
