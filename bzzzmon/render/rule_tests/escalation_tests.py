"""promtool tests for the escalation rules (bzzzmon/render/escalation.py).

The rules read ``ALERTS``, so the tests feed ``ALERTS`` series directly: an alert of the
severity firing longer than the resolution target escalates (keeping its labels, its name in
``escalated_alert``); one that stops firing before does not; the Watchdog never escalates.
"""

from __future__ import annotations

import math
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.rule_tests.inputs import Series
from bzzzmon.render.rule_tests.timeline import (
    Group,
    Labels,
    firing_labels,
    firing_query,
    steps_for,
)
from bzzzmon.slo.windows import BASE_WINDOW


def _sample_alert(plan: Plan, severity: str) -> tuple[str, str]:
    """(alertname, component) of an alert of ``severity`` the plan defines, for realism."""
    for alert in plan.alerts:
        if alert.severity == severity:
            return alert.name, alert.component
    for slo in plan.slos:
        for tier in slo.tiers:
            if tier.severity == severity:
                return slo.alert_name, slo.component
    return "BZZZTestAlert", "test"


def _alerts_series(name: str, severity: str, component: str) -> Series:
    labels = {
        "alertname": name,
        "alertstate": "firing",
        C.LABEL_SEVERITY: severity,
        C.LABEL_COMPONENT: component,
    }
    return Series("ALERTS", tuple(sorted(labels.items())))


def escalation_test_groups(
    plan: Plan, rules: list[dict[str, Any]], interval: int
) -> list[dict[str, Any]]:
    groups: list[Group] = []
    for rule in rules:
        labels: Labels = dict(rule["labels"])
        severity = labels[C.LABEL_SEVERITY]
        hold = plan.severity(severity).resolution_target
        name, component = _sample_alert(plan, severity)
        query = firing_query(rule["alert"])
        expected = firing_labels(
            rule["alert"], labels, {C.LABEL_COMPONENT: component, C.LABEL_ESCALATED_ALERT: name}
        )

        # Firing from t=0 on: escalates once it has fired for the resolution target.
        long = Group(interval)
        fires = steps_for(hold, interval)
        long.track(_alerts_series(name, severity, component), counter=False).hold(1, fires + 2)
        long.expect(fires - 1, query, [])
        long.expect(fires + 1, query, [expected])
        groups.append(long)

        # Firing for less than the target (the series stays visible for the 5m lookback after
        # its last sample): no escalation.
        short = Group(interval)
        samples = max(1, math.floor((hold - BASE_WINDOW) / interval) - 1)
        short.track(_alerts_series(name, severity, component), counter=False).hold(1, samples)
        watchdog = _alerts_series(C.WATCHDOG_ALERT, severity, component)
        short.track(watchdog, counter=False).hold(1, fires + 2)
        short.expect(fires + 1, query, [])
        groups.append(short)
    return [g.data() for g in groups]
