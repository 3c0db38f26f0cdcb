"""`bzzzmon lint` / rules_lint: one case per rule, each failing on a bad input and quiet on a
good one, plus the runbook anchors through the real CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bzzzmon.build import render_all
from bzzzmon.cli import main
from bzzzmon.lint import Finding
from bzzzmon.lint.rules_lint import check, check_runbook, expand_regex
from bzzzmon.lint.runbook import anchors, slug
from bzzzmon.model import Plan
from bzzzmon.spec.plan import load_plan
from tests.review.conftest import SMALL

RUNBOOK_TXT = Path("/work/shared/reference/OPERATIONAL_RUNBOOK.txt")

GOOD_ALERT: dict[str, Any] = {
    "alert": "BZZZGoodAlert",
    "expr": 'min(bzzz_p2p_connected_peers{job="bzzz-agent"}) < 2',
    "for": "5m",
    "labels": {"severity": "P1"},
    "annotations": {"summary": "s", "description": "d", "runbook_url": "https://x/r.md#pubsub"},
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(SMALL)


def _files(*rules: dict[str, Any], group_size: int = 0) -> dict[str, str]:
    groups = [{"name": "test", "rules": list(rules)}]
    if group_size:
        groups.append(
            {
                "name": "big",
                "rules": [
                    {"record": f"job:bzzz_test_{i}:sum", "expr": "vector(1)"}
                    for i in range(group_size)
                ],
            }
        )
    return {"prometheus/rules/test.rules.yml": yaml.safe_dump({"groups": groups})}


def _alert(**changes: Any) -> dict[str, Any]:
    rule = {k: (dict(v) if isinstance(v, dict) else v) for k, v in GOOD_ALERT.items()}
    for key, value in changes.items():
        if key in ("labels", "annotations"):
            rule[key] = value
        else:
            rule[key] = value
    return rule


def _rules(findings: list[Finding], level: str | None = None) -> set[str]:
    return {f.rule for f in findings if level is None or f.level == level}


def test_the_good_alert_is_clean(plan: Plan) -> None:
    assert not [f for f in check(plan, _files(GOOD_ALERT)) if f.where.endswith("BZZZGoodAlert")]


@pytest.mark.parametrize("name", ["bzzzBadName", "BZZZ_bad_name", "NodeDown", "BZZZlower"])
def test_alert_name(plan: Plan, name: str) -> None:
    findings = check(plan, _files(_alert(alert=name)))
    assert "alert-name" in _rules(findings, "error")


def test_severity(plan: Plan) -> None:
    findings = check(plan, _files(_alert(labels={"severity": "P5"})))
    assert "severity" in _rules(findings, "error")
    findings = check(plan, _files(_alert(labels={})))
    assert "severity" in _rules(findings, "error")


@pytest.mark.parametrize("missing", ["summary", "description", "runbook_url"])
def test_annotations(plan: Plan, missing: str) -> None:
    annotations = dict(GOOD_ALERT["annotations"])
    del annotations[missing]
    findings = check(plan, _files(_alert(annotations=annotations)))
    assert any(f.rule == "annotations" and missing in f.message for f in findings)


def test_unknown_metric_and_histogram_base(plan: Plan) -> None:
    findings = check(plan, _files(_alert(expr="bzzz_made_up_metric > 1")))
    assert "unknown-metric" in _rules(findings, "error")
    findings = check(plan, _files(_alert(expr="bzzz_dht_operation_latency_seconds > 1")))
    assert any(
        "histogram" in f.message and "bzzz_dht_operation_latency_seconds_count" in f.hint
        for f in findings
    )


def test_recorded_metrics_are_known(plan: Plan) -> None:
    files = _files(
        {"record": "job:bzzz_peers:min", "expr": "min(bzzz_p2p_connected_peers)"},
        _alert(expr="job:bzzz_peers:min < 2"),
    )
    assert "unknown-metric" not in _rules(check(plan, files))


def test_regex_names_are_expanded(plan: Plan) -> None:
    assert sorted(expand_regex("bzzz_dht_(put|get)_operations_total") or []) == [
        "bzzz_dht_get_operations_total",
        "bzzz_dht_put_operations_total",
    ]
    assert expand_regex("bzzz_.*") is None
    bad = 'sum(rate({__name__=~"bzzz_dht_(put|del)_operations_total"}[5m])) > 1'
    findings = check(plan, _files(_alert(expr=bad)))
    assert any(
        f.rule == "unknown-metric" and "bzzz_dht_del_operations_total" in f.message
        for f in findings
    )
    assert "name-regex-rate" in _rules(findings, "warning")


def test_rate_only_on_counters(plan: Plan) -> None:
    findings = check(plan, _files(_alert(expr="rate(bzzz_p2p_connected_peers[5m]) > 1")))
    assert "rate-on-non-counter" in _rules(findings, "error")
    findings = check(plan, _files(_alert(expr="rate(bzzz_errors_total[5m]) > 1")))
    assert "rate-on-non-counter" not in _rules(findings)


def test_counters_only_under_rate(plan: Plan) -> None:
    findings = check(plan, _files(_alert(expr="bzzz_errors_total > 100")))
    assert "counter-without-rate" in _rules(findings, "warning")
    findings = check(plan, _files(_alert(expr="absent(bzzz_errors_total)")))
    assert "counter-without-rate" not in _rules(findings)


def test_record_names(plan: Plan) -> None:
    findings = check(plan, _files({"record": "peers_min", "expr": "vector(1)"}))
    assert "record-name" in _rules(findings, "warning")
    findings = check(plan, _files({"record": "job:peers:min", "expr": "vector(1)"}))
    assert "record-name" not in _rules(findings)


def test_group_size(plan: Plan) -> None:
    assert "group-size" in _rules(check(plan, _files(group_size=51)), "warning")
    assert "group-size" not in _rules(check(plan, _files(group_size=50)))


def _spec_variant(tmp_path: Path, old: str, new: str) -> Plan:
    specs = tmp_path / "specs"
    specs.mkdir()
    for path in SMALL.glob("*.yaml"):
        text = path.read_text()
        (specs / path.name).write_text(text.replace(old, new))
    return load_plan(specs)


def test_integer_latency_threshold_selects_every_le_spelling(tmp_path: Path) -> None:
    plan = _spec_variant(tmp_path, "threshold: 0.25", "threshold: 1")
    slo = next(s for s in plan.slos if s.sli.kind == "latency")
    # 2.x stores the bound as the target writes it, 3.x as le="1.0": the SLI matches both.
    assert 'le=~"1|1\\\\.0"' in slo.sli.bad, slo.sli.bad
    assert "integer-le" not in _rules(check(plan, render_all(plan)))


def test_burn_factor_below_one(tmp_path: Path) -> None:
    tiers = (
        'runbook: "#dht"\n      tiers:\n'
        "        - {name: slow, long: 1d, short: 2h, budget_percent: 5, severity: P3}\n"
    )
    plan = _spec_variant(
        tmp_path, 'runbook: "#dht"\n\n  - name: dht-latency', tiers + "\n  - name: dht-latency"
    )
    findings = check(plan, render_all(plan))
    burn = [f for f in findings if f.rule == "burn-factor"]
    assert burn and burn[0].level == "warning"
    assert burn[0].where.startswith("specs/slos.yaml:")


def test_findings_name_the_spec_line(plan: Plan) -> None:
    files = render_all(plan)
    broken = files["prometheus/rules/alerts-pubsub.rules.yml"].replace(
        "severity: P1", "severity: P9"
    )
    findings = check(plan, files | {"prometheus/rules/alerts-pubsub.rules.yml": broken})
    where = next(f.where for f in findings if f.rule == "severity")
    assert re.fullmatch(r"specs/alerts\.yaml:\d+:\d+", where), where
    assert next(f.subject for f in findings if f.rule == "severity") == "alert BZZZFewPeers"


def test_slugs_and_anchors() -> None:
    assert (
        slug("System Health Critical (Alert: BZZZSystemHealthCritical)")
        == "system-health-critical-alert-bzzzsystemhealthcritical"
    )
    md = "# Runbook\n\n## DHT\n\n```\n# not a heading\n```\n### PubSub & peers\n"
    assert anchors(md, markdown=True) == {"runbook", "dht", "pubsub--peers"}


def test_runbook_anchors(plan: Plan) -> None:
    files = render_all(plan)
    good = "# Runbook\n## DHT\n## PubSub\n"
    assert check_runbook(plan, files, good, markdown=True) == []
    findings = check_runbook(plan, files, "# Runbook\n## DHT\n", markdown=True)
    assert findings and {f.rule for f in findings} == {"runbook-anchor"}
    assert all("#pubsub" in f.message for f in findings)


@pytest.mark.skipif(not RUNBOOK_TXT.exists(), reason="the reference runbook is not here")
def test_cli_with_the_plain_text_runbook(tmp_path: Path) -> None:
    from tests.shipped import copy_bzzz_alone

    # The BZZZ service's runbook (the monitoring service's is docs/monitoring.md).
    bzzz = str(copy_bzzz_alone(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(main, ["lint", "--specs", bzzz, "--runbook", str(RUNBOOK_TXT)])
    assert ok.exit_code == 0, ok.output
    assert "0 error(s)" in ok.output
    bad = runner.invoke(main, ["lint", "--specs", str(SMALL), "--runbook", str(RUNBOOK_TXT)])
    assert bad.exit_code == 1
    assert "runbook-anchor" in bad.output
    missing = runner.invoke(main, ["lint", "--runbook", str(tmp_path / "none.md")])
    assert missing.exit_code == 2


def _untestable_put_errors(tmp_path: Path) -> Plan:
    """The small spec with BZZZPutErrors as a quantile, which the generator cannot drive."""
    quantile = (
        "histogram_quantile(0.99, sum by (le) "
        "(rate(bzzz_dht_operation_latency_seconds_bucket{$agent}[5m])))"
    )
    return _spec_variant(
        tmp_path,
        "expr: 'sum(rate(bzzz_dht_put_operations_total{$agent, result=\"failure\"}[5m]))'",
        f"expr: '{quantile}'",
    )


def test_alerts_without_generated_cases_are_reported(tmp_path: Path) -> None:
    plan = _untestable_put_errors(tmp_path)
    files = render_all(plan)
    findings = check(plan, files)
    untested = [f for f in findings if f.rule == "untested" and f.subject == "alert BZZZPutErrors"]
    assert len(untested) == 1
    # Named once, by the subject: the message is the reason alone.
    assert untested[0].format().count("BZZZPutErrors") == 1
    # Its component has no other alert, so no test file is written for it.
    assert "prometheus/tests/alerts-dht.test.yml" not in files


@pytest.mark.parametrize(
    ("case", "warned"),
    [
        # A case that expects it to fire covers it, by alert_rule_test or by an ALERTS query.
        ("alert_rule_test: [{alertname: BZZZPutErrors, eval_time: 5m, exp_alerts: [{}]}]", False),
        (
            "promql_expr_test: [{expr: 'ALERTS{alertname=\"BZZZPutErrors\"}', eval_time: 5m,"
            " exp_samples: [{labels: 'ALERTS', value: 1}]}]",
            False,
        ),
        # Asserting only that it stays quiet, or another alert firing, is no test of it.
        ("alert_rule_test: [{alertname: BZZZPutErrors, eval_time: 5m, exp_alerts: []}]", True),
        ("alert_rule_test: [{alertname: BZZZPutErrorz, eval_time: 5m, exp_alerts: [{}]}]", True),
        ("alert_rule_test: [{alertname: BZZZPutErrors, exp_alerts: [{}]", True),  # not YAML
    ],
)
def test_a_hand_written_test_that_fires_the_alert_silences_untested(
    tmp_path: Path, case: str, warned: bool
) -> None:
    plan = _untestable_put_errors(tmp_path)
    (tmp_path / "specs" / "tests").mkdir()
    (tmp_path / "specs" / "tests" / "dht.test.yml").write_text(
        f"rule_files: [alerts-dht.rules.yml]\ntests:\n  - interval: 1m\n    {case}\n"
    )
    plan = load_plan(tmp_path / "specs")  # again, now with its tests/
    findings = check(plan, render_all(plan))
    untested = [f for f in findings if f.rule == "untested" and f.subject == "alert BZZZPutErrors"]
    assert len(untested) == (1 if warned else 0)


def test_an_untested_alert_points_at_the_tests_beside_its_spec_file() -> None:
    """A service of several has its hand-written tests in specs/<service>/tests/, not specs/tests/
    (which `bzzzmon test` does not read there)."""
    from tests.shipped import bzzz_plan

    plan = bzzz_plan()
    untested = [f for f in check(plan, render_all(plan)) if f.rule == "untested"]
    assert [f.subject for f in untested] == ["slo admin-elected"] * 3
    assert {(f.key, f.hint) for f in untested} == {
        (
            "specs/bzzz/tests/",
            "write a rule test for it by hand in specs/bzzz/tests/*.test.yml (bzzzmon test runs "
            "them)",
        )
    }
