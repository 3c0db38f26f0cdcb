"""Inhibition on the real Alertmanager: while BZZZSystemHealthCritical fires, a component alert
it explains (BZZZInsufficientPeers, component pubsub) fires in Prometheus but notifies nobody;
once the system alert resolves, the same alert reaches its receivers - so it was held back by
the inhibition and nothing else."""

from __future__ import annotations

import time
from typing import Any

from e2e_support import TIMEOUT

from bzzzmon.model import Plan
from bzzzmon.scenarios import scenario
from bzzzmon.stack import Stack
from bzzzmon.stack.player import alert_state
from bzzzmon.stack.routing import notified_receivers

SOURCE = scenario("system-health-critical")
TARGET = scenario("p2p-partition")


def _suppressed_in_alertmanager(stack: Stack, labels: dict[str, str]) -> list[dict[str, Any]]:
    held = [
        a
        for a in stack.alertmanager.alerts()
        if all(a["labels"].get(k) == v for k, v in labels.items())
    ]
    inhibited = [a for a in held if a["status"]["state"] == "suppressed"]
    ok = held and len(inhibited) == len(held) and all(a["status"]["inhibitedBy"] for a in held)
    return held if ok else []


def test_system_health_critical_inhibits_component_alerts(stack: Stack, plan: Plan) -> None:
    assert stack.sim is not None
    timing = stack.options.timing
    start = time.time()
    for fault in SOURCE.faults:
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)
    stack.wait_until(
        lambda: [
            n for n in stack.sink.notifications(SOURCE.alert_labels, "firing") if n.received >= start
        ],
        timeout=TIMEOUT,
        what=f"{SOURCE.alert} to notify",
    )

    for fault in TARGET.faults:
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)
    stack.wait_until(
        lambda: alert_state(stack, TARGET.alert_labels) == "firing",
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to fire in Prometheus",
    )
    stack.wait_until(
        lambda: _suppressed_in_alertmanager(stack, TARGET.alert_labels),
        timeout=TIMEOUT,
        what=f"Alertmanager to hold {TARGET.alert} as inhibited",
    )
    # Give Alertmanager every chance to notify: the group's wait plus two flushes.
    time.sleep(timing.group_wait + 2 * timing.group_interval + 1)
    leaked = [n for n in stack.sink.notifications(TARGET.alert_labels) if n.received >= start]
    assert leaked == []

    # The counter-proof: the source resolves, the inhibition lifts, the alert is delivered.
    lifted = time.time()
    for name in SOURCE.faults_to_clear:
        stack.sim.clear_faults(name)
    delivered = stack.wait_until(
        lambda: [
            n
            for n in stack.sink.notifications(TARGET.alert_labels, "firing")
            if n.received >= lifted
        ],
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to notify once {SOURCE.alert} resolved",
    )
    expected = set(notified_receivers(plan, delivered[0].labels))
    stack.wait_until(
        lambda: expected
        <= {
            n.receiver
            for n in stack.sink.notifications(TARGET.alert_labels, "firing")
            if n.received >= lifted
        },
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to reach {sorted(expected)}",
    )
    cleared = time.time()
    for name in TARGET.faults_to_clear:
        stack.sim.clear_faults(name)
    stack.wait_until(
        lambda: [
            n
            for n in stack.sink.notifications(TARGET.alert_labels, "resolved")
            if n.received >= cleared
        ],
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to resolve",
    )
    told = {n.receiver for n in stack.sink.notifications(TARGET.alert_labels) if n.received >= start}
    assert told == expected
