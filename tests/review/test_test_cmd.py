"""`bzzzmon test`: passes on a good build, fails with a readable report on a broken rule, runs
user-written tests whose rule_files are relative to the generated rules, reports each file as it
finishes, and with --changed runs only what a change can affect."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bzzzmon import conventions as C
from bzzzmon.cli import main
from bzzzmon.verify.rule_testing import parse_failures
from tests.conftest import ROOT
from tests.review.conftest import SMALL, build_tree, copy_spec, needs_promtool

PEERS_TEST = """\
rule_files: [alerts-pubsub.rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'bzzz_p2p_connected_peers{job="bzzz-agent", instance="a:8081"}'
        values: '1+0x20'
    promql_expr_test:
      - expr: 'ALERTS{alertname="BZZZFewPeers", alertstate="firing"}'
        eval_time: 10m
        exp_samples:
          - labels: 'ALERTS{alertname="BZZZFewPeers", alertstate="firing", alert_kind="threshold",
              component="pubsub", instance="a:8081", service="bzzz", severity="SEVERITY"}'
            value: 1
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@dataclass(frozen=True)
class SmallRun:
    """The small spec built, with a passing user test beside it, and one `bzzzmon test` of it
    all: the passing run both tests below read (each full run costs a minute of promtool)."""

    specs: Path
    out: Path
    user_test: Path
    code: int
    output: str


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> SmallRun:
    root = tmp_path_factory.mktemp("small-run")
    specs = copy_spec(SMALL, root)
    out = root / "generated"
    build_tree(specs, out)
    (specs / "tests").mkdir()
    user_test = specs / "tests" / "peers.yml"
    user_test.write_text(PEERS_TEST.replace("SEVERITY", "P1"))
    code, output = _run("test", "--out", str(out), "--specs", str(specs))
    return SmallRun(specs, out, user_test, code, output)


def _rules_and_tests(run: SmallRun, target: Path, keep: tuple[str, ...]) -> Path:
    """A copy of the run's output with its rules and only the generated test files ``keep``:
    a second run that checks one file's report needs no other file run again."""
    out = target / "generated"
    shutil.copytree(run.out, out)
    for test in (out / C.TESTS_DIR).glob("*.yml"):
        if test.name not in keep:
            test.unlink()
    return out


@needs_promtool
def test_passes_then_reports_a_broken_rule(small_run: SmallRun, tmp_path: Path) -> None:
    code, output = small_run.code, small_run.output
    assert code == 0, output
    assert "0 failed" in output
    # A line per file with its cases and time, then the totals and the slowest files.
    assert re.search(
        r"^ok    prometheus/tests/alerts-pubsub\.test\.yml  \(\d+ cases, \d+\.\ds\)$", output, re.M
    ), output
    assert re.search(r"^rule tests: \d+ files, \d+ cases, 0 failed in \d+\.\ds", output, re.M)
    assert "slowest:" in output

    out = _rules_and_tests(small_run, tmp_path, ("alerts-pubsub.test.yml",))
    rule_file = out / C.RULES_DIR / "alerts-pubsub.rules.yml"
    rule_file.write_text(rule_file.read_text().replace("severity: P1", "severity: P3", 1))
    code, output = _run("test", "--out", str(out), "--specs", str(copy_spec(SMALL, tmp_path)))
    assert code == 1
    assert "FAIL  prometheus/tests/alerts-pubsub.test.yml" in output
    # Which alert, when, expected and got labels, and what differs.
    assert "BZZZFewPeers at " in output
    assert "expected: firing {" in output and "got:      firing {" in output
    assert "differ in: severity: 'P1' -> 'P3'" in output


@needs_promtool
def test_runs_user_tests_with_rule_files_relative_to_generated_rules(
    small_run: SmallRun, tmp_path: Path
) -> None:
    assert small_run.code == 0, small_run.output
    assert f"ok    {small_run.user_test}" in small_run.output

    # The same user test expecting the wrong severity, against the generated rules alone.
    out = _rules_and_tests(small_run, tmp_path, ())
    specs = copy_spec(small_run.specs, tmp_path, "failing-specs")
    user_test = specs / "tests" / "peers.yml"
    user_test.parent.mkdir()
    user_test.write_text(PEERS_TEST.replace("SEVERITY", "P0"))
    code, output = _run("test", "--out", str(out), "--specs", str(specs))
    assert code == 1
    assert f"FAIL  {user_test}" in output
    assert "differ in: severity: 'P0' -> 'P1'" in output


