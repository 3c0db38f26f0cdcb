"""promtool tests for the rules that serve the routing (bzzzmon/render/escalation.py).

The rules read ``ALERTS``, so the tests feed ``ALERTS`` series directly, sampled once a minute
(the escalation clock's step); ``stale`` marks a moment the alert was not firing, as Prometheus
writes it when an alert resolves. Per escalation rule (resolution target R, tolerance T):

- an alert firing from t=0 escalates at R, not one step before, keeping its labels (its name in
  ``escalated_alert``);
- a one-minute flap halfway does not restart the clock: it escalates one minute after R;
- gaps adding up to more than T within R+T: no escalation while they are in the window;
- the Watchdog, an explanation hold and a pending alert of the severity never escalate.

Per explanation hold: it fires while its cause fires, with the cause's labels, and until
``hold`` after the cause's last firing sample, not a step longer; a cause pending and then
cancelled holds while it is pending and not a step after. With a ``lead``, fed its first tier's
recorded ratios and no cause: a burn on course to page holds before the cause is pending; a
stopped burn, a burn too slow to cross within the lead and too few events do not.

The clock's step is one minute, so these tests sample once a minute; no check sits where a
sample is on a range's left edge (Prometheus 2 and 3 disagree there): the escalation windows
R+T start before the alert's first sample at every check, and the hold is checked a step before
and after its edge.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Inhibition, Plan, lead_tiers
from bzzzmon.promql.duration import format_duration
from bzzzmon.render.alertmanager.inhibit import alternatives
from bzzzmon.render.alertmanager.matchers import example_value
from bzzzmon.render.escalation import STEP, hold_rules, lead_labels, tolerance
from bzzzmon.render.rule_tests.inputs import Series
from bzzzmon.render.rule_tests.timeline import Group, Labels, Track, firing_labels, firing_query
from bzzzmon.spec.names import explanation_hold_alert_name

INTERVAL = STEP  # the tests' sample interval: one step of the escalation clock


def _sample_alert(plan: Plan, severity: str) -> tuple[str, str]:
    """(alertname, component) of an alert of ``severity`` the plan defines, for realism."""
    for alert in plan.alerts:
        if alert.severity == severity and alert.name != plan.service.watchdog_alert:
            return alert.name, alert.component
    for slo in plan.slos:
        for tier in slo.tiers:
            if tier.severity == severity:
                return slo.alert_name, slo.component
    return f"{plan.service.alert_prefix}TestAlert", "test"  # the service's name, not another's


def _alerts_series(labels: Labels, state: str = "firing") -> Series:
    return Series("ALERTS", tuple(sorted((labels | {"alertstate": state}).items())))


def _gap(track: Track, samples: int) -> None:
    """``samples`` moments at which the alert does not fire (stale, as on resolving)."""
    track.parts.extend(["stale"] * samples)
    track.samples += samples


def _escalation_groups(plan: Plan, rule: dict[str, Any]) -> list[Group]:
    labels: Labels = dict(rule["labels"])
    severity = plan.severity(labels[C.LABEL_SEVERITY])
    r = severity.resolution_target // STEP
    t = tolerance(plan, severity) // STEP
    name, component = _sample_alert(plan, severity.name)
    alert = {"alertname": name, C.LABEL_SEVERITY: severity.name, C.LABEL_COMPONENT: component}
    query = firing_query(rule["alert"])
    expected = firing_labels(
        rule["alert"], labels, {C.LABEL_COMPONENT: component, C.LABEL_ESCALATED_ALERT: name}
    )

    continuous = Group(INTERVAL)
    continuous.track(_alerts_series(alert), counter=False).hold(1, r + 3)
    continuous.expect(r - 1, query, [])
    continuous.expect(r, query, [expected])

    flap = Group(INTERVAL)
    track = flap.track(_alerts_series(alert), counter=False)
    track.hold(1, r // 2)
    _gap(track, 1)
    track.hold(1, r)
    flap.expect(r, query, [])
    flap.expect(r + 1, query, [expected])

    gaps = Group(INTERVAL)
    track = gaps.track(_alerts_series(alert), counter=False)
    gap = t + 2
    track.hold(1, r // 2)
    _gap(track, gap)
    track.hold(1, r + t + 2)
    gaps.expect(r + gap, query, [])
    gaps.expect(r // 2 + r + t, query, [])

    never = Group(INTERVAL)
    watchdog = alert | {"alertname": plan.service.watchdog_alert}
    hold = alert | {"alertname": explanation_hold_alert_name(plan)}
    never.track(_alerts_series(watchdog), counter=False).hold(1, r + 3)
    never.track(_alerts_series(hold), counter=False).hold(1, r + 3)
    never.track(_alerts_series(alert, "pending"), counter=False).hold(1, r + 3)
    never.expect(r + 1, query, [])
    return [continuous, flap, gaps, never]


def _cause_labels(plan: Plan, inh: Inhibition) -> Labels:
    """Labels of an alert that is the explanation's cause (its first alternative)."""
    labels: Labels = dict(plan.service.labels)
    for m in alternatives(inh.source)[0]:
        value = example_value(m)
        if value is not None:
            labels[m.name] = value
    labels.setdefault("alertname", "BZZZExampleCause")
    labels.setdefault(C.LABEL_SEVERITY, plan.severities[0].name)
    for eq in inh.equal:
        labels.setdefault(eq, f"example-{eq}")
    return labels


