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


# Still noisy (issue 11 stays open for them). Seen on the loaded CI machine:
NOISY = {
    # No ticket tier notifies first any more (a window longer than the history is prorated).
    # What is left, measured: an agent's BZZZHighErrorRate (errors > 1/s for 10m) fires before
    # the component's page is pending, because at 50-80% failures the page's 1h window needs
    # 11-17 minutes to cross 14.4x, and the explanation holds from the page's pending on. Seen
    # in CI on both lanes for SLURP (60%: 14.4 min); DHT (80%) and UCXI (50%) are as close.
    "dht-error-budget-burn": "BZZZHighErrorRate fires before the page is pending",
    "slurp-error-budget-burn": "BZZZHighErrorRate fires before the page is pending",
    "ucxi-error-budget-burn": "BZZZHighErrorRate fires before the page is pending",
    # The young history: as the session's first incident, a health-check ticket tier could
    # notify before BZZZSystemHealthCritical is pending and its hold explains the burn (CI).
    # Passed once on a quiet machine since the proration; kept until seen passing on CI.
    "system-health-critical": "a health-check ticket tier can notify before the hold starts",
    # Not agent-down any more: the stopped agent refuses connections, and a refused target's
    # health checks are neither passed nor failed (docs/exporter.md), so no health-check burn
    # notifies beside BZZZAgentDown.
}


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
    assert {r: len(c) for r, c in calls.items()} == {
        r: 1 for r in notified_receivers(plan, incident.labels)
    }
    assert incident.unsettled == ()
