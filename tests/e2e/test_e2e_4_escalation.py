"""Escalation on the live stack: a P0 alert still firing after P0's (shortened) resolution target
raises the generated escalation, which Alertmanager receives under the alert's own name with
``escalation="true"`` and sends to exactly P0's escalate_to receivers; a silence made with
``bzzzmon silence add`` for the alert keeps its escalation from everybody; a flap of the alert
does not restart the escalation clock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from typing import Any

from e2e_support import ESCALATED_SEVERITY, ESCALATION_TARGET, ESCALATION_TOLERANCE, TIMEOUT, held

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.spec.names import escalation_alert_name
from bzzzmon.stack import Stack
from bzzzmon.stack.player import alert_state
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.scenarios import scenario

INCIDENT = scenario("no-admin-elected")
# What Alertmanager and the receivers see of the escalation (prometheus.yml relabels it).
ESCALATION = {**INCIDENT.alert_labels, C.LABEL_ESCALATION: "true"}
# The escalation alert in Prometheus itself.
RULE = {
    "alertname": escalation_alert_name(ESCALATED_SEVERITY),
    C.LABEL_ESCALATED_ALERT: INCIDENT.alert,
}


def _scaled(stack: Stack, seconds: int) -> float:
    return seconds / stack.options.time_scale.factor


def _quiet(stack: Stack) -> None:
    """Wait until the escalation clock's window holds no firing sample of the alert (an
    earlier test's incident must not count towards this one's)."""
    window = _scaled(stack, ESCALATION_TARGET + ESCALATION_TOLERANCE)
    query = (
        f'max_over_time(ALERTS{{alertname="{INCIDENT.alert}", alertstate="firing"}}[{window:g}s])'
    )
    stack.wait_until(
        lambda: not stack.prometheus.query(query),
        timeout=TIMEOUT,
        what=f"{INCIDENT.alert} to leave the escalation window",
    )


def _fault(stack: Stack, on: bool) -> None:
    assert stack.sim is not None
    if on:
        for fault in INCIDENT.faults:
            stack.sim.set_fault(fault.name, fault.agent, **fault.params)
    else:
        for name in INCIDENT.faults_to_clear:
            stack.sim.clear_faults(name)


def _escalation_firing(stack: Stack) -> list[dict[str, Any]]:
    return [
        a
        for a in stack.prometheus.alerts()
        if a["state"] == "firing" and all(a["labels"].get(k) == v for k, v in RULE.items())
    ]


def _reach_then_resolve(stack: Stack, expected: set[str], since: float) -> None:
    """Wait until the escalation reached ``expected``, clear the fault, wait until each of them
    was told it resolved."""
    stack.wait_until(
        lambda: expected <= stack.sink.receivers(ESCALATION, since=since),
        timeout=TIMEOUT,
        what=f"the escalation to reach {sorted(expected)}",
    )
    cleared = time.time()
    _fault(stack, on=False)
    stack.wait_until(
        lambda: expected <= stack.sink.receivers(ESCALATION, "resolved", since=cleared),
        timeout=TIMEOUT,
        what="the escalation to resolve",
    )


def test_p0_alert_past_its_resolution_target_escalates(stack: Stack, plan: Plan) -> None:
    assert INCIDENT.severity == ESCALATED_SEVERITY
    _quiet(stack)
    start = time.time()
    _fault(stack, on=True)
    stack.wait_until(
        lambda: stack.sink.notifications(INCIDENT.alert_labels, "firing", since=start),
        timeout=TIMEOUT,
        what=f"{INCIDENT.alert} to notify",
    )
    first = stack.wait_until(
        lambda: stack.sink.notifications(ESCALATION, "firing", since=start),
        timeout=TIMEOUT,
        what=f"the escalation of {INCIDENT.alert} to notify",
    )[0]
    assert first.labels[C.LABEL_SEVERITY] == ESCALATED_SEVERITY
    assert first.labels[C.LABEL_ESCALATED_ALERT] == INCIDENT.alert
    expected = set(notified_receivers(plan, first.labels))
    assert expected == set(plan.severity(ESCALATED_SEVERITY).escalate_to)
    _reach_then_resolve(stack, expected, since=start)
    assert stack.sink.receivers(ESCALATION, status=None, since=start) == expected


def _silence(stack: Stack, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bzzzmon",
            "silence",
            *args,
            "--alertmanager",
            stack.alertmanager_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_silenced_alert_escalates_to_nobody(stack: Stack, plan: Plan) -> None:
    _quiet(stack)
    silence = _silence(
        stack,
        "add",
        f"alertname={INCIDENT.alert}",
        "--duration",
        "1h",
        "--comment",
        "election maintenance",
    )
    start = time.time()
    _fault(stack, on=True)
    stack.wait_until(
        lambda: _escalation_firing(stack), timeout=TIMEOUT, what="the escalation to fire"
    )
    silenced = stack.wait_until(
        lambda: held(stack, ESCALATION, "silencedBy"),
        timeout=TIMEOUT,
        what="Alertmanager to hold the escalation as silenced",
    )
    assert {s for a in silenced for s in a["status"]["silencedBy"]} == {silence}
    # Give Alertmanager every chance to notify: the group's wait plus two flushes.
    timing = stack.options.timing
    time.sleep(timing.group_wait + 2 * timing.group_interval + 1)
    assert stack.sink.notifications(INCIDENT.alert_labels, since=start) == []

    # The counter-proof: the silence ends, the same escalation reaches its receivers.
    lifted = time.time()
    _silence(stack, "expire", silence)
    expected = set(plan.severity(ESCALATED_SEVERITY).escalate_to)
    _reach_then_resolve(stack, expected, since=lifted)


def test_a_flap_does_not_restart_the_escalation_clock(stack: Stack) -> None:
    _quiet(stack)
    _fault(stack, on=True)
    # Let the clock run to 7 of the target's 10 minutes, then flap: the alert resolves and, the
    # fault back, fires again after its for:.
    steps = ESCALATION_TARGET // 60
    window = _scaled(stack, ESCALATION_TARGET + ESCALATION_TOLERANCE)
    clock = (
        f'count_over_time((max without (alertstate) (ALERTS{{alertname="{INCIDENT.alert}", '
        f'alertstate="firing"}}))[{window:g}s:{_scaled(stack, 60):g}s]) >= {steps - 3}'
    )
    stack.wait_until(
        lambda: stack.prometheus.query(clock), timeout=TIMEOUT, what="the clock to reach 7 min"
    )
    assert not _escalation_firing(stack)
    flapped = time.time()
    _fault(stack, on=False)
    stack.wait_until(
        lambda: alert_state(stack, INCIDENT.alert_labels) == "inactive",
        timeout=TIMEOUT,
        what=f"{INCIDENT.alert} to resolve",
    )
    _fault(stack, on=True)
    stack.wait_until(
        lambda: alert_state(stack, INCIDENT.alert_labels) == "firing",
        timeout=TIMEOUT,
        what=f"{INCIDENT.alert} to fire again",
    )
    (again,) = [
        a
        for a in stack.prometheus.alerts()
        if a["labels"].get("alertname") == INCIDENT.alert and a["state"] == "firing"
    ]
    notified = stack.wait_until(
        lambda: stack.sink.notifications(ESCALATION, "firing", since=flapped),
        timeout=TIMEOUT,
        what="the escalation to notify",
    )
    # Prometheus' own clock: the escalation started firing (its startsAt) less than a resolution
    # target after the alert became active again, so the minutes before the flap counted; for:
    # on the alert would have restarted the clock at the flap.
    refired = _timestamp(again["activeAt"])
    escalated = _timestamp(notified[0].starts_at)
    assert refired < escalated < refired + _scaled(stack, ESCALATION_TARGET)
    _fault(stack, on=False)


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
