"""Two real faults at once on the live stack: each notifies exactly its own receivers, once, and
an explanation hides only what its cause explains.

The DHT fails everywhere (its error page explains the DHT's health-check burn, `equal: [service,
component]`) while PubSub's health checks fail on every agent - a component whose checks no
alert of its own stands for. The health-check burn of PubSub is a real, concurrent incident: the
DHT page must not hide it, and the health-check burn of the DHT must stay hidden."""

from __future__ import annotations

import time

from e2e_support import TIMEOUT

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.stack import Stack
from bzzzmon.stack.player import background, settle, wait_quiet
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.scenarios import Fault, scenario

DHT = scenario("dht-error-budget-burn")
CHECKS_FAIL = Fault("component_unhealthy", params={"component": "pubsub", "status": "unhealthy"})
HEALTH_CHECK_BURN = "BZZZHealthCheckBudgetBurn"
PUBSUB_BURN = {"alertname": HEALTH_CHECK_BURN, C.LABEL_COMPONENT: "pubsub"}
DHT_CHECK_BURN = {"alertname": HEALTH_CHECK_BURN, C.LABEL_COMPONENT: "dht"}


def _reached_all(stack: Stack, plan: Plan, labels: dict[str, str], since: float) -> bool:
    found = stack.sink.notifications(labels, "firing", since=since)
    if not found:
        return False
    expected = set(notified_receivers(plan, found[0].labels))
    return expected <= stack.sink.receivers(labels, since=since)


def test_concurrent_faults_notify_each_incidents_receivers_once(stack: Stack, plan: Plan) -> None:
    assert stack.sim is not None
    wait_quiet(stack, TIMEOUT)
    start = time.time()
    for fault in (*DHT.faults, CHECKS_FAIL):
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)
    for labels in (DHT.alert_labels, PUBSUB_BURN):
        stack.wait_until(
            lambda labels=labels: _reached_all(stack, plan, labels, start),
            timeout=TIMEOUT,
            what=f"{labels} to reach its receivers",
        )
    # The DHT's checks fail too: its health-check burn fires in Prometheus (so the explanation
    # has something to hide) while both faults are on.
    stack.wait_until(
        lambda: any(
            a["state"] == "firing"
            and all(a["labels"].get(k) == v for k, v in DHT_CHECK_BURN.items())
            for a in stack.prometheus.alerts()
        ),
        timeout=TIMEOUT,
        what="the DHT's health-check burn to fire in Prometheus",
    )
    stack.sim.clear_faults()
    unsettled = settle(stack, TIMEOUT / 2)

    quiet = background(plan)
    firing = [
        n
        for n in stack.sink.notifications(since=start)
        if n.status == "firing" and n.alertname not in quiet
    ]
    incidents = {(n.alertname, n.labels.get(C.LABEL_COMPONENT)) for n in firing}
    # The explanation hid the DHT's health-check burn, not PubSub's; nothing else notified.
    assert incidents == {(DHT.alert, "dht"), (HEALTH_CHECK_BURN, "pubsub")}
    for alertname, component in incidents:
        mine = [
            n
            for n in firing
            if n.alertname == alertname and n.labels.get(C.LABEL_COMPONENT) == component
        ]
        calls = {
            r: len({n.call for n in mine if n.receiver == r}) for r in {n.receiver for n in mine}
        }
        expected = notified_receivers(plan, mine[0].labels)
        assert calls == {r: 1 for r in expected}, (alertname, component)
    assert unsettled == []
