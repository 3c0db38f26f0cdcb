"""Generated promtool tests: they pass on the real promtool, cover every alert, and fail when a
rule is wrong."""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.lint.rules_lint import rule_refs
from bzzzmon.render import escalation, rule_tests, rules
from bzzzmon.render.output import Files
from bzzzmon.verify.rule_testing import collect, run_tests, seconds
from bzzzmon.verify.tools import ToolResult, require, run, workers
from tests.review.conftest import SMALL, copy_spec, needs_promtool, plan_of
from tests.shipped import BZZZ_SPECS, bzzz_plan


def _render(specs: Path, out: Path) -> Files:
    """Rules and their tests only (no dashboards): what promtool needs."""
    plan = plan_of(specs)
    files: Files = {}
    for renderer in (rules.render, escalation.render, rule_tests.render):
        files.update(renderer(plan))
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return files


def _promtool(out: Path) -> ToolResult:
    """`promtool test rules` on every generated test file as `bzzzmon test` runs them: the newest
    promtool, one process per file and as many at once as there are cores, and through the
    session's cache of passes (the shipped spec's files are generated/'s, which the version
    matrix runs again); failed when any file fails, with every output."""
    with tempfile.TemporaryDirectory(prefix="bzzzmon-review-") as tmp:
        tests = collect(out, None, Path(tmp))
        assert tests
        results = list(run_tests(tests, jobs=workers()))
    return ToolResult(
        ("promtool", "test", "rules", *(str(t.path) for t in tests)),
        next((r.result.returncode for r in results if not r.ok), 0),
        "\n".join(r.result.output for r in results),
    )


def _evaluations(group: dict[str, Any]) -> int:
    checks = [*(group.get("alert_rule_test") or []), *(group.get("promql_expr_test") or [])]
    last = max((seconds(str(c["eval_time"])) for c in checks), default=0)
    return last // max(1, seconds(str(group.get("interval", "1m"))))


