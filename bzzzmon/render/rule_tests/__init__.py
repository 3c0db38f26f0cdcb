"""Generated ``promtool test rules`` files: one per SLO rules file and one per alerts file.

Each test file names its rule file relative to itself (``../rules/...``), so the generated tree
can be tested wherever it lies. Alerts whose inputs cannot be derived are listed in the file's
header comment instead of silently skipped; the lint reports them too.
"""

from __future__ import annotations

import posixpath
import weakref
from typing import Any

import promql_parser

from bzzzmon import conventions as C
from bzzzmon.model import SLO, Alert, Plan
from bzzzmon.promql.parse import parse
from bzzzmon.render.escalation import escalation_rules
from bzzzmon.render.output import Files, dump_yaml
from bzzzmon.render.rule_tests.escalation_tests import INTERVAL as ESCALATION_TEST_INTERVAL
from bzzzmon.render.rule_tests.escalation_tests import escalation_test_groups
from bzzzmon.render.rule_tests.inputs import Underivable
from bzzzmon.render.rule_tests.slo_tests import slo_test_groups
from bzzzmon.render.rule_tests.threshold_tests import threshold_test_groups
from bzzzmon.render.rule_tests.timeline import pick_interval
from bzzzmon.render.rules import SLO_GROUP_ORDER, alerts_file, slo_alert_rules, slo_rules_file
from bzzzmon.slo.windows import BASE_WINDOW


def test_file_for(rules_path: str) -> str:
    """``prometheus/rules/slo-x.rules.yml`` -> ``prometheus/tests/slo-x.test.yml``."""
    name = posixpath.basename(rules_path).removesuffix(".rules.yml")
    return f"{C.TESTS_DIR}/{name}.test.yml"


def _relative(rules_path: str) -> str:
    return posixpath.relpath(rules_path, C.TESTS_DIR)


def _ranges(expr: str) -> list[int]:
    """Range durations (seconds) of the matrix selectors in ``expr``."""
    found: list[int] = []
    stack: list[Any] = [parse(expr)]
    while stack:
        node = stack.pop()
        if isinstance(node, promql_parser.MatrixSelector):
            found.append(int(node.range.total_seconds()))
        for attr in ("lhs", "rhs", "expr", "vector_selector"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                stack.append(child)
        stack += list(getattr(node, "args", None) or [])
    return found


def _document(
    rules_path: str, interval: int, groups: list[dict[str, Any]], order: list[str] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "rule_files": [_relative(rules_path)],
        "evaluation_interval": f"{interval}s",
    }
    if order:
        # promtool evaluates groups by name unless told; the alerts must see this step's ratios.
        doc["group_eval_order"] = order
    doc["tests"] = groups
    return doc


def _with_notes(text: str, notes: list[str]) -> str:
    if not notes:
        return text
    head, _, body = text.partition("\n# Change the spec")
    lines = "".join(f"# Not tested: {n}\n" for n in notes)
    first, sep, rest = body.partition("\n")
    return f"{head}\n# Change the spec{first}{sep}{lines}{rest}"


# Per plan, the SLOs whose cases could not be derived (with why), as render() found them; a
# weak reference keys it, so a plan that goes also drops its entry.
_SLO_NOTES: dict[int, tuple[weakref.ref[Plan], list[str]]] = {}


def _slo_groups(plan: Plan, slo: SLO) -> tuple[int, list[dict[str, Any]], list[str]]:
    """An SLO's evaluation interval and generated cases, and what they leave untested."""
    interval = pick_interval([*slo.windows, BASE_WINDOW])
    try:
        groups, notes = slo_test_groups(plan, slo, interval)
        return interval, groups, notes
    except Underivable as exc:
        return interval, [], [f"SLO {slo.name}: {exc}"]


def _slo_notes(plan: Plan) -> list[str]:
    """What render() noted for this plan, without generating every SLO's cases again (that was
    a fifth of a 1,000-SLO build); computed here when render() has not run."""
    cached = _SLO_NOTES.get(id(plan))
    if cached is not None and cached[0]() is plan:
        return cached[1]
    return [note for slo in plan.slos for note in _slo_groups(plan, slo)[2]]


def _remember_notes(plan: Plan, notes: list[str]) -> None:
    key = id(plan)
    _SLO_NOTES[key] = (weakref.ref(plan, lambda _: _SLO_NOTES.pop(key, None)), notes)


def untested(plan: Plan) -> list[str]:
    """Alerts (and SLOs) for which no case could be generated, each with the reason."""
    notes = list(_slo_notes(plan))
    for alert in plan.alerts:
        try:
            threshold_test_groups(plan, alert, pick_interval([BASE_WINDOW]))
        except Underivable as exc:
            notes.append(f"alert {alert.name}: {exc}")
    return notes


def render(plan: Plan) -> Files:
    files: Files = {}
    slo_notes: list[str] = []
    for slo in plan.slos:
        interval, groups, notes = _slo_groups(plan, slo)
        slo_notes += notes
        if not groups:
            continue
        rules_path = slo_rules_file(slo)
        parts = SLO_GROUP_ORDER if slo_alert_rules(plan, slo) else SLO_GROUP_ORDER[:-1]
        order = [C.slo_group(plan.service.name, slo.name, part) for part in parts]
        document = _document(rules_path, interval, groups, order)
        text = dump_yaml(document, [slo.origin.file], remember=False)  # no check reads tests
        files[test_file_for(rules_path)] = _with_notes(text, notes)
    by_component: dict[str, list[Alert]] = {}
    for alert in plan.alerts:
        by_component.setdefault(alert.component, []).append(alert)
    for component in sorted(by_component):
        alerts = by_component[component]
        windows = [BASE_WINDOW, *(r for a in alerts for r in _ranges(a.expr))]
        interval = pick_interval(windows)
        groups = []
        notes = []
        for alert in alerts:
            try:
                groups += threshold_test_groups(plan, alert, interval)
            except Underivable as exc:
                notes.append(f"alert {alert.name}: {exc}")
        if not groups:
            continue
        rules_path = alerts_file(component)
        document = _document(rules_path, interval, groups)
        text = dump_yaml(document, [a.origin.file for a in alerts], remember=False)
        files[test_file_for(rules_path)] = _with_notes(text, notes)
    files.update(_escalation(plan))
    _remember_notes(plan, slo_notes)
    return files


def _escalation(plan: Plan) -> Files:
    rules = escalation_rules(plan)
    if not rules and not any(i.hold for i in plan.routing.inhibitions):
        return {}
    interval = ESCALATION_TEST_INTERVAL
    groups = escalation_test_groups(plan, rules, interval)
    sources = plan.files_of("routing", "severities")
    text = dump_yaml(_document(C.ESCALATION_RULES, interval, groups), sources, remember=False)
    return {test_file_for(C.ESCALATION_RULES): text}