def test_missing_output_is_a_usage_error(tmp_path: Path) -> None:
    code, _ = _run("test", "--out", str(tmp_path / "nothing"))
    assert code == 2


def test_parses_promtool_alert_rule_failures() -> None:
    output = """\
  FAILED:
    alertname: BZZZX, time: 10m,
        exp:[
            0:
              Labels:{alertname="BZZZX", severity="P1"}
              Annotations:{}
            ],
        got:[]
    expr: "ALERTS{alertname=\\"BZZZY\\", alertstate=\\"firing\\", tier=\\"pf\\"}", time: 1h2m,
        exp: nil
        got: {__name__="ALERTS", alertname="BZZZY", alertstate="firing", tier="pf"} 1E+00
    rule: slo:x:rate5m, time: 1m, err: vector cannot contain metrics with the same labelset
    rule: slo:x:rate5m, time: 2m, err: vector cannot contain metrics with the same labelset
"""
    cases = parse_failures(output)
    by_alert = {c.alert: c for c in cases}
    assert by_alert["BZZZX"].expected == [
        {"alertname": "BZZZX", "severity": "P1", "alertstate": "firing"}
    ]
    assert by_alert["BZZZX"].got == []
    assert by_alert['BZZZY{tier="pf"}'].time == "1h2m"
    assert by_alert['BZZZY{tier="pf"}'].expected == []
    assert by_alert['BZZZY{tier="pf"}'].got[0]["tier"] == "pf"
    assert [c.alert for c in cases].count("rule slo:x:rate5m") == 1


# A stand-in promtool whose timing the test controls (the real one decides its own): a test file
# named *slow* waits until the file $RELEASE exists (and fails if that takes a minute); one named
# *bad* fails like promtool does.
FAKE_PROMTOOL = """\
#!/bin/sh
case "$3" in
  *slow*) n=0; while [ ! -e "$RELEASE" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
          [ -e "$RELEASE" ] || { echo "never released"; exit 1; } ;;
esac
case "$3" in
  *bad*) printf '  FAILED:\\n    alertname: X, time: 1m,\\n        exp:[],\\n        got:[]\\n'
         exit 1 ;;
esac
echo SUCCESS
"""


def _test_file(cases: int) -> str:
    checks = "".join(f"      - alertname: X\n        eval_time: {i}m\n" for i in range(cases))
    return (
        "rule_files: [../rules/x.rules.yml]\nevaluation_interval: 1m\ntests:\n"
        f"  - interval: 1m\n    alert_rule_test:\n{checks}"
    )


