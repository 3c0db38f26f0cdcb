"""Routing and inhibition test cases generated with the config.

``routing-tests.yml``: ``{name, labels, receivers}`` (plus ``muted_by`` for the routes a maintenance
window mutes), one per severity and per special case: the Watchdog, each escalation, each team
override, each maintenance-muted severity, and an alert without a severity. The expected receivers
are stated from the spec's meaning (a severity's receivers, then its teams'), independently of the
route tree, so ``amtool config routes test --verify.receivers`` checks the tree against the spec.

``inhibition-tests.yml``: ``{name, source, target, inhibited}`` per generated inhibit rule: the
source inhibits the target, and the target's escalation; not when an ``equal`` label differs (each
of them); not a target as severe as the source (unless the inhibition allows any severity); never
the Watchdog (unless the spec's target names it). amtool cannot test inhibition; ``bzzzmon test``
evaluates these in Python with Alertmanager's semantics (``alertmanager.inhibit.is_inhibited``),
and tests/alertmanager runs them on the real Alertmanager.
"""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Severity
from bzzzmon.render.alertmanager.inhibit import inhibit_rules, not_watchdog
from bzzzmon.render.alertmanager.matchers import Matcher, example_value, parse_all
from bzzzmon.render.alertmanager.routes import composed_catch_all, mutes_of
from bzzzmon.spec.names import explanation_hold_alert_name

Case = dict[str, Any]


def _example_alert(plan: Plan, severity: str, component: str | None = None) -> dict[str, str]:
    """Labels of a real alert of ``severity`` (and ``component``), or a made-up one."""
    for a in plan.alerts:
        if a.name == plan.service.watchdog_alert or a.severity != severity:
            continue
        if component is None or a.component == component:
            return {
                "alertname": a.name,
                C.LABEL_COMPONENT: a.component,
                C.LABEL_ALERT_KIND: "threshold",
            }
    for slo in plan.slos:
        if component is not None and slo.component != component:
            continue
        for tier in slo.tiers:
            if tier.severity == severity:
                return {
                    "alertname": slo.alert_name,
                    C.LABEL_COMPONENT: slo.component,
                    C.LABEL_SLO: slo.name,
                    C.LABEL_TIER: tier.name,
                    C.LABEL_ALERT_KIND: "burn_rate",
                }
    return {
        "alertname": f"Example{severity}Alert",
        C.LABEL_COMPONENT: component or "example",
        C.LABEL_ALERT_KIND: "threshold",
    }


def _labels(plan: Plan, *parts: dict[str, str]) -> dict[str, str]:
    merged = dict(plan.service.labels)
    for p in parts:
        merged.update(p)
    return dict(sorted(merged.items()))


def expected_receivers(plan: Plan, severity: Severity, component: str) -> list[str]:
    """What the spec says: the severity's receivers, then each team owning the component."""
    out = list(severity.receivers)
    for team in plan.routing.teams:
        if component in team.components:
            out += [r for r in team.receivers if r not in severity.receivers]
    return out or [C.NULL_RECEIVER]


def routing_cases(plan: Plan) -> list[Case]:
    cases: list[Case] = []
    for s in plan.severities:
        labels = _labels(plan, _example_alert(plan, s.name), {C.LABEL_SEVERITY: s.name})
        cases.append(
            {
                "name": f"severity {s.name} ({s.title})",
                "labels": labels,
                "receivers": expected_receivers(plan, s, labels[C.LABEL_COMPONENT]),
            }
        )
    watchdog = next((a for a in plan.alerts if a.name == plan.service.watchdog_alert), None)
    cases.append(
        {
            "name": "watchdog goes to the heartbeat receiver only",
            "labels": _labels(
                plan,
                {"alertname": plan.service.watchdog_alert, C.LABEL_ALERT_KIND: "threshold"},
                {C.LABEL_SEVERITY: watchdog.severity, C.LABEL_COMPONENT: watchdog.component}
                if watchdog
                else {},
            ),
            "receivers": [plan.routing.heartbeat_receiver or C.NULL_RECEIVER],
        }
    )
    for name in plan.routing.escalate:
        s = plan.severity(name)
        escalated = _example_alert(plan, name)
        cases.append(
            {
                "name": f"escalation of {name} goes to its escalate_to receivers",
                "labels": _labels(plan, escalation_of(escalated, name)),
                "receivers": list(s.escalate_to) or [C.NULL_RECEIVER],
            }
        )
    if any(i.hold for i in plan.routing.inhibitions):
        cases.append(
            {
                "name": "an explanation hold reaches nobody",
                "labels": _labels(
                    plan,
                    _example_alert(plan, plan.severities[0].name),
                    {
                        "alertname": explanation_hold_alert_name(plan),
                        C.LABEL_SEVERITY: plan.severities[0].name,
                        C.LABEL_EXPLANATION: next(
                            i.name for i in plan.routing.inhibitions if i.hold
                        ),
                    },
                ),
                "receivers": [C.NULL_RECEIVER],
            }
        )
    for team in plan.routing.teams:
        component = team.components[0]
        s = next((x for x in plan.severities if x.receivers), plan.severities[0])
        cases.append(
            {
                "name": f"team {team.name} is told about {component} ({s.name})",
                "labels": _labels(
                    plan, _example_alert(plan, s.name, component), {C.LABEL_SEVERITY: s.name}
                ),
                "receivers": expected_receivers(plan, s, component),
            }
        )
    for window in plan.routing.maintenance_windows:
        for name in window.mute:
            s = plan.severity(name)
            labels = _labels(plan, _example_alert(plan, name), {C.LABEL_SEVERITY: name})
            cases.append(
                {
                    "name": f"maintenance window {window.name} mutes {name}",
                    "labels": labels,
                    "receivers": expected_receivers(plan, s, labels[C.LABEL_COMPONENT]),
                    "muted_by": mutes_of(plan, name),
                }
            )
    unrouted = list(plan.routing.catch_all) or [C.NULL_RECEIVER]
    who = "the catch-all receivers" if plan.routing.catch_all else "nobody"
    cases.append(
        {
            "name": f"an alert without a severity reaches {who}",
            "labels": _labels(plan, {"alertname": "ExampleUnroutedAlert"}),
            "receivers": unrouted,
        }
    )
    cases.append(
        {
            "name": f"an alert with an unknown severity reaches {who}",
            "labels": _labels(
                plan, {"alertname": "ExampleUnroutedAlert", C.LABEL_SEVERITY: "critical"}
            ),
            "receivers": unrouted,
        }
    )
    return cases


