"""Inhibition on the real Alertmanager: while BZZZSystemHealthCritical fires, a component alert
it explains (BZZZInsufficientPeers, component pubsub) fires in Prometheus but notifies nobody;
once the system alert resolves, the same alert reaches its receivers - so it was held back by
the inhibition and nothing else. And inhibitions never hide a concurrent real fault: one agent's
partition does not hide the DHT failing everywhere, and the P0 system-health alert does not hide
the P0 no-admin alert."""

from __future__ import annotations

import time
from typing import Any

from e2e_support import TIMEOUT

from bzzzmon.model import Plan
from bzzzmon.stack import Stack
from bzzzmon.stack.player import alert_state
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.scenarios import Fault, Scenario, scenario

SOURCE = scenario("system-health-critical")
TARGET = scenario("p2p-partition")


def _switch_on(stack: Stack, incident: Scenario) -> None:
    assert stack.sim is not None
    for fault in incident.faults:
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)


def _switch_off(stack: Stack, incident: Scenario) -> None:
    assert stack.sim is not None
    for name in incident.faults_to_clear:
        stack.sim.clear_faults(name)


def _inhibited(stack: Stack, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The matching alerts Alertmanager holds, if every one of them is inhibited."""
    held = [
        a
        for a in stack.alertmanager.alerts()
        if all(a["labels"].get(k) == v for k, v in labels.items())
    ]
    if held and all(
        a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"] for a in held
    ):
        return held
    return []


def test_system_health_critical_inhibits_component_alerts(stack: Stack, plan: Plan) -> None:
    sink, timing = stack.sink, stack.options.timing
    start = time.time()
    _switch_on(stack, SOURCE)
    stack.wait_until(
        lambda: sink.notifications(SOURCE.alert_labels, "firing", since=start),
        timeout=TIMEOUT,
        what=f"{SOURCE.alert} to notify",
    )

    _switch_on(stack, TARGET)
    stack.wait_until(
        lambda: alert_state(stack, TARGET.alert_labels) == "firing",
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to fire in Prometheus",
    )
    stack.wait_until(
        lambda: _inhibited(stack, TARGET.alert_labels),
        timeout=TIMEOUT,
        what=f"Alertmanager to hold {TARGET.alert} as inhibited",
    )
    # Give Alertmanager every chance to notify: the group's wait plus two flushes.
    time.sleep(timing.group_wait + 2 * timing.group_interval + 1)
    assert sink.notifications(TARGET.alert_labels, since=start) == []

    # The counter-proof: the source resolves, the inhibition lifts, the alert is delivered.
    lifted = time.time()
    _switch_off(stack, SOURCE)
    delivered = stack.wait_until(
        lambda: sink.notifications(TARGET.alert_labels, "firing", since=lifted),
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to notify once {SOURCE.alert} resolved",
    )
    expected = set(notified_receivers(plan, delivered[0].labels))
    assert expected
    stack.wait_until(
        lambda: expected <= sink.receivers(TARGET.alert_labels, since=lifted),
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to reach {sorted(expected)}",
    )
    cleared = time.time()
    _switch_off(stack, TARGET)
    stack.wait_until(
        lambda: sink.notifications(TARGET.alert_labels, "resolved", since=cleared),
        timeout=TIMEOUT,
        what=f"{TARGET.alert} to resolve",
    )
    assert sink.receivers(TARGET.alert_labels, status=None, since=start) == expected


def _notified_everyone(stack: Stack, plan: Plan, labels: dict[str, str], since: float) -> set[str]:
    """Wait until the alert with ``labels`` reached every receiver its routing names."""
    first = stack.wait_until(
        lambda: stack.sink.notifications(labels, "firing", since=since),
        timeout=TIMEOUT,
        what=f"{labels} to notify",
    )[0]
    expected = set(notified_receivers(plan, first.labels))
    assert expected
    stack.wait_until(
        lambda: expected <= stack.sink.receivers(labels, since=since),
        timeout=TIMEOUT,
        what=f"{labels} to reach {sorted(expected)}",
    )
    return expected


def test_one_agents_partition_does_not_hide_the_dht_outage(stack: Stack, plan: Plan) -> None:
    """Agent 0 below 3 peers explains agent 0's alerts, not the DHT failing on every agent."""
    assert stack.sim is not None
    start = time.time()
    lonely = Scenario(
        name="one-agent-partition",
        incident="one agent partitioned",
        runbook=TARGET.runbook,
        faults=(Fault("partition", agent=0, params={"peers": 1}),),
        alert=TARGET.alert,
        severity=TARGET.severity,
    )
    _switch_on(stack, lonely)
    _notified_everyone(stack, plan, lonely.alert_labels, start)
    firing = stack.sink.notifications(lonely.alert_labels, "firing", since=start)
    (peers,) = {n.labels.get("instance") for n in firing}
    assert peers == stack.sim.agent_targets[0]
    dht = scenario("dht-error-budget-burn")
    _switch_on(stack, dht)
    _notified_everyone(stack, plan, dht.alert_labels, start)
    assert not _inhibited(stack, dht.alert_labels)
    _switch_off(stack, dht)
    _switch_off(stack, lonely)


def test_system_health_critical_does_not_hide_no_admin(stack: Stack, plan: Plan) -> None:
    """Both P0: the broader alert never hides the more specific one of equal severity."""
    start = time.time()
    _switch_on(stack, SOURCE)
    _notified_everyone(stack, plan, SOURCE.alert_labels, start)
    no_admin = scenario("no-admin-elected")
    _switch_on(stack, no_admin)
    told = _notified_everyone(stack, plan, no_admin.alert_labels, start)
    assert told == set(plan.severity("P0").receivers)
    assert alert_state(stack, SOURCE.alert_labels) == "firing"  # the two really overlapped
    _switch_off(stack, no_admin)
    _switch_off(stack, SOURCE)
