"""Two real faults at once on the live stack: an explanation hides only what its cause explains.

The DHT fails everywhere (its error page explains the DHT's health-check burn, `equal: [service,
component]`) while PubSub's health checks fail on every agent - checks that no alert of PubSub's
own stands for. The PubSub health-check burn is a real, concurrent incident: the DHT page must
not hide it, while the DHT's own health-check burn stays hidden."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from e2e_support import TIMEOUT

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.spec.names import explanation_hold_alert_name
from bzzzmon.stack import Stack
from bzzzmon.stack.player import background, settle, wait_quiet
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.runner import StackTimeout
from bzzzmon.stack.scenarios import Fault, scenario
from bzzzmon.stack.sink import Notification

DHT = scenario("dht-error-budget-burn")
CHECKS_FAIL = Fault("component_unhealthy", params={"component": "pubsub", "status": "unhealthy"})
HEALTH_CHECK_BURN = "BZZZHealthCheckBudgetBurn"
PAGE_FAST = {C.LABEL_TIER: "page-fast"}
PUBSUB_BURN = {"alertname": HEALTH_CHECK_BURN, C.LABEL_COMPONENT: "pubsub"}
DHT_CHECK_BURN = {"alertname": HEALTH_CHECK_BURN, C.LABEL_COMPONENT: "dht"}
# The explanation that covers every component's health checks (the system score critical): an
# earlier test's system-health incident leaves its hold behind, and the faults wait it out.
BROAD = "system-health-is-the-health-check-burn"


@dataclass(frozen=True)
class Played:
    start: float
    firing: tuple[Notification, ...]  # every firing notification, the background aside
    dht_check_burn_held: bool  # the DHT's health-check page was firing and inhibited
    unsettled: tuple[object, ...]
    standing: tuple[object, ...]  # an earlier test's alerts, told and firing at the start


_PLAYED: list[Played] = []


def _matching(alert: dict[str, object], labels: dict[str, str]) -> bool:
    found = alert["labels"]
    assert isinstance(found, dict)
    return all(found.get(k) == v for k, v in labels.items())


def _reached_all(stack: Stack, plan: Plan, labels: dict[str, str], since: float) -> bool:
    found = stack.sink.notifications(labels, "firing", since=since)
    if not found:
        return False
    return set(notified_receivers(plan, found[0].labels)) <= stack.sink.receivers(
        labels, since=since
    )


def _broad_hold_firing(stack: Stack, plan: Plan) -> bool:
    hold = {"alertname": explanation_hold_alert_name(plan), C.LABEL_EXPLANATION: BROAD}
    return any(_matching(a, hold) for a in stack.prometheus.alerts())


def _dht_check_burn_inhibited(stack: Stack) -> bool:
    return any(
        _matching(a, DHT_CHECK_BURN | PAGE_FAST)
        and a["status"]["state"] == "suppressed"
        and a["status"]["inhibitedBy"]
        for a in stack.alertmanager.alerts()
    )


@pytest.fixture
def played(stack: Stack, plan: Plan) -> Iterator[Played]:
    if not _PLAYED:
        assert stack.sim is not None
        broad = next(i for i in plan.routing.inhibitions if i.name == BROAD)
        stack.wait_until(
            lambda: not _broad_hold_firing(stack, plan),
            timeout=broad.hold / stack.options.time_scale.factor + TIMEOUT,
            what=f"the hold of {BROAD} to end",
        )
        standing = wait_quiet(stack, TIMEOUT)
        start = time.time()
        for fault in (*DHT.faults, CHECKS_FAIL):
            stack.sim.set_fault(fault.name, fault.agent, **fault.params)
        for labels in (DHT.alert_labels, PUBSUB_BURN | PAGE_FAST):
            stack.wait_until(
                lambda labels=labels: _reached_all(stack, plan, labels, start),
                timeout=TIMEOUT,
                what=f"{labels} to reach its receivers",
            )
        # The DHT's checks fail too: its health-check page fires, and Alertmanager holds it.
        held = True
        try:
            stack.wait_until(
                lambda: _dht_check_burn_inhibited(stack),
                timeout=TIMEOUT,
                what="the DHT's health-check page to be inhibited",
            )
        except StackTimeout:
            held = False
        stack.sim.clear_faults()
        unsettled = settle(stack, TIMEOUT / 2, standing)
        quiet = background(plan)
        firing = tuple(
            n
            for n in stack.sink.notifications(since=start)
            if n.status == "firing" and n.alertname not in quiet
        )
        _PLAYED.append(Played(start, firing, held, tuple(unsettled), standing))
    yield _PLAYED[0]


def _incidents(played: Played) -> set[tuple[str, str | None]]:
    return {(n.alertname, n.labels.get(C.LABEL_COMPONENT)) for n in played.firing}


def test_an_explanation_does_not_hide_a_concurrent_fault(plan: Plan, played: Played) -> None:
    """Both pages reach exactly their receivers; the DHT's health-check page is inhibited and
    notifies nobody, PubSub's is not."""
    assert played.dht_check_burn_held
    for labels in (DHT.alert_labels, PUBSUB_BURN | PAGE_FAST):
        pages = [n for n in played.firing if all(n.labels.get(k) == v for k, v in labels.items())]
        assert pages, labels
        assert {n.receiver for n in pages} == set(notified_receivers(plan, pages[0].labels))
    dht_checks = DHT_CHECK_BURN | PAGE_FAST
    assert not [
        n for n in played.firing if all(n.labels.get(k) == v for k, v in dht_checks.items())
    ]
    assert {(DHT.alert, "dht"), (HEALTH_CHECK_BURN, "pubsub")} <= _incidents(played)


# Issue 11. On a young stack (this file run alone) the exporter's PubSub check counters hold
# seconds of history when the faults start, so page-fast's low-traffic guard holds it until its
# raw 1h window counts 100 checks. Measured: the prorated 1d window was over ticket-fast's
# threshold first (ticket-fast firing 3 s before page-fast was pending), so the ticket receiver
# had the ticket, then the page. A tier slower than page-fast now takes page-fast's guard while
# page-fast's window is not covered (docs/spec.md), and page-fast, pending first, holds it.
# CI on 3 Dec 2026 had the notifications exact but an alert unsettled: after the earlier tests'
# long no-admin P0s the admin-elected budget was really spent (BZZZAdminElectionBudgetExhausted,
# told and firing for the 30d period). It is an earlier incident's standing alert, not this one's
# tail: wait_quiet returns it, settle leaves it out, and this test pins that it notified nobody.
def test_concurrent_faults_notify_each_receiver_once_and_nothing_else(
    plan: Plan, played: Played
) -> None:
    assert _incidents(played) == {(DHT.alert, "dht"), (HEALTH_CHECK_BURN, "pubsub")}
    for alertname, component in _incidents(played):
        mine = [
            n
            for n in played.firing
            if n.alertname == alertname and n.labels.get(C.LABEL_COMPONENT) == component
        ]
        receivers = {n.receiver for n in mine}
        calls = {r: len({n.call for n in mine if n.receiver == r}) for r in receivers}
        page = next(n for n in mine if n.labels.get(C.LABEL_TIER) == "page-fast")
        assert calls == {r: 1 for r in notified_receivers(plan, page.labels)}, alertname
    assert played.unsettled == ()
    standing = [dict(a) for a in played.standing]
    assert not [n for n in played.firing if dict(n.labels) in standing]
