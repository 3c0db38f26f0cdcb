"""Which alerts the user's own promtool tests (``specs/tests/*.yml``) show firing, so the lint
does not call an alert untested that a hand-written test covers.

A case counts when it expects the alert to fire: an ``alert_rule_test`` with ``exp_alerts``, or a
``promql_expr_test`` of ``ALERTS{alertname="..."}`` with ``exp_samples``; a burn tier counts when
the expected labels (or the ALERTS selector) name it. A file that does not parse covers nothing
here: ``bzzzmon test`` reports it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.verify.rule_testing import USER_TESTS_DIR, user_tests

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ALERTS = re.compile(r"\bALERTS\s*\{([^}]*)\}")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')

Covered = set[tuple[str, str | None]]  # (alertname, tier or None for the alert as a whole)


def covered(spec_dir: Path) -> Covered:
    """What the tests in ``spec_dir``'s tests/ expect to fire."""
    found: Covered = set()
    if not (spec_dir / USER_TESTS_DIR).is_dir():
        return found
    for path in user_tests(spec_dir):
        try:
            doc: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for group in _items(doc.get("tests") if isinstance(doc, dict) else None):
            for case in _items(group.get("alert_rule_test")):
                _alert_case(case, found)
            for case in _items(group.get("promql_expr_test")):
                if _items(case.get("exp_samples")):
                    _alerts_query(str(case.get("expr", "")), found)
    return found


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _alert_case(case: dict[str, Any], found: Covered) -> None:
    name, expected = case.get("alertname"), _items(case.get("exp_alerts"))
    if not isinstance(name, str) or not expected:
        return
    found.add((name, None))
    for alert in expected:
        labels = alert.get("exp_labels")
        if isinstance(labels, dict) and isinstance(labels.get(C.LABEL_TIER), str):
            found.add((name, labels[C.LABEL_TIER]))


def _alerts_query(expr: str, found: Covered) -> None:
    for selector in _ALERTS.finditer(expr):
        matchers = dict(_MATCHER.findall(selector.group(1)))
        name = matchers.get("alertname")
        if name:
            found.add((name, None))
            if C.LABEL_TIER in matchers:
                found.add((name, matchers[C.LABEL_TIER]))
