"""Inhibit rules from the spec's inhibitions, and their evaluation with Alertmanager's semantics.

An inhibition side names alerts by ``alertname(s)``, ``components`` (label ``component``) and
``slos`` (label ``slo``): those three are alternatives, an alert named by any of them is on that
side (a P2P partition explains "the DHT replication alert and the DHT SLOs' alerts"). Alertmanager
ANDs the matchers of one rule, so each alternative becomes its own inhibit rule. ``alert_kind``,
``tiers`` and ``severities`` narrow every alternative (labels ``alert_kind``, ``tier``,
``severity``). A list becomes one regex alternation matcher (``component=~"dht|pubsub"``).

Two kinds of alert are never inhibited unless a target names them explicitly: the Watchdog (a
muted heartbeat would page the heartbeat service's owner for nothing) and escalations (they say an
incident outlived its resolution target; the alert that explains it may be that very incident).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import InhibitMatch, Plan
from bzzzmon.render.alertmanager_matchers import (
    Matcher,
    all_match,
    equal_or_any,
    parse_all,
)

Rule = dict[str, Any]

# What ``_protected`` adds to a target (the inhibition tests look for these in the config).
NOT_WATCHDOG = Matcher("alertname", "!=", C.WATCHDOG_ALERT)
NOT_ESCALATION = Matcher(C.LABEL_ALERT_KIND, "!=", C.ALERT_KIND_ESCALATION)


def alternatives(side: InhibitMatch) -> list[list[Matcher]]:
    """Matcher sets, any of which puts an alert on this side."""
    narrowing: list[Matcher] = []
    if side.alert_kind:
        narrowing.append(Matcher(C.LABEL_ALERT_KIND, "=", side.alert_kind))
    if side.tiers:
        narrowing.append(equal_or_any(C.LABEL_TIER, side.tiers))
    if side.severities:
        narrowing.append(equal_or_any(C.LABEL_SEVERITY, side.severities))
    naming = [
        equal_or_any(label, values)
        for label, values in (
            ("alertname", side.alertnames),
            (C.LABEL_COMPONENT, side.components),
            (C.LABEL_SLO, side.slos),
        )
        if values
    ]
    if not naming:
        return [narrowing]
    return [[n, *narrowing] for n in naming]


def _protected(target: list[Matcher]) -> list[Matcher]:
    """Exclusions added to a target that does not pin the alert name or kind itself."""
    pinned = {m.name for m in target if m.op in ("=", "=~")}
    extra = []
    if "alertname" not in pinned:
        extra.append(NOT_WATCHDOG)
        if C.LABEL_ALERT_KIND not in pinned:
            extra.append(NOT_ESCALATION)
    return target + extra


def inhibit_rules(plan: Plan) -> list[tuple[str, Rule]]:
    """(inhibition name, inhibit rule) in spec order; one rule per source x target alternative."""
    out: list[tuple[str, Rule]] = []
    for inh in plan.routing.inhibitions:
        for source in alternatives(inh.source):
            for target in alternatives(inh.target):
                rule: Rule = {
                    "source_matchers": [m.format() for m in source],
                    "target_matchers": [m.format() for m in _protected(target)],
                }
                if inh.equal:
                    rule["equal"] = list(inh.equal)
                out.append((inh.name, rule))
    return out


def is_inhibited(
    rules: Sequence[Mapping[str, Any]],
    target: Mapping[str, str],
    firing: Sequence[Mapping[str, str]],
) -> bool:
    """Whether Alertmanager mutes ``target`` while the ``firing`` alerts fire.

    As ``inhibit.Inhibitor.Mutes``: a rule applies when the target matches its target matchers
    and some firing alert matches its source matchers with every ``equal`` label the same (a
    missing label counts as empty). When the target also matches the source side, sources that
    also match the target side are ignored, so an alert never inhibits itself or its peers.
    """
    for rule in rules:
        sources = parse_all(rule.get("source_matchers", []))
        targets = parse_all(rule.get("target_matchers", []))
        if not all_match(targets, target):
            continue
        two_sided = all_match(sources, target)
        for alert in firing:
            if not all_match(sources, alert):
                continue
            if two_sided and all_match(targets, alert):
                continue
            if all(alert.get(n, "") == target.get(n, "") for n in rule.get("equal", [])):
                return True
    return False