def escalation_of(alert: dict[str, str], severity: str) -> dict[str, str]:
    """The labels Alertmanager sees on the escalation of ``alert``: its own, its name kept (the
    relabeling in prometheus.yml), ``escalation="true"`` and the name's copy."""
    name = alert.get("alertname") or f"Example{severity}Alert"
    return dict(alert) | {
        "alertname": name,
        C.LABEL_SEVERITY: severity,
        C.LABEL_ESCALATION: "true",
        C.LABEL_ESCALATED_ALERT: name,
    }


def _positive(matchers: list[Matcher]) -> dict[str, str]:
    out = {}
    for m in matchers:
        value = example_value(m)
        if value is not None:
            out[m.name] = value
    return out


def _case(name: str, source: dict[str, str], target: dict[str, str], inhibited: bool) -> Case:
    return {
        "name": name,
        "source": dict(sorted(source.items())),
        "target": dict(sorted(target.items())),
        "inhibited": inhibited,
    }


def inhibition_cases(plan: Plan) -> list[Case]:
    cases: list[Case] = []
    by_name = {i.name: i for i in plan.routing.inhibitions}
    rules = inhibit_rules(plan)
    totals: dict[str, int] = {}
    for name, _ in rules:
        totals[name] = totals.get(name, 0) + 1
    counts: dict[str, int] = {}
    for name, rule in rules:
        counts[name] = counts.get(name, 0) + 1
        label = name if totals[name] == 1 else f"{name}#{counts[name]}"
        source = _labels(plan, _positive(parse_all(rule["source_matchers"])))
        target = _labels(plan, _positive(parse_all(rule["target_matchers"])))
        for eq in rule.get("equal", []):
            value = source.get(eq) or target.get(eq) or f"example-{eq}"
            source[eq] = target[eq] = value
        cases.append(_case(f"{label}: source inhibits target", source, target, True))
        severity = target.get(C.LABEL_SEVERITY)
        if severity:
            escalation = escalation_of(target, severity)
            cases.append(_case(f"{label}: and the target's escalation", source, escalation, True))
        for eq in rule.get("equal", []):
            other = dict(target) | {eq: f"{target[eq]}-other"}
            cases.append(_case(f"{label}: not when {eq} differs", source, other, False))
        if not by_name[name].any_severity and C.LABEL_SEVERITY in source:
            same = dict(target) | {C.LABEL_SEVERITY: source[C.LABEL_SEVERITY]}
            cases.append(
                _case(f"{label}: not a target as severe as the source", source, same, False)
            )
        if not_watchdog(plan).format() in rule["target_matchers"]:
            watchdog = dict(target) | {"alertname": plan.service.watchdog_alert}
            cases.append(_case(f"{label}: never the watchdog", source, watchdog, False))
    return cases


def _named(plan: Plan, cases: list[Case]) -> list[Case]:
    return [{**c, "name": f"{plan.service.name}: {c['name']}"} for c in cases]


def composed_routing_cases(plans: list[Plan]) -> list[Case]:
    """Every service's cases (its alerts carry its ``service`` label), then an alert of no
    known service and one without the label, which reach the composed catch-all."""
    cases = [case for plan in plans for case in _named(plan, routing_cases(plan))]
    unrouted = composed_catch_all(plans) or [C.NULL_RECEIVER]
    who = "the catch-all receivers" if composed_catch_all(plans) else "nobody"
    severity = {C.LABEL_SEVERITY: plans[0].severities[0].name} if plans[0].severities else {}
    alert = {"alertname": "ExampleUnroutedAlert", **severity}
    cases.append(
        {
            "name": f"an alert of no known service reaches {who}",
            "labels": dict(sorted({**alert, C.LABEL_SERVICE: "example-unknown"}.items())),
            "receivers": unrouted,
        }
    )
    cases.append(
        {
            "name": f"an alert without a {C.LABEL_SERVICE} label reaches {who}",
            "labels": alert,
            "receivers": unrouted,
        }
    )
    return cases


def composed_inhibition_cases(plans: list[Plan]) -> list[Case]:
    """Every service's cases, and per service that inhibits: its first inhibition does not
    reach the same alert of another service."""
    cases: list[Case] = []
    names = [p.service.name for p in plans]
    for i, plan in enumerate(plans):
        own = _named(plan, inhibition_cases(plan))
        cases += own
        first = next((c for c in own if c["inhibited"]), None)
        if first is None:
            continue
        other = names[(i + 1) % len(names)] if len(names) > 1 else f"{names[i]}-other"
        target = dict(first["target"]) | {C.LABEL_SERVICE: other}
        cases.append(
            _case(
                f"{first['name'].split(': source', 1)[0]}: not the alerts of service {other}",
                first["source"],
                target,
                False,
            )
        )
    return cases