def test_reports_each_file_as_it_finishes(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    tests = out / C.TESTS_DIR
    tests.mkdir(parents=True)
    (out / C.RULES_DIR).mkdir(parents=True)
    (tests / "a-slow.test.yml").write_text(_test_file(3))
    (tests / "b-fast.test.yml").write_text(_test_file(2))
    (tests / "c-bad.test.yml").write_text(_test_file(1))
    fake = tmp_path / "promtool"
    fake.write_text(FAKE_PROMTOOL)
    fake.chmod(0o755)
    release = tmp_path / "release"
    env = dict(os.environ, BZZZMON_PROMTOOL=str(fake), RELEASE=str(release))
    command = [sys.executable, "-m", "bzzzmon", "test", "--out", str(out), "--jobs", "3"]
    proc = subprocess.Popen(
        [*command, "--specs", str(tmp_path / "no-specs")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    early: list[str] = []
    try:
        while sum(line.startswith(("ok ", "FAIL ")) for line in early) < 2:
            line = proc.stdout.readline()
            assert line, "bzzzmon test ended before reporting the quick files"
            early.append(line)
    finally:
        # The slow file passes only if released while it runs: so the quick ones were reported
        # before it ended.
        release.touch()
    rest = proc.stdout.read()  # not communicate(): it would skip what readline() buffered
    proc.wait(timeout=120)
    output = "".join(early) + rest
    files = [line.split()[1] for line in output.splitlines() if line.startswith(("ok ", "FAIL "))]
    assert files[-1] == "prometheus/tests/a-slow.test.yml"
    assert "ok    prometheus/tests/a-slow.test.yml" in output, output
    assert sorted(files[:2]) == [
        "prometheus/tests/b-fast.test.yml",
        "prometheus/tests/c-bad.test.yml",
    ]
    assert re.search(
        r"^ok    prometheus/tests/b-fast\.test\.yml  \(2 cases, \d+\.\ds\)$", output, re.M
    )
    assert re.search(
        r"^FAIL  prometheus/tests/c-bad\.test\.yml  \(1 cases, \d+\.\ds\)$", output, re.M
    )
    assert "X at 1m (60s):" in output  # the failure is explained under its file
    assert "rule tests: 3 files, 6 cases, 1 failed in " in rest
    slowest = rest.split("slowest:\n", 1)[1].splitlines()
    assert slowest[0].endswith("prometheus/tests/a-slow.test.yml")
    assert proc.returncode == 1


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@needs_promtool
def test_changed_runs_only_the_tests_of_changed_rule_files(small: Path, tmp_path: Path) -> None:
    repo = small.parent
    out = repo / "generated"
    build_tree(small, out)
    (small / "tests").mkdir()
    peers = small / "tests" / "peers.yml"
    peers.write_text(PEERS_TEST.replace("SEVERITY", "P1"))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "built")

    code, output = _run("test", "--out", str(out), "--specs", str(small), "--changed")
    assert code == 0, output
    assert "--changed HEAD: 0 of " in output
    assert "rule tests: 0 files" in output
    assert "routing tests: skipped" in output

    rule_file = out / C.RULES_DIR / "alerts-pubsub.rules.yml"
    rule_file.write_text(rule_file.read_text().replace("severity: P1", "severity: P3", 1))
    code, output = _run("test", "--out", str(out), "--specs", str(small), "--changed", "HEAD")
    assert code == 1
    assert "--changed HEAD: 2 of " in output
    ran = [line.split()[1] for line in output.splitlines() if line.startswith(("ok ", "FAIL "))]
    assert sorted(ran) == sorted(["prometheus/tests/alerts-pubsub.test.yml", str(peers)])
    assert "routing tests: skipped" in output

    # A new, untracked user test is a change too; so is anything under alertmanager/.
    _git(repo, "checkout", "-q", "--", ".")
    (small / "tests" / "new.yml").write_text(PEERS_TEST.replace("SEVERITY", "P1"))
    config = out / C.ALERTMANAGER_CONFIG
    config.write_text(config.read_text() + "\n")
    code, output = _run("test", "--out", str(out), "--specs", str(small), "--changed")
    assert code == 0, output
    ran = [line.split()[1] for line in output.splitlines() if line.startswith(("ok ", "FAIL "))]
    assert ran == [str(small / "tests" / "new.yml")]
    assert re.search(r"^routing tests: \d+ cases, 0 failed$", output, re.M)


def test_a_broken_user_test_is_a_usage_error_naming_the_file(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    build_tree(small, out)
    (small / "tests").mkdir()
    broken = small / "tests" / "broken.yml"
    broken.write_text("rule_files: [a.yml\ntests: [\n")
    code, output = _run("test", "--out", str(out), "--specs", str(small))
    assert code == 2
    assert re.search(rf"{re.escape(str(broken))}:\d+:\d+: not valid YAML: ", output), output
    assert "Traceback" not in output


def test_changed_outside_git_or_with_a_bad_ref_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    (out / C.TESTS_DIR).mkdir(parents=True)
    code, output = _run("test", "--out", str(out), "--changed")
    assert code == 2
    assert "--changed HEAD: " in output and "Traceback" not in output
    _git(tmp_path, "init", "-q")
    code, output = _run("test", "--out", str(out), "--changed", "no-such-ref")
    assert code == 2
    assert "--changed no-such-ref: " in output
