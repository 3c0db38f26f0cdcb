"""Generated promtool tests: they pass on the real promtool, cover every alert, and fail when a
rule is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.lint.rules_lint import rule_refs
from bzzzmon.render import escalation, rule_tests, rules
from bzzzmon.render.output import Files
from bzzzmon.spec.plan import load_plan
from bzzzmon.verify.tools import ToolResult, parallel_map, run
from tests.review.conftest import SHIPPED, SMALL, copy_spec, needs_promtool


def _render(specs: Path, out: Path) -> Files:
    """Rules and their tests only (no dashboards): what promtool needs."""
    plan = load_plan(specs)
    files: Files = {}
    for renderer in (rules.render, escalation.render, rule_tests.render):
        files.update(renderer(plan))
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return files


def _promtool(out: Path, pattern: str = "*.yml") -> ToolResult:
    """`promtool test rules` on every matching file, one process per file and as many at once as
    there are cores (the files are independent); failed when any file fails, with every output."""
    tests = sorted(str(p) for p in (out / C.TESTS_DIR).glob(pattern))
    assert tests
    results = parallel_map(lambda test: run(["promtool", "test", "rules", test]), tests)
    return ToolResult(
        ("promtool", "test", "rules", *tests),
        next((r.returncode for r in results if r.returncode), 0),
        "\n".join(r.output for r in results),
    )


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
    promtool tests in specs/tests/, which `bzzzmon test` runs beside the generated ones."""
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
@pytest.mark.parametrize("spec", [SHIPPED, SMALL], ids=["shipped", "small"])
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
    files = rule_tests.render(load_plan(SHIPPED))
    for path, text in files.items():
        doc = yaml.safe_load(text)
        for rule_file in doc["rule_files"]:
            assert rule_file.startswith("../rules/")
            assert (Path(path).parent / rule_file).as_posix().replace(
                "prometheus/tests/../", "prometheus/"
            ) in set(rules.render(load_plan(SHIPPED))) | {C.ESCALATION_RULES}


def test_no_sample_sits_on_a_window_boundary() -> None:
    """Prometheus 2.x and 3.x only agree when no sample is on a range's left edge."""
    plan = load_plan(SHIPPED)
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
    _render(SHIPPED, tmp_path)
    path = tmp_path / C.RULES_DIR / rule_file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    result = _promtool(tmp_path, rule_file.replace(".rules.yml", ".test.yml"))
    assert result.returncode != 0
    assert "FAILED" in result.output