def _pending_group(plan: Plan, rule: dict[str, Any], inh: Inhibition) -> Group:
    """A cause pending for a while, then cancelled before it fired: the hold fires while it is
    pending and ends with it, never holding for ``hold`` after."""
    cause = _cause_labels(plan, inh)
    group = Group(INTERVAL)
    pending = 5
    track = group.track(_alerts_series(cause, "pending"), counter=False)
    track.hold(1, pending)
    _gap(track, 3)
    query = firing_query(rule["alert"], **{C.LABEL_EXPLANATION: inh.name})
    expected = firing_labels(
        rule["alert"], dict(rule["labels"]), {k: v for k, v in cause.items() if k != "alertname"}
    )
    group.expect(0, query, [expected])
    group.expect(pending - 1, query, [expected])
    group.expect(pending + 1, query, [])
    return group


def _hold_group(plan: Plan, rule: dict[str, Any], inh: Inhibition) -> Group:
    cause = _cause_labels(plan, inh)
    hold = inh.hold // STEP
    group = Group(INTERVAL)
    firing = 10
    group.track(_alerts_series(cause), counter=False).hold(1, firing)
    last = firing - 1
    query = firing_query(rule["alert"], **{C.LABEL_EXPLANATION: inh.name})
    expected = firing_labels(
        rule["alert"], dict(rule["labels"]), {k: v for k, v in cause.items() if k != "alertname"}
    )
    group.expect(last, query, [expected])
    # Not at last + hold itself: the last sample sits on the range's left edge there, where
    # Prometheus 2 (closed) and 3 (open) disagree.
    group.expect(last + hold - 1, query, [expected])
    group.expect(last + hold + 1, query, [])
    return group


def _lead_group(plan: Plan, rule: dict[str, Any], inh: Inhibition) -> Group:
    """The hold's lead on its cause's first named tier, fed the tier's recorded series with no
    cause in ``ALERTS``: a burn on course to page holds; a burn stopped (the short window back
    under the threshold, the long one still above it) holds not a step longer, so the explained
    alert notifies; a short window above the threshold whose burn would not cross the long
    window's within the lead does not hold; nor, with the tier's low-traffic guard, too few
    events."""
    slo, tier = lead_tiers(inh.source, plan.slos)[0]
    thr = tier.factor * slo.budget_fraction
    ahead = Fraction(inh.lead, tier.long)
    group = Group(INTERVAL)
    labels: Labels = {C.LABEL_SLO: slo.name} | {g: f"example-{g}" for g in slo.group_by}

    def series(template: str, window: int) -> Track:
        name = C.rec_name(template, format_duration(window))
        return group.track(Series(name, tuple(sorted(labels.items()))), counter=False)

    long, short = series(C.REC_ERROR_RATIO, tier.long), series(C.REC_ERROR_RATIO, tier.short)
    guarded = tier.kind == "page" and slo.min_events > 0
    events = series(C.REC_TOTAL_RATE, tier.long) if guarded else None
    phase = 5
    # On course: the long window at half the threshold, the short one twice as far above it
    # as the prediction needs.
    half = thr / 2
    burning = half + 2 * (thr - half) / ahead
    enough = Fraction(2 * slo.min_events, tier.long)
    # The burn stopped after the long window crossed: that alone would still predict a page.
    crossed = 2 * thr / (1 - ahead) if ahead < 1 else half
    cases: list[tuple[Fraction, Fraction, Fraction, bool]] = [
        (half, burning, enough, True),
        (crossed, Fraction(0), enough, False),
    ]
    if ahead < 1:
        # Above the threshold now, but on course for the long window only after the lead.
        cases.append((Fraction(0), (thr + thr / ahead) / 2, enough, False))
    if guarded:
        cases.append((half, burning, enough / 4, False))
    query = firing_query(rule["alert"], **{C.LABEL_EXPLANATION: inh.name})
    added = lead_labels(plan, slo, inh)
    expected = firing_labels(rule["alert"], dict(rule["labels"]), labels | added)
    for i, (lv, sv, ev, holds) in enumerate(cases):
        long.hold(lv, phase)
        short.hold(sv, phase)
        if events is not None:
            events.hold(ev, phase)
        group.expect(i * phase, query, [expected] if holds else [])
        group.expect(i * phase + phase - 1, query, [expected] if holds else [])
    return group


def escalation_test_groups(
    plan: Plan, rules: list[dict[str, Any]], interval: int = INTERVAL
) -> list[dict[str, Any]]:
    """Escalation and hold cases; ``interval`` must be the clock's step (one minute)."""
    if interval != INTERVAL:
        raise ValueError(f"escalation tests sample every {INTERVAL}s, not {interval}s")
    groups: list[Group] = []
    for rule in rules:
        groups += _escalation_groups(plan, rule)
    holds = [i for i in plan.routing.inhibitions if i.hold]
    for rule, inh in zip(hold_rules(plan), holds, strict=True):
        groups.append(_hold_group(plan, rule, inh))
        groups.append(_pending_group(plan, rule, inh))
        if inh.lead:
            groups.append(_lead_group(plan, rule, inh))
    return [g.data() for g in groups]
