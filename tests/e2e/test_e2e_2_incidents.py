"""The runbook's incidents: each fault raises its alert, the alert reaches exactly the receivers
the spec's routing names, every one of them is told when it resolves - and the incident causes
nothing else: one notification per receiver, no collateral alert (a burn tier, a budget alert,
an agent's error rate) telling anyone about the same incident."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_support import TIMEOUT

from bzzzmon.conventions import WATCHDOG_ALERT
from bzzzmon.model import Plan
from bzzzmon.stack import Stack
from bzzzmon.stack.player import IncidentResult, play
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.scenarios import SCENARIOS, Scenario

_PLAYED: dict[str, IncidentResult] = {}


@pytest.fixture
def incident(stack: Stack, plan: Plan, scenario: Scenario) -> Iterator[IncidentResult]:
    """The scenario played once on the shared stack; both tests below read the same run."""
    if scenario.name not in _PLAYED:
        _PLAYED[scenario.name] = play(
            stack,
            scenario,
            expected_receivers=lambda labels: notified_receivers(plan, labels),
            timeout=TIMEOUT,
            settle_timeout=TIMEOUT / 4,
        )
    yield _PLAYED[scenario.name]


def test_watchdog_reaches_the_heartbeat_receiver(stack: Stack, plan: Plan) -> None:
    labels = {"alertname": WATCHDOG_ALERT}
    stack.wait_until(
        lambda: stack.sink.notifications(labels, "firing"), timeout=TIMEOUT, what="the Watchdog"
    )
    note = stack.sink.notifications(labels, "firing")[0]
    assert stack.sink.receivers(labels) == set(notified_receivers(plan, note.labels))
    assert plan.routing.heartbeat_receiver in stack.sink.receivers(labels)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_incident_notifies_exactly_its_receivers_and_resolves(
    stack: Stack, plan: Plan, scenario: Scenario, incident: IncidentResult
) -> None:
    expected = notified_receivers(plan, incident.labels)
    assert expected, f"the routing sends {scenario.alert} to nobody"
    assert incident.severity == scenario.severity
    assert list(incident.receivers) == expected
    assert incident.resolved_receivers == incident.receivers
    # Exactly: no receiver outside the routing heard of the alert at any time in the session.
    assert stack.sink.receivers(scenario.alert_labels) == set(expected)


# Incidents still noisy, by name, with the reason (xfail, not strict). None now (issue 11):
# - the DHT, SLURP and UCXI burns, where an agent's BZZZHighErrorRate (errors > 1/s for 10m)
#   fired before the component's page was pending (at 50-80% failures the page's 1h window needs
#   11-17 minutes to cross 14.4x): the explanations' lead: 15m holds it from a few minutes in
#   (specs/service.yaml); with it the four passed 6 runs of 6 here, SLURP failed 3 of 3 without;
# - system-health-critical, a health-check ticket tier before the hold: passed every run since
#   the young history's windows are prorated.
# Not agent-down any more: the stopped agent refuses connections, and a refused target's health
# checks are neither passed nor failed (docs/exporter.md), so no health-check burn notifies
# beside BZZZAgentDown.
NOISY: dict[str, str] = {}


def _scenarios() -> list[object]:
    return [
        pytest.param(s, marks=pytest.mark.xfail(reason=NOISY[s.name], strict=False))
        if s.name in NOISY
        else s
        for s in SCENARIOS
    ]


# One incident, one notification per receiver: the explained and the less urgent alerts, the
# budget-exhausted alerts on the session's short history and any tier starting after the fault
# ended would all show here.
@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: s.name)
def test_incident_notifies_each_receiver_once_and_nothing_else(
    plan: Plan, scenario: Scenario, incident: IncidentResult
) -> None:
    firing = [n for n in incident.notifications if n.status == "firing"]
    assert {n.alertname for n in firing} == {scenario.alert}
    calls = {r: {n.call for n in firing if n.receiver == r} for r in {n.receiver for n in firing}}
    # When a receiver is told twice, the message says which alert arrived when (a late member
    # of a group sends a second call).
    told = sorted(
        (n.receiver, n.call, round(n.received - incident.fault_on, 1), n.labels.get("instance"))
        for n in firing
    )
    assert {r: len(c) for r, c in calls.items()} == {
        r: 1 for r in notified_receivers(plan, incident.labels)
    }, told
    assert incident.unsettled == ()
