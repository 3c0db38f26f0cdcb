"""Rules that serve the routing (``prometheus/rules/escalation.rules.yml``): escalations and
explanation holds.

Escalation. An alert of an escalated severity that has fired for that severity's resolution
target R raises ``BZZZ<S>ResolutionTargetMissed``. The rule reads Prometheus' own ``ALERTS``
series, so it covers every alert of the severity, generated or not, and counts firing minutes
instead of using ``for:`` (which a one-minute flap would restart)::

    label_replace(
      count_over_time((max without (alertstate) (ALERTS{<firing S alerts>}))[R+T:1m]) > R/1m
      and max without (alertstate) (ALERTS{<firing S alerts>}),
      "escalated_alert", "$1", "alertname", "(.+)")

It fires once the alert has fired in more than R/1m of the last R+T minute steps and fires now:
after R of continuous firing, after R plus the gaps when it flapped, never when the gaps add up to
more than the tolerance T (``routing.escalation_tolerance``, default R/10; whole minutes, at
least 1m) within R+T. ``max without
(alertstate)`` keeps every label of the escalated alert; its name is copied to
``escalated_alert``. Escalations, the Watchdog and explanation holds are excluded.

Silences and inhibitions. Prometheus does not know them, so the escalation is made to look, to
Alertmanager, like the alert it escalates: ``alert_relabel_configs`` (``alert_relabeling``, in
prometheus.yml) give an alert with ``escalation="true"`` the ``alertname`` of its
``escalated_alert``. It then carries every label of that alert plus ``escalation="true"`` (and its
copy ``escalated_alert``); Alertmanager silences and inhibition targets match by label matchers,
so whatever hides the alert hides its escalation, and the route tree sends
``escalation="true", severity=<S>`` to S's ``escalate_to`` receivers. An alert silenced or
inhibited for its whole life therefore escalates to nobody.

Explanation holds. For each explanation with a ``hold`` (``routing.explains``), ``BZZZ
ExplanationHold`` fires while the cause is pending, while it fires and for ``hold`` after it
fired::

    max without (alertstate, alertname, severity) (ALERTS{alertstate="pending", <cause>})
    or max without (alertstate, alertname, severity)
       (max_over_time(ALERTS{alertstate="firing", <cause>}[hold]))

with the cause's labels and ``explanation="<name>"`` (and the least severity); the inhibit rules
use it as a source, and the route tree sends it to nobody. Pending counts because an explained
alert may cross its threshold before its cause has held for its ``for:`` (the DHT latency burn
before the error burn of the same outage): it must not notify in between. A cause cancelled
before it fired explains nothing afterwards: the pending half holds only while it is pending.

Lead. An explained alert may also be quicker than the cause's long window: at 60% failures on a
99% SLO, page-fast's 1h window crosses 14.4x after 14.4 minutes, while an error-rate ticket with
``for: 10m`` fires after about 11. An explanation with a ``lead`` (its cause naming burn tiers of
an SLO alert) therefore also holds, per named tier with long and short windows' recorded ratios
L and S, while the long window is on course to cross the threshold within ``lead`` at the
current burn, and the short window is above it now (and, as in the tier, enough events)::

    label_replace(max by (slo, <group_by>) (
        (L + (S - L) * lead/long) > thr and S > thr [and events * long >= min_events]
        or <the other tiers>), "<equal label>", "<value>", "", "")

The labels ``equal`` compares that every alert of the SLO carries (``service``, which the
alerting rules add) are set on it, as the recorded ratios lack them. It hides nothing for good:
a burn that stops drops S under the threshold and ends the lead at that evaluation, so the
explained alert notifies if it still fires; a burn that goes on has the page pending within
about ``lead``, and the pending, firing and hold halves take over. ``lead/long`` is a ratio of
durations, which the stack's time scale divides alike (bzzzmon.stack.timescale) and leaves alone.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import (
    SLO,
    BurnTier,
    Inhibition,
    Plan,
    Severity,
    alert_static_labels,
    lead_tiers,
)
from bzzzmon.promql.builders import selector_text
from bzzzmon.promql.duration import format_duration, humanize_duration
from bzzzmon.promql.numbers import format_fraction
from bzzzmon.promql.selectors import escape_label_value
from bzzzmon.render.alertmanager.inhibit import alternatives
from bzzzmon.render.alertmanager.matchers import Matcher
from bzzzmon.render.output import Files, dump_yaml
from bzzzmon.render.rules import rate_series, ratio_series, threshold_text
from bzzzmon.render.text import go_literal
from bzzzmon.spec.names import escalation_alert_name, explanation_hold_alert_name

Rule = dict[str, Any]

# The runbook's "Escalation Procedures" section.
RUNBOOK_ANCHOR = "#escalation-procedures"
STEP = 60  # the escalation clock counts whole minutes


def tolerance(plan: Plan, severity: Severity) -> int:
    """Seconds of not firing within R+T that still count as "still broken" (see the doc): the
    spec's ``routing.escalation_tolerance``, else R/10; whole minutes, at least one."""
    chosen = plan.routing.escalation_tolerance or severity.resolution_target // 10
    return max(STEP, chosen // STEP * STEP)


def _excluded(plan: Plan) -> str:
    prefix = plan.service.alert_prefix
    names = [escalation_alert_name(prefix, s) for s in plan.routing.escalate]
    names += [plan.service.watchdog_alert, explanation_hold_alert_name(plan)]
    return "|".join(names)


def escalation_expr(plan: Plan, severity: Severity) -> str:
    selector = selector_text(
        "ALERTS",
        [
            ("alertstate", "=", "firing"),
            (C.LABEL_SEVERITY, "=", severity.name),
            ("alertname", "!~", _excluded(plan)),
        ],
    )
    firing = f"max without (alertstate) ({selector})"
    window = format_duration(severity.resolution_target + tolerance(plan, severity))
    steps = severity.resolution_target // STEP
    return (
        f"label_replace(count_over_time(({firing})[{window}:{format_duration(STEP)}]) > {steps} "
        f"and {firing}, "
        f'"{C.LABEL_ESCALATED_ALERT}", "$1", "alertname", "(.+)")'
    )


def alert_relabeling() -> list[dict[str, Any]]:
    """prometheus.yml ``alerting.alert_relabel_configs``: an escalation reaches Alertmanager
    under the name of the alert it escalates (see the module doc)."""
    return [
        {
            "source_labels": [C.LABEL_ESCALATION, C.LABEL_ESCALATED_ALERT],
            "regex": "true;(.+)",
            "target_label": "alertname",
            "replacement": "$1",
        }
    ]


def _dashboard_url(plan: Plan) -> str:
    uid = C.dashboard_uid(plan.service.name, C.DASHBOARD_KIND_OVERVIEW)
    grafana = plan.service.grafana_url.rstrip("/")
    return f"{grafana}/d/{uid}" if grafana else f"/d/{uid}"


def escalation_rule(plan: Plan, severity: Severity) -> Rule:
    target = humanize_duration(severity.resolution_target)
    receivers = ", ".join(severity.escalate_to) or "nobody (no escalate_to receivers)"
    labels = dict(plan.service.labels) | {
        C.LABEL_SEVERITY: severity.name,
        C.LABEL_ESCALATION: "true",
    }
    return {
        "alert": escalation_alert_name(plan.service.alert_prefix, severity.name),
        "expr": escalation_expr(plan, severity),
        "labels": {k: go_literal(v) for k, v in sorted(labels.items())},
        "annotations": {
            C.ANNOTATION_SUMMARY: (
                f"{{{{ $labels.{C.LABEL_ESCALATED_ALERT} }}}} has been firing longer than the "
                f"{severity.name} resolution target ({target})."
            ),
            C.ANNOTATION_DESCRIPTION: (
                f"The {severity.name} ({go_literal(severity.title)}) alert "
                f"{{{{ $labels.{C.LABEL_ESCALATED_ALERT} }}}} has fired for {target}, the "
                f"resolution target of {severity.name} (gaps of up to "
                f"{humanize_duration(tolerance(plan, severity))} not counted), and still fires. "
                f"Escalating to: {receivers}."
            ),
            C.ANNOTATION_RUNBOOK_URL: f"{plan.service.runbook_url}{RUNBOOK_ANCHOR}",
            C.ANNOTATION_DASHBOARD_URL: _dashboard_url(plan),
        },
    }


def escalation_rules(plan: Plan) -> list[Rule]:
    """One alerting rule per severity in ``routing.escalate``, in that order."""
    return [escalation_rule(plan, plan.severity(s)) for s in plan.routing.escalate]


def _cause_selector(plan: Plan, matchers: list[Matcher], state: str) -> str:
    # Holds carry their cause's labels, so a cause named by labels alone would match them too.
    own = ("alertname", "!=", explanation_hold_alert_name(plan))
    return selector_text(
        "ALERTS",
        [("alertstate", "=", state), *((m.name, m.op, m.value) for m in matchers), own],
    )


# The labels a hold drops from its cause: its state, and the two the hold rule sets itself (a
# cause pending at one severity and firing at another within the hold would otherwise give two
# series that the rule's own labels make equal, which Prometheus refuses).
_HOLD_DROPS = f"alertstate, alertname, {C.LABEL_SEVERITY}"


def lead_tier_expr(slo: SLO, tier: BurnTier, lead: int) -> str:
    """The tier's long window predicted above its threshold ``lead`` from now at the current
    burn (the short window's ratio), and its short window above it now; with the tier's
    low-traffic guard, as in its own rule (bzzzmon.render.rules.tier_expr)."""
    threshold = threshold_text(tier.factor, slo.budget_fraction)
    long, short = ratio_series(slo, tier.long), ratio_series(slo, tier.short)
    # A ratio of durations: the stack's time scale divides both alike and leaves it alone.
    ahead = format_fraction(Fraction(lead, tier.long))
    parts = [f"({long} + ({short} - {long}) * {ahead}) > {threshold}", f"{short} > {threshold}"]
    if tier.kind == "page" and slo.min_events:
        events = rate_series(C.REC_TOTAL_RATE, slo, tier.long)
        parts.append(f"{events} * {tier.long} >= {slo.min_events}")
    return " and ".join(parts)


def _with_labels(expr: str, labels: dict[str, str]) -> str:
    for name, value in sorted(labels.items()):
        # label_replace expands $1-style references in the replacement; a literal $ is $$.
        literal = escape_label_value(value.replace("$", "$$"))
        expr = f'label_replace({expr}, "{name}", {literal}, "", "")'
    return expr


def lead_labels(plan: Plan, slo: SLO, inh: Inhibition) -> dict[str, str]:
    """The labels ``equal`` compares that the lead's prediction sets itself: those every alert
    of ``slo`` carries but its recorded ratios lack (not its groups, which they keep)."""
    static = alert_static_labels(slo, plan.service.labels)
    return {e: static[e] for e in inh.equal if e in static and e not in slo.group_by}


def lead_expr(plan: Plan, inh: Inhibition) -> str:
    """The hold's lead half: per SLO of the cause, any of its named tiers predicted to cross
    (``lead_tier_expr``), on the SLO's groups, with the labels ``equal`` compares that every
    alert of the SLO carries (the recorded ratios lack those the alerting rules add)."""
    by_slo: dict[str, list[BurnTier]] = {}
    slos: dict[str, SLO] = {}
    for slo, tier in lead_tiers(inh.source, plan.slos):
        slos[slo.name] = slo
        by_slo.setdefault(slo.name, []).append(tier)
    parts = []
    for name, tiers in by_slo.items():
        slo = slos[name]
        predicted = " or ".join(f"({lead_tier_expr(slo, t, inh.lead)})" for t in tiers)
        grouped = f"max by ({', '.join((C.LABEL_SLO, *slo.group_by))}) ({predicted})"
        parts.append(_with_labels(grouped, lead_labels(plan, slo, inh)))
    return " or ".join(parts)


def hold_expr(plan: Plan, inh: Inhibition) -> str:
    window = format_duration(inh.hold)
    parts = []
    for m in alternatives(inh.source):
        parts.append(f"max without ({_HOLD_DROPS}) ({_cause_selector(plan, m, 'pending')})")
        firing = _cause_selector(plan, m, "firing")
        parts.append(f"max without ({_HOLD_DROPS}) (max_over_time({firing}[{window}]))")
    if inh.lead:
        parts.append(lead_expr(plan, inh))
    return " or ".join(parts)


def _hold_description(inh: Inhibition) -> str:
    ahead = ""
    if inh.lead:
        ahead = (
            f", while its burn is on course to page within {humanize_duration(inh.lead)} "
            f"(a burn that stops ends it)"
        )
    return (
        f"Fires while the cause of {inh.name} is pending{ahead}, while it fires and for "
        f"{humanize_duration(inh.hold)} after, so the alerts it explains stay inhibited until "
        f"their cause could notify and while their windows drain. Never notifies."
    )


def hold_rules(plan: Plan) -> list[Rule]:
    """One hold alert per explanation with a hold, in spec order."""
    return [
        {
            "alert": explanation_hold_alert_name(plan),
            "expr": hold_expr(plan, inh),
            # The least severity: the hold is routed to nobody and never escalates.
            "labels": {
                C.LABEL_EXPLANATION: inh.name,
                C.LABEL_SEVERITY: plan.severities[-1].name,
            },
            "annotations": {
                C.ANNOTATION_SUMMARY: f"Holds the explanation {inh.name} (routed to nobody).",
                C.ANNOTATION_DESCRIPTION: _hold_description(inh),
                C.ANNOTATION_RUNBOOK_URL: f"{plan.service.runbook_url}{RUNBOOK_ANCHOR}",
            },
        }
        for inh in plan.routing.inhibitions
        if inh.hold
    ]


def explanations_group(service: str) -> str:
    return f"{service}-explanations"


def render(plan: Plan) -> Files:
    groups = []
    rules = escalation_rules(plan)
    if rules:
        groups.append({"name": C.escalation_group(plan.service.name), "rules": rules})
    holds = hold_rules(plan)
    if holds:
        groups.append({"name": explanations_group(plan.service.name), "rules": holds})
    if not groups:
        return {}
    sources = plan.files_of("routing", "severities")
    return {C.ESCALATION_RULES: dump_yaml({"groups": groups}, sources)}
