"""VictoriaMetrics' rule engine on the generated rules: ``vmalert -dryRun`` and ``vmalert-tool
unittest`` on the generated ``promtool test rules`` files.

vmalert-tool reads promtool's test format with two differences (docs/compatibility.md):
``promql_expr_test`` is called ``metricsql_expr_test``, and every alert carries an ``alertgroup``
label with its group's name (``ALERTS`` included: vmalert-tool 1.145's ``--disableAlertgroupLabel``
does not remove it there). ``vmalert_test`` rewrites a file accordingly, expecting the group label
that the alert's group gives it, so each case asserts the same alerts as under promtool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.verify.promtool import rule_files
from bzzzmon.verify.tools import ToolResult, parallel_map, require, run

GROUP_LABEL = "alertgroup"


def alert_groups(rules_dir: Path, names: list[str]) -> dict[str, str]:
    """Alert name -> the name of the rule group that defines it, over the named rule files."""
    groups: dict[str, str] = {}
    for name in names:
        doc: Any = yaml.safe_load((rules_dir / name).read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" in rule:
                    groups[str(rule["alert"])] = str(group["name"])
    return groups


def _with_group(labels: str, groups: dict[str, str]) -> str:
    """``ALERTS{alertname="X", ...}`` with ``alertgroup="<group of X>"`` added after the name."""
    for alert, group in groups.items():
        marker = f'alertname="{alert}"'
        if marker in labels and f"{GROUP_LABEL}=" not in labels:
            return labels.replace(marker, f'{GROUP_LABEL}="{group}", {marker}', 1)
    return labels


def vmalert_test(test: Path, rules_dir: Path) -> dict[str, Any]:
    """The promtool test file ``test`` in vmalert-tool's format, its rule files made absolute."""
    doc: Any = yaml.safe_load(test.read_text(encoding="utf-8")) or {}
    names = [Path(str(f)).name for f in doc.get("rule_files") or []]
    groups = alert_groups(rules_dir, names)
    doc["rule_files"] = [str((rules_dir / n).resolve()) for n in names]
    for case in doc.get("tests") or []:
        exprs = case.pop("promql_expr_test", None)
        if exprs is None:
            continue
        for expr in exprs:
            for sample in expr.get("exp_samples") or []:
                if str(sample.get("labels", "")).startswith("ALERTS{"):
                    sample["labels"] = _with_group(str(sample["labels"]), groups)
        case["metricsql_expr_test"] = exprs
        for alert in case.get("alert_rule_test") or []:
            group = groups.get(str(alert.get("alertname")))
            for expected in alert.get("exp_alerts") or []:
                if group is not None:
                    expected.setdefault("exp_labels", {})[GROUP_LABEL] = group
    return dict(doc)


def dry_run(out: Path) -> ToolResult | None:
    """``vmalert -dryRun``: every rule file parses as MetricsQL and validates."""
    files = rule_files(out)
    if not files:
        return None
    return run([require("vmalert"), "-dryRun", *(f"-rule={f}" for f in files)])


def unittest(
    out: Path,
    into: Path,
    tests: list[Path] | None = None,
    paths: C.ServicePaths | None = None,
) -> list[ToolResult]:
    """``vmalert-tool unittest`` on each generated test file (or ``tests``) of one service
    (``paths``: where its files are in ``out``, the one-service layout unless given), side by
    side; the converted files are written to ``into``."""
    paths = paths or C.service_paths()
    rules_dir = out / paths.rules_dir
    chosen = tests if tests is not None else sorted((out / paths.tests_dir).glob("*.yml"))
    converted = []
    for test in chosen:
        target = into / test.name
        target.write_text(
            yaml.safe_dump(vmalert_test(test, rules_dir), sort_keys=False), encoding="utf-8"
        )
        converted.append(target)
    tool = require("vmalert-tool")
    return parallel_map(
        lambda path: run([tool, "unittest", f"--files={path}"], cwd=into, timeout=1200), converted
    )
