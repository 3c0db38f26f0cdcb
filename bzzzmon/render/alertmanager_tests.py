"""Routing and inhibition test cases generated with the config.

``routing-tests.yml``: ``{name, labels, receivers}`` (plus ``muted_by`` for the routes a maintenance
window mutes), one per severity and per special case: the Watchdog, each escalation, each team
override, each maintenance-muted severity, and an alert without a severity. The expected receivers
are stated from the spec's meaning (a severity's receivers, then its teams'), independently of the
route tree, so ``amtool config routes test --verify.receivers`` checks the tree against the spec.

``inhibition-tests.yml``: ``{name, source, target, inhibited}`` per generated inhibit rule: the
source inhibits the target; not when an ``equal`` label differs; never the Watchdog nor an
escalation (unless the spec's target names them). amtool cannot test inhibition; ``bzzzmon test``
evaluates these in Python with Alertmanager's semantics (``alertmanager_inhibit.is_inhibited``).
"""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Severity
from bzzzmon.render.alertmanager_inhibit import (
    NOT_ESCALATION,
    NOT_WATCHDOG,
    alternatives,
    inhibit_rules,
)
from bzzzmon.render.alertmanager_matchers import Matcher, example_value, parse_all
from bzzzmon.render.alertmanager_routes import mutes_of
from bzzzmon.spec.plan import escalation_alert_name

Case = dict[str, Any]


def _example_alert(plan: Plan, severity: str, component: str | None = None) -> dict[str, str]:
    """Labels of a real alert of ``severity`` (and ``component``), or a made-up one."""
    for a in plan.alerts:
        if a.name == C.WATCHDOG_ALERT or a.severity != severity:
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
    watchdog = next((a for a in plan.alerts if a.name == C.WATCHDOG_ALERT), None)
    cases.append(
        {
            "name": "watchdog goes to the heartbeat receiver only",
            "labels": _labels(
                plan,
                {"alertname": C.WATCHDOG_ALERT, C.LABEL_ALERT_KIND: "threshold"},
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
                "labels": _labels(
                    plan,
                    escalated,
                    {
                        "alertname": escalation_alert_name(name),
                        C.LABEL_ESCALATED_ALERT: escalated["alertname"],
                        C.LABEL_SEVERITY: name,
                        C.LABEL_ALERT_KIND: C.ALERT_KIND_ESCALATION,
                        C.LABEL_ESCALATION: "true",
                    },
                ),
                "receivers": list(s.escalate_to) or [C.NULL_RECEIVER],
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
    cases.append(
        {
            "name": "an alert without a severity reaches nobody",
            "labels": _labels(plan, {"alertname": "ExampleUnroutedAlert"}),
            "receivers": [C.NULL_RECEIVER],
        }
    )
    return cases


def _positive(matchers: list[Matcher]) -> dict[str, str]:
    out = {}
    for m in matchers:
        value = example_value(m)
        if value is not None:
            out[m.name] = value
    return out


def inhibition_cases(plan: Plan) -> list[Case]:
    cases: list[Case] = []
    by_name = {i.name: i for i in plan.routing.inhibitions}
    counts: dict[str, int] = {}
    for name, rule in inhibit_rules(plan):
        counts[name] = counts.get(name, 0) + 1
        label = name if len(alternatives(by_name[name].target)) == 1 else f"{name}#{counts[name]}"
        source = _labels(plan, _positive(parse_all(rule["source_matchers"])))
        target = _labels(plan, _positive(parse_all(rule["target_matchers"])))
        for eq in rule.get("equal", []):
            value = source.get(eq) or target.get(eq) or f"example-{eq}"
            source[eq] = target[eq] = value
        cases.append(
            {
                "name": f"{label}: source inhibits target",
                "source": source,
                "target": target,
                "inhibited": True,
            }
        )
        if rule.get("equal"):
            eq = rule["equal"][0]
            other = dict(target) | {eq: f"{target[eq]}-other"}
            cases.append(
                {
                    "name": f"{label}: not when {eq} differs",
                    "source": source,
                    "target": other,
                    "inhibited": False,
                }
            )
        targets = rule["target_matchers"]
        if NOT_WATCHDOG.format() in targets:
            cases.append(
                {
                    "name": f"{label}: never the watchdog",
                    "source": source,
                    "target": dict(target) | {"alertname": C.WATCHDOG_ALERT},
                    "inhibited": False,
                }
            )
        if NOT_ESCALATION.format() in targets:
            severity = target.get(C.LABEL_SEVERITY, plan.severities[0].name)
            cases.append(
                {
                    "name": f"{label}: never an escalation",
                    "source": source,
                    "target": dict(target)
                    | {
                        "alertname": escalation_alert_name(severity),
                        C.LABEL_ALERT_KIND: C.ALERT_KIND_ESCALATION,
                        C.LABEL_ESCALATION: "true",
                    },
                    "inhibited": False,
                }
            )
    for case in cases:
        case["source"] = dict(sorted(case["source"].items()))
        case["target"] = dict(sorted(case["target"].items()))
    return cases
