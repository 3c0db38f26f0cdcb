"""What the alert catalog says around each alert for the engineer paged at 3 a.m.: the first
steps (the spec's ``first_steps``), the inhibitions that hide it and that it applies, and the
maintenance windows that mute it.

Inhibitions are read from the inhibit rules the Alertmanager config is rendered with, matched
against every alert's fixed labels as Alertmanager matches them, so the catalog says what the
config does. An alert matching both sides of a rule (peers) neither inhibits nor is inhibited by
itself. Mutes are those of the routes the alert ends at.
"""

from __future__ import annotations

from dataclasses import dataclass

from bzzzmon import conventions as C
from bzzzmon.model import Inhibition, MaintenanceWindow, Plan
from bzzzmon.promql.duration import humanize_duration
from bzzzmon.render.alertmanager.inhibit import inhibit_rules
from bzzzmon.render.alertmanager.matchers import Matcher, all_match, parse_all


@dataclass(frozen=True)
class Relation:
    inhibition: str
    alerts: tuple[str, ...]  # the other side's alert names
    equal: tuple[str, ...]
    when: str = "fires"  # "quiet while <alerts> <when>"


@dataclass(frozen=True)
class _Rule:
    name: str
    sources: list[Matcher]
    targets: list[Matcher]
    source_names: tuple[str, ...]
    target_names: tuple[str, ...]
    equal: tuple[str, ...]
    when: str


def _when(inh: Inhibition) -> str:
    """How long an inhibition's source hides its targets: an explanation's hold also covers the
    cause's pending time and its windows draining, and with a lead the burn on course to page
    within it (bzzzmon.render.escalation)."""
    if not inh.hold:
        return "fires"
    ahead = f"is on course to page within {humanize_duration(inh.lead)}, " if inh.lead else ""
    return f"{ahead}is pending or fires, and for {humanize_duration(inh.hold)} after it fired"


class InhibitionIndex:
    """Every inhibit rule with the plan's alerts on each side, computed once (the catalog asks
    for every alert; a 1,000-SLO spec has thousands)."""

    def __init__(self, plan: Plan, labels: list[dict[str, str]]) -> None:
        """``labels``: the fixed labels (alertname included) of every alert of the plan."""
        self.rules: list[_Rule] = []
        when = {inh.name: _when(inh) for inh in plan.routing.inhibitions}
        for name, rule in inhibit_rules(plan):
            sources = parse_all(rule.get("source_matchers", []))
            targets = parse_all(rule.get("target_matchers", []))
            self.rules.append(
                _Rule(
                    name,
                    sources,
                    targets,
                    _names(labels, sources),
                    _names(labels, targets),
                    tuple(rule.get("equal", [])),
                    when[name],
                )
            )

    def relations(self, labels: dict[str, str]) -> tuple[list[Relation], list[Relation]]:
        """(inhibited by, inhibits) for an alert with these fixed labels, one relation per
        inhibition name (its rules merged), in spec order."""
        by: dict[str, Relation] = {}
        of: dict[str, Relation] = {}
        me = labels.get("alertname", "")
        for rule in self.rules:
            source = all_match(rule.sources, labels)
            target = all_match(rule.targets, labels)
            if source and target:
                continue  # peers: Alertmanager never lets an alert inhibit itself or its peers
            if target:
                _merge(by, rule, tuple(n for n in rule.source_names if n != me))
            if source:
                _merge(of, rule, tuple(n for n in rule.target_names if n != me))
        return [r for r in by.values() if r.alerts], [r for r in of.values() if r.alerts]


def _names(labels: list[dict[str, str]], matchers: list[Matcher]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lab["alertname"] for lab in labels if all_match(matchers, lab)))


def _merge(into: dict[str, Relation], rule: _Rule, names: tuple[str, ...]) -> None:
    old = into.get(rule.name)
    merged = tuple(dict.fromkeys((*(old.alerts if old else ()), *names)))
    into[rule.name] = Relation(rule.name, merged, rule.equal, rule.when)


def window_text(window: MaintenanceWindow) -> str:
    """``weekly-maintenance (sunday 02:00-04:00 UTC)``."""
    times = "; ".join(
        f"{', '.join(t.weekdays) or 'every day'} {t.start}-{t.end} {t.location}"
        for t in window.times
    )
    return f"{window.name} ({times})" if times else window.name


def escalation_steps(plan: Plan, severity: str) -> tuple[str, ...]:
    """An escalation's first steps, from the severity's escalation contacts."""
    contacts = ", ".join(plan.severity(severity).escalate_to) if severity else ""
    steps = [
        "Work the escalated alert (label `escalated_alert`) by the first steps of its own "
        "entry in this catalog."
    ]
    if contacts:
        steps.append(f"Bring in {contacts}: the {severity} resolution target is missed.")
    return tuple(steps)


def is_escalation(labels: dict[str, str]) -> bool:
    return labels.get(C.LABEL_ESCALATION) == "true"
