"""Play one incident on a running stack: switch the fault on, wait until the expected alert has
reached its receivers, switch the fault off, wait until every receiver was told it resolved, then
until Alertmanager holds nothing that could still notify (the incident's tail), and collect every
notification the incident caused - the expected alert's and any collateral one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bzzzmon.model import Plan
from bzzzmon.spec.names import explanation_hold_alert_name
from bzzzmon.stack.runner import Stack, StackTimeout
from bzzzmon.stack.scenarios import Scenario
from bzzzmon.stack.sink import Notification

ExpectedReceivers = Callable[[Mapping[str, str]], Sequence[str]]
# Called with the alert's state in Prometheus (inactive, pending, firing) and seconds waited.
OnWait = Callable[[str, float], None]
OnStep = Callable[[str], None]


@dataclass(frozen=True)
class IncidentResult:
    scenario: Scenario
    labels: Mapping[str, str]  # of the first notification of the expected alert
    receivers: tuple[str, ...]  # every receiver told the alert fired, sorted
    resolved_receivers: tuple[str, ...]  # every receiver told it resolved, sorted
    fault_on: float
    notified: float  # first firing notification
    fault_off: float
    resolved: float  # last receiver told it resolved
    # Every notification from the fault on until the tail settled, the heartbeat aside.
    notifications: tuple[Notification, ...] = ()
    # Alerts Alertmanager still held as notifiable when the settling gave up (labels).
    unsettled: tuple[Mapping[str, str], ...] = ()
    # An earlier incident's alerts, told and still firing when this one started (labels).
    standing: tuple[Mapping[str, str], ...] = ()

    @property
    def time_to_notify(self) -> float:
        return self.notified - self.fault_on

    @property
    def time_to_resolve(self) -> float:
        return self.resolved - self.fault_off

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")


def alert_state(stack: Stack, labels: Mapping[str, str]) -> str:
    """The most advanced state of the matching alert in Prometheus: firing, pending or inactive."""
    states = {
        a["state"]
        for a in stack.prometheus.alerts()
        if all(a["labels"].get(k) == v for k, v in labels.items())
    }
    for state in ("firing", "pending"):
        if state in states:
            return state
    return "inactive"


def background(plan: Plan) -> set[str]:
    """Alerts that are no incident's: the Watchdog's heartbeat and the explanation holds."""
    return {plan.service.watchdog_alert, explanation_hold_alert_name(plan)}


def notifiable(stack: Stack) -> list[Mapping[str, str]]:
    """Labels of the alerts Alertmanager holds firing and not suppressed (background aside)."""
    quiet = background(stack.plan)
    return [
        a["labels"]
        for a in stack.alertmanager.alerts()
        if a["status"]["state"] == "active" and a["labels"].get("alertname") not in quiet
    ]


def told(stack: Stack, labels: Mapping[str, str]) -> bool:
    """The sink's last notification of exactly this alert says it fires: its receivers know,
    and Alertmanager tells them again only after the route's repeat_interval."""
    mine = [n for n in stack.sink.notifications(labels) if dict(n.labels) == dict(labels)]
    return bool(mine) and mine[-1].status == "firing"


# Evaluations in a row with nothing about to notify before a fault goes on: an SLO burning from
# the stack's own start-up (windows holding its first samples) is no incident's.
QUIET_EVALUATIONS = 5


def wait_quiet(stack: Stack, timeout: float) -> tuple[Mapping[str, str], ...]:
    """Wait until, for ``QUIET_EVALUATIONS`` evaluations in a row, Prometheus holds no pending
    alert and Alertmanager nothing that could notify (background aside). Alerts firing but
    inhibited or explained (a long ticket tail) do not count. When ``timeout`` runs out the
    incident starts anyway: its own assertions then show what was not quiet.

    Returns the standing alerts: notifiable, and already told (``told``). A budget an earlier
    incident really spent stays exhausted for the period (30 d of rule time is hours on the
    stack): it is that incident's, and no tail of the next one to wait for (``settle``)."""
    quiet = background(stack.plan)
    needed = QUIET_EVALUATIONS * stack.options.timing.evaluation_interval
    since = [time.monotonic()]

    def quiet_long_enough() -> bool:
        now = time.monotonic()
        pending = any(
            a["state"] == "pending" and a["labels"].get("alertname") not in quiet
            for a in stack.prometheus.alerts()
        )
        if pending or notifiable(stack):
            since[0] = now
        return now - since[0] >= needed

    with contextlib.suppress(StackTimeout):
        stack.wait_until(quiet_long_enough, timeout=timeout, what="the stack to be quiet")
    return tuple(a for a in notifiable(stack) if told(stack, a))


