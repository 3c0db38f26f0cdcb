"""The session cache of passed rule-test runs (bzzzmon/verify/result_cache.py): identical bytes
on the same pinned promtool run once; a failure, a changed rule file or a binary outside the
pinned tools always runs promtool."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bzzzmon import conventions as C
from bzzzmon.verify import result_cache, rule_testing
from bzzzmon.verify.rule_testing import run_rule_tests
from bzzzmon.verify.tools import ToolResult
from tests.conftest import pinned_tools

RULES = """\
groups:
  - name: g
    rules:
      - alert: {name}
        expr: x > 1
        labels: {{severity: P1}}
"""
TEST = """\
rule_files: [../rules/{name}.rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - {{series: 'x{{a="b"}}', values: '2x5'}}
    alert_rule_test:
      - eval_time: 2m
        alertname: {name}
        exp_alerts:
          - exp_labels: {{a: b, severity: {severity}}}
"""


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two small rule files and their tests, run by sid's promtool, the cache in tmp_path."""
    monkeypatch.setenv(result_cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("BZZZMON_PROMTOOL", pinned_tools("sid")["promtool"].path)
    out = tmp_path / "generated"
    for name in ("One", "Two"):
        for folder, text in ((C.RULES_DIR, RULES), (C.TESTS_DIR, TEST)):
            path = out / folder / f"{name}{'.rules.yml' if folder == C.RULES_DIR else '.test.yml'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.format(name=name, severity="P1"), encoding="utf-8")
    return out


def _no_promtool(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record promtool runs instead of making them: a remembered pass makes none."""
    calls: list[list[str]] = []

    def refuse(args: list[str], cwd: Path | None = None, timeout: float = 600) -> ToolResult:
        calls.append(args)
        return ToolResult(tuple(args), 1, "promtool was run")

    monkeypatch.setattr(rule_testing, "run", refuse)
    return calls


def test_a_pass_is_remembered_by_content(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run_rule_tests(tree, None)
    assert first and all(r.ok for r in first)
    calls = _no_promtool(monkeypatch)
    second = run_rule_tests(tree, None)
    assert calls == []
    assert [(r.label, r.ok, r.result.command) for r in second] == [
        (r.label, r.ok, r.result.command) for r in first
    ]
    assert [r.result.output for r in second] == [r.result.output for r in first]


def test_a_changed_rule_file_runs_again(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(r.ok for r in run_rule_tests(tree, None))
    rules = tree / C.RULES_DIR / "One.rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    calls = _no_promtool(monkeypatch)
    results = run_rule_tests(tree, None)
    assert len(calls) == 1 and calls[0][-1].endswith("One.test.yml")
    assert [r.label for r in results if not r.ok] == [f"{C.TESTS_DIR}/One.test.yml"]


def test_a_failure_is_never_remembered(tree: Path) -> None:
    test = tree / C.TESTS_DIR / "One.test.yml"
    test.write_text(TEST.format(name="One", severity="P3"), encoding="utf-8")
    for _ in range(2):
        failed = [r for r in run_rule_tests(tree, None) if not r.ok]
        assert [r.label for r in failed] == [f"{C.TESTS_DIR}/{test.name}"]
        assert failed[0].cases  # promtool's own report, parsed
    cache = Path(os.environ[result_cache.CACHE_ENV])
    assert len(list(cache.iterdir())) == 1  # Two's pass


def test_a_binary_outside_the_pinned_tools_is_not_cached(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "promtool"
    shutil.copy2(pinned_tools("sid")["promtool"].path, copy)
    monkeypatch.setenv("BZZZMON_PROMTOOL", str(copy))
    assert all(r.ok for r in run_rule_tests(tree, None))
    assert not (tmp_path / "cache").exists()
