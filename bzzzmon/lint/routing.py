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


def _where(plan: Plan, inh: Inhibition | None = None, section: str = "routing") -> str:
    if inh is not None and inh.origin is not None:
        kind = "explanation" if inh.explanation else "inhibition"
        return f"{inh.origin.file}:{inh.origin.line} {kind} {inh.name}"
    files = plan.files_of(section)
    return f"{files[0]} {section}" if files else section


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
        findings.append(
            Finding(
                "warning",
                _where(plan, inh),
                "inhibition-identity",
                f"the source is per agent ({', '.join(identity)}) but equal "
                f"[{', '.join(inh.equal)}] names none of those labels: one agent's alert hides "
                f"the targets of every agent; add {identity[0]} to equal, or set any_instance: "
                f"true if one agent explains them all",
            )
        )
    teams = {r for t in plan.routing.teams for r in t.receivers}
    for severity in plan.severities:
        if severity.receivers or teams:
            continue
        users = sum(a.severity == severity.name for a in plan.alerts if a.name != C.WATCHDOG_ALERT)
        users += sum(t.severity == severity.name for s in plan.slos for t in s.tiers)
        findings.append(
            Finding(
                "warning",
                _where(plan, section="severities"),
                "unrouted-severity",
                f"severity {severity.name} reaches no receiver: its {users} alert(s) notify "
                f"nobody; give it receivers",
            )
        )
    if not plan.routing.catch_all:
        findings.append(
            Finding(
                "warning",
                _where(plan),
                "no-catch-all",
                "alerts with no or an unknown severity reach no receiver; name the receivers "
                "that catch them in routing.catch_all",
            )
        )
    return findings
