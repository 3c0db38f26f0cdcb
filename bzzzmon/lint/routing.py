"""Lint of the routing: alerts that reach nobody, and inhibitions that may hide a real outage.

Warnings:
- ``inhibition-identity``: an inhibition's source is about one agent (its alerts carry
  ``instance`` or a Swarm node/slot label, ``bzzzmon.render.alertmanager.alerts``) but ``equal``
  names none of those labels, so one agent's alert hides the targets of every agent and the
  aggregates over all of them (``any_instance: true`` says that is meant);
- ``unrouted-severity``: a severity with no receivers (nor team) - its alerts notify nobody;
- ``no-catch-all``: without ``routing.catch_all`` an alert with no or an unknown severity ends at
  the silent root.
"""

from __future__ import annotations

from bzzzmon import conventions as C
from bzzzmon.lint import Finding
from bzzzmon.model import Inhibition, Plan
from bzzzmon.render.alertmanager.alerts import matching
from bzzzmon.render.alertmanager.inhibit import alternatives
from bzzzmon.render.output import Files


def _inhibition(plan: Plan, inh: Inhibition) -> tuple[str, str]:
    """Where the inhibition is written and what it is ("inhibition x" / "explanation x")."""
    kind, section = (
        ("explanation", "explains") if inh.explanation else ("inhibition", "inhibitions")
    )
    origin = inh.origin or plan.key_origin(f"routing.{section}")
    return str(origin), f"{kind} {inh.name}"


def _identity(plan: Plan, inh: Inhibition) -> list[str]:
    """The per-agent labels the inhibition's source alerts carry, in conventions order."""
    carried: set[str] = set()
    for source in alternatives(inh.source):
        for profile in matching(plan, source):
            carried |= profile.identity
    return [label for label in C.IDENTITY_LABELS if label in carried]


def check(plan: Plan, files: Files) -> list[Finding]:
    del files  # the routing is judged on the plan; the rendered config follows from it
    findings: list[Finding] = []
    for inh in plan.routing.inhibitions:
        identity = _identity(plan, inh)
        if inh.any_instance or not identity or set(identity) & set(inh.equal):
            continue
        where, subject = _inhibition(plan, inh)
        section = "explains" if inh.explanation else "inhibitions"
        findings.append(
            Finding(
                "warning",
                where,
                "inhibition-identity",
                f"the source is per agent ({', '.join(identity)}) but equal "
                f"[{', '.join(inh.equal)}] names none of those labels: one agent's alert hides "
                f"the targets of every agent",
                subject,
                f"routing.{section}[].equal",
                f"add {identity[0]} to equal, or set any_instance: true if one agent explains "
                "them all",
            )
        )
    teams = {r for t in plan.routing.teams for r in t.receivers}
    for severity in plan.severities:
        if severity.receivers or teams:
            continue
        users = sum(
            a.severity == severity.name
            for a in plan.alerts
            if a.name != plan.service.watchdog_alert
        )
        users += sum(t.severity == severity.name for s in plan.slos for t in s.tiers)
        key = f"severities.{severity.name}.receivers"
        findings.append(
            Finding(
                "warning",
                str(plan.key_origin(key, "severities")),
                "unrouted-severity",
                f"reaches no receiver: its {users} alert(s) notify nobody; set {key}",
                f"severity {severity.name}",
                key,
                "declare receivers (receivers:) and list them under the severity, or route "
                "components to a team (routing.teams)",
            )
        )
    if not plan.routing.catch_all:
        findings.append(
            Finding(
                "warning",
                str(plan.key_origin("routing.catch_all")),
                "no-catch-all",
                "alerts with no or an unknown severity reach no receiver; set routing.catch_all",
                "routing",
                "routing.catch_all",
                "name the receivers that catch them, e.g. catch_all: [team-chat]",
            )
        )
    return findings
