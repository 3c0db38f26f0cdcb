"""Escalation: a P0 alert still firing after P0's (shortened) resolution target raises the
generated escalation alert, which reaches exactly P0's escalate_to receivers and resolves with
the incident."""

from __future__ import annotations

import time

from e2e_support import ESCALATED_SEVERITY, TIMEOUT

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.scenarios import scenario
from bzzzmon.spec.plan import escalation_alert_name
from bzzzmon.stack import Stack
from bzzzmon.stack.routing import notified_receivers

INCIDENT = scenario("no-admin-elected")


def test_p0_alert_past_its_resolution_target_escalates(stack: Stack, plan: Plan) -> None:
    assert stack.sim is not None
    assert INCIDENT.severity == ESCALATED_SEVERITY
    escalation = {
        "alertname": escalation_alert_name(ESCALATED_SEVERITY),
        C.LABEL_ESCALATED_ALERT: INCIDENT.alert,
    }
    start = time.time()
    for fault in INCIDENT.faults:
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)

    stack.wait_until(
        lambda: stack.sink.notifications(INCIDENT.alert_labels, "firing", since=start),
        timeout=TIMEOUT,
        what=f"{INCIDENT.alert} to notify",
    )
    first = stack.wait_until(
        lambda: stack.sink.notifications(escalation, "firing"),
        timeout=TIMEOUT,
        what=f"{escalation['alertname']} for {INCIDENT.alert} to notify",
    )[0]
    assert first.received >= start
    assert first.labels[C.LABEL_SEVERITY] == ESCALATED_SEVERITY
    expected = set(notified_receivers(plan, first.labels))
    assert expected == set(plan.severity(ESCALATED_SEVERITY).escalate_to)
    stack.wait_until(
        lambda: expected <= stack.sink.receivers(escalation),
        timeout=TIMEOUT,
        what=f"the escalation to reach {sorted(expected)}",
    )

    cleared = time.time()
    for name in INCIDENT.faults_to_clear:
        stack.sim.clear_faults(name)
    stack.wait_until(
        lambda: expected <= stack.sink.receivers(escalation, "resolved", since=cleared),
        timeout=TIMEOUT,
        what="the escalation to resolve",
    )
    assert stack.sink.receivers(escalation, status=None) == expected