def _first_failing_group(test: Path) -> ToolResult:
    """`promtool test rules` on the test file ``test``, each of its test groups in a file of its
    own (a group is self-contained: its series, its evaluations, its checks), the shortest first
    and as many at once as there are cores, until one fails: that failure, or the pass of them
    all. One failing group proves a broken rule is caught, so the others (the slower tiers'
    day-long burns) need not run, and a group still running is stopped."""
    doc = yaml.safe_load(test.read_text(encoding="utf-8"))
    head = {k: v for k, v in doc.items() if k != "tests"}
    head["rule_files"] = [str((test.parent / f).resolve()) for f in doc["rule_files"]]
    assert doc["tests"]
    folder = test.parent / f".{test.stem}-groups"
    folder.mkdir()
    files = []
    # promtool evaluates a group up to its last check, one evaluation per interval.
    for i, group in sorted(enumerate(doc["tests"]), key=lambda g: _evaluations(g[1])):
        files.append(folder / f"{i:03d}.test.yml")
        files[-1].write_text(yaml.safe_dump({**head, "tests": [group]}, sort_keys=False))
    promtool = require("promtool")
    stop = threading.Event()
    lock = threading.Lock()
    running: set[subprocess.Popen[str]] = set()

    def one(path: Path) -> ToolResult | None:
        with lock:
            if stop.is_set():
                return None
            proc = subprocess.Popen(
                [promtool, "test", "rules", str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            running.add(proc)
        output, _ = proc.communicate(timeout=600)
        with lock:
            running.discard(proc)
        return ToolResult((promtool, "test", "rules", str(path)), proc.returncode, output.strip())

    outputs = []
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        for future in as_completed([pool.submit(one, path) for path in files]):
            result = future.result()
            if result is not None and not result.ok:
                with lock:
                    stop.set()
                    for proc in running:
                        proc.kill()
                return result
            outputs.append(result.output if result is not None else "")
    return ToolResult((promtool, "test", "rules", str(test)), 0, "\n".join(outputs))


def _alertnames(text: str) -> set[str]:
    return set(re.findall(r'alertname=\\?"([A-Za-z0-9]+)\\?"', text))


def _tested_alerts(files: Files) -> set[str]:
    names: set[str] = set()
    for path, text in files.items():
        if path.startswith(C.TESTS_DIR):
            names |= _alertnames(text)
    return names


def _hand_tested_alerts(specs: Path) -> set[str]:
    """Alerts the generator cannot drive (an offset, predict_linear) are pinned by the spec's own
    promtool tests in specs/bzzz/tests/, which `bzzzmon test` runs beside the generated ones."""
    names: set[str] = set()
    for test in sorted((specs / "tests").glob("*.yml")):
        names |= _alertnames(test.read_text(encoding="utf-8"))
    return names


def _alert_keys(files: Files) -> set[tuple[str, str]]:
    return {
        (str(r.rule["alert"]), str((r.rule.get("labels") or {}).get(C.LABEL_TIER, "")))
        for r in rule_refs(files)
        if "alert" in r.rule
    }


@needs_promtool
@pytest.mark.parametrize("spec", [BZZZ_SPECS, SMALL], ids=["shipped", "small"])
def test_generated_tests_pass_and_cover_every_alert(spec: Path, tmp_path: Path) -> None:
    files = _render(spec, tmp_path)
    result = _promtool(tmp_path)
    assert result.returncode == 0, result.output
    emitted = {name for name, _ in _alert_keys(files)}
    assert emitted <= _tested_alerts(files) | _hand_tested_alerts(spec)
    # Every burn-rate tier is expected firing somewhere (checks assert the whole set of tiers).
    tests = "".join(t for p, t in files.items() if p.startswith(C.TESTS_DIR))
    for name, tier in _alert_keys(files):
        if tier:
            pattern = f'alertname="{name}", alertstate="firing",[^}}]*tier="{tier}"'
            noted = f"# Not tested: {name} tier {tier}:" in tests
            assert bool(re.search(pattern, tests)) != noted, (name, tier)


def test_test_files_name_rules_relative_to_themselves() -> None:
    files = rule_tests.render(bzzz_plan())
    for path, text in files.items():
        doc = yaml.safe_load(text)
        for rule_file in doc["rule_files"]:
            assert rule_file.startswith("../rules/")
            assert (Path(path).parent / rule_file).as_posix().replace(
                "prometheus/tests/../", "prometheus/"
            ) in set(rules.render(bzzz_plan())) | {C.ESCALATION_RULES}


def test_no_sample_sits_on_a_window_boundary() -> None:
    """Prometheus 2.x and 3.x only agree when no sample is on a range's left edge."""
    plan = bzzz_plan()
    windows = {w for s in plan.slos for w in s.windows} | {300, 900}
    for path, text in rule_tests.render(plan).items():
        doc = yaml.safe_load(text)
        interval = int(doc["evaluation_interval"].rstrip("s"))
        # The escalation clock counts minutes, so its tests sample each minute; they place no
        # check on a left edge instead (bzzzmon/render/rule_tests/escalation_tests.py).
        if path != rule_tests.test_file_for(C.ESCALATION_RULES):
            assert all(w % interval for w in windows), interval
        for group in doc["tests"]:
            assert group["interval"] == doc["evaluation_interval"]


@needs_promtool
def test_a_good_events_ratio_sli_is_tested_too(tmp_path: Path) -> None:
    specs = copy_spec(SMALL, tmp_path)
    text = (specs / "slos.yaml").read_text()
    text = text.replace(
        "bad: 'bzzz_dht_get_operations_total{$agent, result=\"failure\"}'",
        "good: 'bzzz_dht_get_operations_total{$agent, result=\"success\"}'",
    )
    (specs / "slos.yaml").write_text(text)
    out = tmp_path / "out"
    files = _render(specs, out)
    assert "BZZZDHTGetBudgetBurn" in _tested_alerts(files)
    result = _promtool(out)
    assert result.returncode == 0, result.output


@needs_promtool
@pytest.mark.parametrize(
    ("rule_file", "old", "new"),
    [
        # A burn threshold twice too high: the tier no longer fires when the math says.
        ("slo-dht-operations.rules.yml", "(14.4 * 0.01)", "(28.8 * 0.01)"),
        # A threshold alert that ignores its for:.
        ("alerts-pubsub.rules.yml", "for: 5m", "for: 0s"),
        # A missing-data alert that fires on an idle service.
        (
            "slo-dht-latency.rules.yml",
            'absent(bzzz_dht_operation_latency_seconds_count{job="bzzz-agent"})',
            'absent(bzzz_dht_operation_latency_seconds_count{job="bzzz-agent"}) '
            'or sum(rate(bzzz_dht_operation_latency_seconds_count{job="bzzz-agent"}[5m])) == 0',
        ),
        # An explanation hold that ignores a pending cause: the explained alert would notify
        # while its cause waits out its for:.
        ("escalation.rules.yml", 'alertstate="pending"', 'alertstate="none"'),
        # A hold that reads a pending cause over the whole hold: a cancelled cause would hide
        # its effects for hours.
        (
            "escalation.rules.yml",
            "max without (alertstate, alertname, severity) "
            '(ALERTS{alertstate="pending", '
            'alertname="BZZZNoAdminElected", '
            'alertname!="BZZZExplanationHold"})',
            "max without (alertstate, alertname, severity) "
            '(max_over_time(ALERTS{alertstate="pending", '
            'alertname="BZZZNoAdminElected", alertname!="BZZZExplanationHold"}[1h]))',
        ),
        # A lead without the short window now: a burn stopped after the long window crossed
        # would still hold, and the explained alert would stay quiet while the window drains.
        (
            "escalation.rules.yml",
            ' and bzzzmon_slo:sli_error:ratio_rate5m{slo="slurp-events"} > (14.4 * 0.01) and',
            " and",
        ),
        # A lead predicting over the whole long window instead of the lead (15m of 1h).
        (
            "escalation.rules.yml",
            'bzzzmon_slo:sli_error:ratio_rate1h{slo="slurp-events"}) * 0.25)',
            'bzzzmon_slo:sli_error:ratio_rate1h{slo="slurp-events"}) * 1)',
        ),
        # A lead without the page tier's low-traffic guard.
        (
            "escalation.rules.yml",
            ' and bzzzmon_slo:sli_total_events:rate1h{slo="slurp-events"} * 3600 >= 100)',
            ")",
        ),
    ],
)
def test_generated_tests_catch_a_broken_rule(
    tmp_path: Path, rule_file: str, old: str, new: str
) -> None:
    _render(BZZZ_SPECS, tmp_path)
    path = tmp_path / C.RULES_DIR / rule_file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    result = _first_failing_group(tmp_path / C.TESTS_DIR / rule_file.replace(".rules", ".test"))
    assert result.returncode != 0
    assert "FAILED" in result.output
    # The group that failed passes on the rule unbroken: what it caught is the break.
    path.write_text(text)
    unbroken = run(list(result.command))
    assert unbroken.ok, unbroken.output
