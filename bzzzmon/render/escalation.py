"""Escalation alerting rules (``prometheus/rules/escalation.rules.yml``): an alert of an escalated
severity still firing after that severity's resolution target raises
``BZZZ<S>ResolutionTargetMissed``.

The rule reads Prometheus' own ``ALERTS`` series, so it needs no knowledge of the alert's
expression and covers every alert of the severity, generated or not::

    label_replace(
      max without (alertstate) (
        ALERTS{alertstate="firing", severity="P0", alertname!~"<escalations>|<watchdog>"}
      ),
      "escalated_alert", "$1", "alertname", "(.+)")
    for: <P0 resolution target>

``ALERTS{alertstate="firing"}`` exists exactly while the alert fires, so ``for:`` counts firing
time, not pending time. ``max without (alertstate)`` keeps every identifying label of the escalated
alert (component, slo, tier, instance, ...) and drops only the state; the escalated alert's name is
kept in ``escalated_alert`` because the rule's own name replaces ``alertname``. Escalation alerts
and the Watchdog (always firing by design) are excluded. The rule's labels set ``severity`` (the
same), ``alert_kind="escalation"`` and ``escalation="true"``; the route tree sends
``escalation="true", severity=<S>`` to that severity's ``escalate_to`` receivers.
"""

from __future__ import annotations

from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Plan, Severity
from bzzzmon.promql.builders import selector_text
from bzzzmon.promql.duration import format_duration, humanize_duration
from bzzzmon.render.output import Files, dump_yaml
from bzzzmon.render.text import go_literal
from bzzzmon.spec.plan import escalation_alert_name

Rule = dict[str, Any]

# The runbook's "Escalation Procedures" section.
RUNBOOK_ANCHOR = "#escalation-procedures"


def escalation_expr(plan: Plan, severity: Severity) -> str:
    excluded = [escalation_alert_name(s) for s in plan.routing.escalate] + [C.WATCHDOG_ALERT]
    selector = selector_text(
        "ALERTS",
        [
            ("alertstate", "=", "firing"),
            (C.LABEL_SEVERITY, "=", severity.name),
            ("alertname", "!~", "|".join(excluded)),
        ],
    )
    return (
        f"label_replace(max without (alertstate) ({selector}), "
        f'"{C.LABEL_ESCALATED_ALERT}", "$1", "alertname", "(.+)")'
    )


def _dashboard_url(plan: Plan) -> str:
    uid = C.dashboard_uid(plan.service.name, C.DASHBOARD_KIND_OVERVIEW)
    grafana = plan.service.grafana_url.rstrip("/")
    return f"{grafana}/d/{uid}" if grafana else f"/d/{uid}"


def escalation_rule(plan: Plan, severity: Severity) -> Rule:
    target = humanize_duration(severity.resolution_target)
    receivers = ", ".join(severity.escalate_to) or "nobody (no escalate_to receivers)"
    labels = dict(plan.service.labels) | {
        C.LABEL_SEVERITY: severity.name,
        C.LABEL_ALERT_KIND: C.ALERT_KIND_ESCALATION,
        C.LABEL_ESCALATION: "true",
    }
    return {
        "alert": escalation_alert_name(severity.name),
        "expr": escalation_expr(plan, severity),
        "for": format_duration(severity.resolution_target),
        "labels": {k: go_literal(v) for k, v in sorted(labels.items())},
        "annotations": {
            C.ANNOTATION_SUMMARY: (
                f"{{{{ $labels.{C.LABEL_ESCALATED_ALERT} }}}} has been firing longer than the "
                f"{severity.name} resolution target ({target})."
            ),
            C.ANNOTATION_DESCRIPTION: (
                f"The {severity.name} ({go_literal(severity.title)}) alert "
                f"{{{{ $labels.{C.LABEL_ESCALATED_ALERT} }}}} is still firing after {target}, "
                f"the resolution target of {severity.name}. Escalating to: {receivers}."
            ),
            C.ANNOTATION_RUNBOOK_URL: f"{plan.service.runbook_url}{RUNBOOK_ANCHOR}",
            C.ANNOTATION_DASHBOARD_URL: _dashboard_url(plan),
        },
    }


def escalation_rules(plan: Plan) -> list[Rule]:
    """One alerting rule per severity in ``routing.escalate``, in that order."""
    return [escalation_rule(plan, plan.severity(s)) for s in plan.routing.escalate]


def render(plan: Plan) -> Files:
    rules = escalation_rules(plan)
    if not rules:
        return {}
    group = {"name": C.escalation_group(plan.service.name), "rules": rules}
    sources = plan.files_of("routing", "severities")
    return {C.ESCALATION_RULES: dump_yaml({"groups": [group]}, sources)}