def settle(
    stack: Stack, timeout: float, standing: Sequence[Mapping[str, str]] = ()
) -> list[Mapping[str, str]]:
    """Wait until Alertmanager holds nothing that could notify but the ``standing`` alerts
    (``wait_quiet``'s), then one more flush for the resolved notifications; the alerts still
    notifiable when ``timeout`` ran out."""
    earlier = [dict(a) for a in standing]

    def tail() -> list[Mapping[str, str]]:
        return [a for a in notifiable(stack) if dict(a) not in earlier]

    try:
        stack.wait_until(lambda: not tail(), timeout=timeout, what="the incident's tail to settle")
    except StackTimeout:
        return tail()
    finally:
        time.sleep(stack.options.timing.group_interval + 1)
    return []


def _key(n: Notification) -> tuple[str, tuple[tuple[str, str], ...]]:
    return n.receiver, tuple(sorted(n.labels.items()))


def play(
    stack: Stack,
    scenario: Scenario,
    *,
    expected_receivers: ExpectedReceivers | None = None,
    on_step: OnStep | None = None,
    on_wait: OnWait | None = None,
    timeout: float = 120.0,
    settle_timeout: float = 30.0,
) -> IncidentResult:
    """Run ``scenario`` on ``stack``; StackTimeout when an expected notification never comes."""
    assert stack.sim is not None
    step = on_step or (lambda _text: None)
    labels = scenario.alert_labels
    sink = stack.sink

    def waiting(elapsed: float) -> None:
        if on_wait is not None:
            on_wait(alert_state(stack, labels), elapsed)

    standing = wait_quiet(stack, timeout)
    fault_on = time.time()
    for fault in scenario.faults:
        stack.sim.set_fault(fault.name, fault.agent, **fault.params)
        step(f"fault on: {fault.describe()}")

    def fired() -> list[Notification]:
        return sink.notifications(labels, "firing", since=fault_on)

    first = stack.wait_until(
        fired, timeout=timeout, what=f"{scenario.alert} to notify", on_poll=waiting
    )[0]
    expected = set(expected_receivers(first.labels)) if expected_receivers else set()
    # Every receiver the routing names must have been told before the incident ends; extra
    # receivers are caught by the caller comparing ``receivers`` after the resolution.
    stack.wait_until(
        lambda: expected <= {n.receiver for n in fired()},
        timeout=timeout,
        what=f"{scenario.alert} to reach {', '.join(sorted(expected))}",
    )

    fault_off = time.time()
    for name in scenario.faults_to_clear:
        stack.sim.clear_faults(name)
        step(f"fault off: {name}")

    def all_resolved() -> list[Notification]:
        firing = {_key(n) for n in fired()}
        resolved = sink.notifications(labels, "resolved", since=fault_off)
        told = {_key(n) for n in resolved}
        return resolved if firing <= told else []

    resolved = stack.wait_until(
        all_resolved, timeout=timeout, what=f"{scenario.alert} to resolve", on_poll=waiting
    )
    unsettled = settle(stack, settle_timeout, standing)
    quiet = background(stack.plan)
    caused = [n for n in sink.notifications(since=fault_on) if n.alertname not in quiet]
    return IncidentResult(
        scenario=scenario,
        labels=dict(first.labels),
        receivers=tuple(sorted({n.receiver for n in fired()})),
        resolved_receivers=tuple(sorted({n.receiver for n in resolved})),
        fault_on=fault_on,
        notified=first.received,
        fault_off=fault_off,
        resolved=max(n.received for n in resolved),
        notifications=tuple(caused),
        unsettled=tuple(unsettled),
        standing=standing,
    )
