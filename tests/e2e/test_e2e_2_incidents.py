"""The runbook's incidents: each fault raises its alert, the alert reaches exactly the receivers
the spec's routing names, and every one of them is told when it resolves."""

from __future__ import annotations

import pytest
from e2e_support import TIMEOUT

from bzzzmon.conventions import WATCHDOG_ALERT
from bzzzmon.model import Plan
from bzzzmon.scenarios import SCENARIOS, Scenario
from bzzzmon.stack import Stack
from bzzzmon.stack.player import play
from bzzzmon.stack.routing import notified_receivers


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
    stack: Stack, plan: Plan, scenario: Scenario
) -> None:
    result = play(
        stack,
        scenario,
        expected_receivers=lambda labels: notified_receivers(plan, labels),
        timeout=TIMEOUT,
    )
    expected = notified_receivers(plan, result.labels)
    assert expected, f"the routing sends {scenario.alert} to nobody"
    assert result.severity == scenario.severity
    assert list(result.receivers) == expected
    assert result.resolved_receivers == result.receivers
    # Exactly: no receiver outside the routing heard of the alert at any time in the session.
    assert stack.sink.receivers(scenario.alert_labels) == set(expected)
