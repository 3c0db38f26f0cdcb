"""`bzzzmon test`: passes on a good build, fails with a readable report on a broken rule, runs
user-written tests whose rule_files are relative to the generated rules."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bzzzmon import conventions as C
from bzzzmon.cli import main
from bzzzmon.testing import parse_failures
from tests.review.conftest import build_tree, needs_promtool

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


@needs_promtool
def test_passes_then_reports_a_broken_rule(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    build_tree(small, out)
    code, output = _run("test", "--out", str(out), "--specs", str(small))
    assert code == 0, output
    assert "0 failed" in output

    rule_file = out / C.RULES_DIR / "alerts-pubsub.rules.yml"
    rule_file.write_text(rule_file.read_text().replace("severity: P1", "severity: P3", 1))
    code, output = _run("test", "--out", str(out), "--specs", str(small))
    assert code == 1
    assert "FAIL  prometheus/tests/alerts-pubsub.test.yml" in output
    # Which alert, when, expected and got labels, and what differs.
    assert "BZZZFewPeers at " in output
    assert "expected: firing {" in output and "got:      firing {" in output
    assert "differ in: severity: 'P1' -> 'P3'" in output


@needs_promtool
def test_runs_user_tests_with_rule_files_relative_to_generated_rules(
    small: Path, tmp_path: Path
) -> None:
    out = tmp_path / "generated"
    build_tree(small, out)
    (small / "tests").mkdir()
    user_test = small / "tests" / "peers.yml"
    user_test.write_text(PEERS_TEST.replace("SEVERITY", "P1"))
    code, output = _run("test", "--out", str(out), "--specs", str(small))
    assert code == 0, output
    assert f"ok    {user_test}" in output

    user_test.write_text(PEERS_TEST.replace("SEVERITY", "P0"))
    code, output = _run("test", "--out", str(out), "--specs", str(small))
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
