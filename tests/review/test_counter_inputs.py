"""Generated tests on counters: what promtool is given is a counter that can exist, and the
SLI it feeds is the ratio the test predicts.

``increase(x[5m]) > 0`` is quiet on a flat counter, never on a falling one (promtool reads a
fall as a reset, i.e. growth, and the "quiet" stretch fired). A quotient of two counters' rates
is not derived at all: holding the divisor's counter constant makes its rate 0 and the quotient
+Inf, so the "quiet" side fired; such an alert is reported untested instead. A ratio SLI whose
bad events are a counter of their own (``failures_total`` beside ``evaluations_total``) counts
them in the total's counter too: fed as the rest of the total, the error ratio was a little
higher than predicted and a tier fired a sample early."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import run_cli


def _service(name: str, prefix: str) -> str:
    return f"""\
apiVersion: bzzzmon/v1
service:
  name: {name}
  alert_prefix: {prefix}
  selectors:
    app: {{job: {name}}}
  runbook_url: https://runbooks.example/{name}.md
  grafana_url: https://grafana.example
"""


SPEC = (
    _service("shop", "Shop")
    + """\
metrics:
  shop_dropped_total: counter
  shop_errors_total: counter
  shop_requests_total: counter
alerts:
  - name: ShopDropping
    severity: P2
    expr: 'sum by (instance) (increase(shop_dropped_total{$app}[5m]))'
    op: ">"
    threshold: 0
    for: 5m
    summary: drops
    description: drops
  - name: ShopErrorRatioHigh
    severity: P2
    expr: >-
      sum by (instance) (rate(shop_errors_total{$app}[5m]))
      / sum by (instance) (rate(shop_requests_total{$app}[5m]))
    op: ">"
    threshold: 0.01
    for: 5m
    summary: errors
    description: errors
"""
)


def _build(tmp_path: Path, spec: str = SPEC) -> tuple[Path, str]:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "service.yaml").write_text(spec, encoding="utf-8")
    out = tmp_path / "generated"
    result = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    return out, result.stdout + result.stderr


def test_a_counter_alert_at_zero_is_quiet_on_a_flat_counter(tmp_path: Path) -> None:
    out, output = _build(tmp_path)
    assert "ShopDropping" not in output  # derived: not reported untested
    test = out / "prometheus/tests/alerts-shop.test.yml"
    doc = yaml.safe_load(test.read_text(encoding="utf-8"))
    values = [s["values"] for t in doc["tests"] for s in t["input_series"]]
    assert values and all("-" not in v for v in values), values
    assert any(re.search(r"\+0x\d+", v) for v in values)  # the flat, quiet stretch
    result = run_cli("test", "--out", str(out), "--specs", str(tmp_path / "specs"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_quotient_of_counter_rates_is_untested_not_wrongly_tested(tmp_path: Path) -> None:
    out, output = _build(tmp_path)
    assert re.search(
        r"service\.yaml:\d+:5: warning: alert ShopErrorRatioHigh: a divisor reads a counter "
        r"\[untested\]",
        output,
    ), output
    doc = yaml.safe_load((out / "prometheus/tests/alerts-shop.test.yml").read_text("utf-8"))
    tested = {a["alertname"] for t in doc["tests"] for a in t.get("alert_rule_test") or []}
    exprs = " ".join(e["expr"] for t in doc["tests"] for e in t.get("promql_expr_test") or [])
    assert "ShopDropping" in tested or "ShopDropping" in exprs
    assert "ShopErrorRatioHigh" not in tested and "ShopErrorRatioHigh" not in exprs
    series = [s["series"] for t in doc["tests"] for s in t["input_series"]]
    assert not [s for s in series if "shop_requests_total" in s]


SLO_SPEC = (
    _service("rules", "Rules")
    + """\
metrics:
  rules_evaluation_failures_total: counter
  rules_evaluations_total: counter
slos:
  - name: evaluation
    objective: 99.9
    period: 30d
    sli:
      ratio:
        bad: 'rules_evaluation_failures_total{$app}'
        total: 'rules_evaluations_total{$app}'
"""
)


def test_a_bad_counter_of_its_own_is_counted_in_the_total(tmp_path: Path) -> None:
    out, _ = _build(tmp_path, SLO_SPEC)
    doc = yaml.safe_load((out / "prometheus/tests/slo-evaluation.test.yml").read_text("utf-8"))
    totals = [
        s["values"]
        for t in doc["tests"]
        for s in t["input_series"]
        if s["series"].startswith("rules_evaluations_total")
    ]
    assert totals
    # Every stretch of the total grows by all the events of a sample, bad ones included (or
    # by none: the stretches without traffic), never by the good ones only.
    steps = {step for values in totals for step in re.findall(r"\+(\d+)x\d+", values)}
    assert steps == {"0", "100000"}, totals
    result = run_cli("test", "--out", str(out), "--specs", str(tmp_path / "specs"))
    assert result.returncode == 0, result.stdout + result.stderr
