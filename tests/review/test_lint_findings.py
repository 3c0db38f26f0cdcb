"""Every lint finding reads like the parser's errors: the spec key to set, at file:line:column of
the spec, with a hint. One case per check on a small non-BZZZ spec (an HTTP service), each
asserting the finding's position, key and hint - and that the key is named in the text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from bzzzmon.build import CHECKS, render_all
from bzzzmon.cli import main
from bzzzmon.lint import Finding
from bzzzmon.lint.rules_lint import check_runbook
from bzzzmon.spec.plan import load_plan

SPEC = """\
apiVersion: bzzzmon/v1
service:
  name: shop
  runbook_url: https://runbooks.example/shop.md
  grafana_url: https://grafana.example
metrics:
  {http_requests_total: counter, queue_depth: gauge}
components:
  - name: api
    weight: 1
slos:
  - name: availability
    component: api
    objective: 99.9
    sli:
      ratio:
        bad: 'http_requests_total{job="shop", code=~"5.."}'
        total: 'http_requests_total{job="shop"}'
    alerting:
      name: SHOPAvailabilityBudgetBurn
alerts:
  - name: SHOPQueueBacklog
    component: api
    severity: P2
    expr: 'max(queue_depth{job="shop"})'
    op: '>'
    threshold: 100
    summary: Queue backlog
    description: The queue is long.
"""
# Positions in SPEC: the `service:` key, the SLO item and the alert item.
SERVICE = "specs/shop.yaml:2:1"
SLO = "specs/shop.yaml:12:5"
ALERT = "specs/shop.yaml:22:5"
NO_RUNBOOK = ("  runbook_url: https://runbooks.example/shop.md\n", "")
EXPR = "expr: 'max(queue_depth{job=\"shop\"})'"


def _write(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = SPEC
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "shop.yaml").write_text(text)
    return specs


def _findings(specs: Path) -> list[Finding]:
    plan = load_plan(specs)
    files = render_all(plan)
    return [f for check in CHECKS for f in check(plan, files)]


@dataclass(frozen=True)
class Case:
    rule: str
    edits: tuple[tuple[str, str], ...]
    where: str
    key: str
    hint: str  # a part of the hint


CASES = {
    "prefix": Case(
        "alert-name",
        (("name: SHOPQueueBacklog", "name: ShopQueueBacklog"),),
        ALERT,
        "service.alert_prefix",
        "rename it SHOPQueueBacklog (alerts[].name), or set service.alert_prefix",
    ),
    "camel-case": Case(
        "alert-name",
        (("name: SHOPQueueBacklog", "name: SHOPqueueBacklog"),),
        ALERT,
        "alerts[].name",
        "e.g. SHOPQueueBacklog",
    ),
    "runbook_url": Case(
        "annotations", (NO_RUNBOOK,), SERVICE, "service.runbook_url", "runbook: '#anchor'"
    ),
    "undeclared-metric": Case(
        "unknown-metric",
        ((EXPR, "expr: 'max(shop_queue_depth)'"),),
        ALERT,
        "metrics",
        "metrics: {shop_queue_depth: counter}",
    ),
    "rate-of-gauge": Case(
        "rate-on-non-counter",
        ((EXPR, "expr: 'sum(rate(queue_depth[5m]))'"),),
        ALERT,
        "metrics",
        "metrics: {queue_depth: counter}",
    ),
    "raw-counter": Case(
        "counter-without-rate",
        ((EXPR, "expr: 'max(http_requests_total)'"),),
        ALERT,
        "alerts[].expr",
        "rate(http_requests_total[5m])",
    ),
    "burn-factor": Case(
        "burn-factor",
        (
            (
                "      name: SHOPAvailabilityBudgetBurn\n",
                "      name: SHOPAvailabilityBudgetBurn\n      tiers:\n"
                "        - {name: slow, long: 1d, short: 2h, budget_percent: 1, severity: P3}\n",
            ),
        ),
        SLO,
        "slos[].alerting.tiers[].budget_percent",
        "raise it, or lengthen long",
    ),
    "unrouted-severity": Case(
        "unrouted-severity", (), SERVICE, "severities.P2.receivers", "receivers:"
    ),
    "relative-links": Case(
        "relative-links",
        (("  grafana_url: https://grafana.example\n", ""),),
        SERVICE,
        "service.grafana_url",
        "Grafana's base URL",
    ),
    "no-catch-all": Case(
        "no-catch-all",
        (("metrics:\n", "routing:\n  group_by: [alertname]\nmetrics:\n"),),
        "specs/shop.yaml:6:1",
        "routing.catch_all",
        "catch_all: [",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_finding_names_its_key_at_its_position_with_a_hint(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    found = [f for f in _findings(_write(tmp_path, *case.edits)) if f.rule == case.rule]
    matching = [f for f in found if f.key == case.key]
    assert matching, found
    finding = matching[0]
    assert finding.where == case.where
    assert case.hint in finding.hint
    assert case.key in finding.message or case.key in finding.hint
    text = finding.format()
    assert text.startswith(f"{case.where}: {finding.level}: ")
    assert f"\n    hint: {finding.hint}" in text


def test_a_good_spec_has_no_rule_finding(tmp_path: Path) -> None:
    # Only the routing's warnings remain: the spec declares no receivers at all.
    found = _findings(_write(tmp_path))
    assert {f.rule for f in found} == {"unrouted-severity", "no-catch-all"}


def test_one_finding_for_an_unset_runbook_url_not_one_per_alert(tmp_path: Path) -> None:
    found = [f for f in _findings(_write(tmp_path, NO_RUNBOOK)) if f.rule == "annotations"]
    assert len(found) == 1
    assert "4 alert(s)" in found[0].message


def test_a_runbook_anchor_names_the_runbook_key(tmp_path: Path) -> None:
    specs = _write(
        tmp_path,
        ("    summary: Queue backlog\n", "    runbook: '#queus'\n    summary: Queue backlog\n"),
    )
    plan = load_plan(specs)
    (finding,) = check_runbook(plan, render_all(plan), "# Runbook\n## Queues\n", markdown=True)
    assert (finding.where, finding.key) == (ALERT, "alerts[].runbook")
    assert finding.hint == "did you mean '#queues'?"


def test_the_cli_prints_findings_like_parser_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["lint", "--specs", str(_write(tmp_path, NO_RUNBOOK))])
    assert result.exit_code == 1
    assert (
        f"{SERVICE}: error: service: service.runbook_url is not set: 4 alert(s) have no "
        "runbook_url annotation"
    ) in result.output
    assert "\n    hint: set service.runbook_url to the runbook's URL" in result.output
