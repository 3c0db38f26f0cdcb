"""Inhibit rules from the spec's inhibitions and explanations, and their evaluation with
Alertmanager's semantics.

An inhibition side names alerts by ``alertname(s)``, ``components`` (label ``component``) and
``slos`` (label ``slo``): those three are alternatives, an alert named by any of them is on that
side (a P2P partition explains "the DHT replication alert and the DHT SLOs' alerts"). Alertmanager
ANDs the matchers of one rule, so each alternative becomes its own inhibit rule. ``alert_kind``,
``tiers`` and ``severities`` narrow every alternative (labels ``alert_kind``, ``tier``,
``severity``). A list becomes one regex alternation matcher (``component=~"dht|pubsub"``).

Severity: an inhibition never hides an alert as severe as its source or more, unless it says
``any_severity`` (an explanation always does: the cause's notification stands for the alerts it
explains). The source's possible severities are those of the plan's alerts it matches (every
severity when it matches none of them); per source severity S one rule is written, its source
pinned to ``severity="S"`` and its target to the severities below S.

An explanation (``routing.explains``) with a ``hold`` gets a second rule whose source is its hold
alert (``bzzzmon.render.escalation``): that alert fires while the cause is pending, while it fires
and for ``hold`` after, with the cause's labels, so an explained burn tier that crosses its
threshold before the cause's ``for:`` has passed, or still fires while its windows drain, stays
hidden; with a ``lead`` also while the cause's burn is on course to page within it.

The Watchdog is never inhibited unless a target names it (a muted heartbeat would page the
heartbeat service's owner for nothing). Escalations are inhibited exactly as the alert they
escalate: Prometheus sends them under that alert's name and labels plus ``escalation="true"``
(``bzzzmon.render.escalation``), so every rule and silence that hides the alert hides its
escalation too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.model import Inhibition, InhibitMatch, Plan
from bzzzmon.render.alertmanager.alerts import matching
from bzzzmon.render.alertmanager.matchers import (
    Matcher,
    all_match,
    equal_or_any,
    parse_all,
)
from bzzzmon.spec.names import explanation_hold_alert_name

Rule = dict[str, Any]


# What ``_protected`` adds to a target (the inhibition tests look for it in the config).
def not_watchdog(plan: Plan) -> Matcher:
    return Matcher("alertname", "!=", plan.service.watchdog_alert)


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


def _protected(plan: Plan, target: list[Matcher]) -> list[Matcher]:
    """The Watchdog exclusion, added to a target that does not pin the alert name itself."""
    pinned = {m.name for m in target if m.op in ("=", "=~")}
    return target if "alertname" in pinned else [*target, not_watchdog(plan)]


def source_severities(plan: Plan, side: InhibitMatch, source: list[Matcher]) -> list[str]:
    """Severities an alert on this source alternative can have, most severe first."""
    order = [s.name for s in plan.severities]
    if side.severities:
        return [s for s in order if s in side.severities]
    found = {p.severity for p in matching(plan, source)}
    return [s for s in order if s in found] or order


def _severity_splits(
    plan: Plan, inh: Inhibition, source: list[Matcher]
) -> Iterator[tuple[list[Matcher], list[Matcher]]]:
    """(extra source matchers, extra target matchers) per rule the severity guard needs."""
    if inh.any_severity:
        yield [], []
        return
    order = [s.name for s in plan.severities]
    for severity in source_severities(plan, inh.source, source):
        lower = order[order.index(severity) + 1 :]
        if inh.target.severities:
            lower = [s for s in lower if s in inh.target.severities]
        if lower:
            yield (
                [Matcher(C.LABEL_SEVERITY, "=", severity)],
                [equal_or_any(C.LABEL_SEVERITY, lower)],
            )


def hold_source(plan: Plan, inh: Inhibition) -> list[Matcher]:
    """The source matchers of an explanation's hold rule: its hold alert."""
    return [
        Matcher("alertname", "=", explanation_hold_alert_name(plan)),
        Matcher(C.LABEL_EXPLANATION, "=", inh.name),
    ]


def inhibit_rules(plan: Plan) -> list[tuple[str, Rule]]:
    """(inhibition name, inhibit rule) in spec order: per source x target alternative and per
    source severity (see the module doc), then an explanation's hold rule per target."""
    out: list[tuple[str, Rule]] = []
    for inh in plan.routing.inhibitions:
        sources = alternatives(inh.source)
        if inh.hold:
            sources.append(hold_source(plan, inh))
        for source in sources:
            for extra_source, extra_target in _severity_splits(plan, inh, source):
                for target in alternatives(inh.target):
                    rule: Rule = {
                        "source_matchers": [m.format() for m in source + extra_source],
                        "target_matchers": [
                            m.format() for m in _protected(plan, target + extra_target)
                        ],
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
