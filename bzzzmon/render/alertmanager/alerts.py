"""What Alertmanager will see of the plan's alerts: each generated alert's fixed labels and which
per-agent labels (``conventions.IDENTITY_LABELS``) its series carry.

The fixed labels come from the rules as ``bzzzmon.render.rules`` writes them, so routing and
inhibition reasoning reads the same labels Prometheus sends. Which series labels survive an
expression is read from its PromQL: a bare selector keeps every target label (``instance``, the
Swarm node and slot), ``sum by (instance)`` keeps ``instance``, ``min(...)`` keeps none; ``or``
keeps what either side keeps. An SLO's burn and budget alerts carry its ``group_by`` labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import promql_parser

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.promql.parse import parse
from bzzzmon.render.alertmanager.matchers import Matcher, all_match
from bzzzmon.render.rules import slo_alert_rules, threshold_rule

# Every label a scraped series has; stands for "all of them" in ``_kept``.
_ALL = frozenset(("*",))


@dataclass(frozen=True)
class AlertProfile:
    labels: dict[str, str]  # alertname and the rule's fixed labels
    identity: frozenset[str]  # the IDENTITY_LABELS its firing series carry

    @property
    def severity(self) -> str:
        return self.labels.get(C.LABEL_SEVERITY, "")


def _kept(node: Any) -> frozenset[str]:
    """Labels of the expression's result that come from the scraped series (_ALL: every one)."""
    if isinstance(node, promql_parser.VectorSelector | promql_parser.MatrixSelector):
        return _ALL
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        if modifier is None:
            return frozenset()
        if str(modifier.type).endswith("By"):
            return frozenset(modifier.labels)
        return _ALL  # without (...): what is left still names the target
    if isinstance(node, promql_parser.BinaryExpr):
        left, right = _kept(node.lhs), _kept(node.rhs)
        return _ALL if _ALL in (left, right) else left | right
    if isinstance(node, promql_parser.Call):
        if node.func.name in ("vector", "time", "scalar"):
            return frozenset()
        if node.func.name in ("absent", "absent_over_time"):
            return frozenset()  # only equality matchers' labels, never a target's identity
        kept = [_kept(a) for a in node.args if not isinstance(a, str | int | float)]
        return _ALL if _ALL in kept else frozenset().union(*kept)
    for attr in ("expr", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None:
            return _kept(child)
    return frozenset()


def identity_of(expr: str) -> frozenset[str]:
    kept = _kept(parse(expr))
    if kept == _ALL:
        return frozenset(C.IDENTITY_LABELS)
    return frozenset(kept) & frozenset(C.IDENTITY_LABELS)


def _fixed(rule: dict[str, Any]) -> dict[str, str]:
    return {"alertname": str(rule["alert"]), **{k: str(v) for k, v in rule["labels"].items()}}


def profiles(plan: Plan) -> list[AlertProfile]:
    """Every alert the plan's rules raise (escalations aside), in rule order."""
    found: list[AlertProfile] = []
    for slo in plan.slos:
        grouped = frozenset(slo.group_by) & frozenset(C.IDENTITY_LABELS)
        for rule in slo_alert_rules(plan, slo):
            absent = rule["labels"].get(C.LABEL_ALERT_KIND) == "missing_data"
            found.append(AlertProfile(_fixed(rule), frozenset() if absent else grouped))
    for alert in plan.alerts:
        found.append(AlertProfile(_fixed(threshold_rule(plan, alert)), identity_of(alert.expr)))
    return found


def matching(plan: Plan, matchers: list[Matcher]) -> list[AlertProfile]:
    """The plan's alerts whose fixed labels satisfy ``matchers``."""
    return [p for p in profiles(plan) if all_match(matchers, p.labels)]
