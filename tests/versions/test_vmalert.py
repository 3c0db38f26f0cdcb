"""VictoriaMetrics' rule engine (sid's vmalert and vmalert-tool 1.145) on the generated rules and
tests. The differences from Prometheus it shows are asserted exactly, so a new one fails here
(docs/compatibility.md explains each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.verify import discovery, vmalert
from bzzzmon.verify.rule_testing import parse_failures
from bzzzmon.verify.tools import ToolResult
from tests.conftest import pinned_tools
from tests.shipped import BZZZ, GENERATED

# vmalert-tool takes 1-2 minutes per SLO test file (it runs a storage and queries it step by
# step), so the SLO files run one per SLI kind: ratio, latency, time; every alerts file runs.
SLO_FILES = ("slo-health-checks", "slo-dht-latency", "slo-p2p-connectivity")
FILES = sorted(
    p
    for p in (GENERATED / BZZZ.tests_dir).glob("*.yml")
    if not p.name.startswith("slo-") or p.name.removesuffix(".test.yml") in SLO_FILES
)
# Where the query result has a label the rule also sets, with another value, Prometheus keeps the
# rule's and drops the result's; vmalert keeps both, the result's renamed exported_<label>.
EXPORTED = {
    "alerts-exporter.test.yml": {"exported_component"},
    "escalation.test.yml": {"exported_alertname"},
}

# Where vmalert-tool fires at another evaluation than promtool: (alert, eval time, the tiers firing
# under promtool, under vmalert-tool), "firing" standing for an alert without tiers. Each table is
# one cause (docs/compatibility.md); a difference in none of them fails.
Timing = list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]
# MetricsQL's increase() and rate() run from the last sample before their window and do not
# extrapolate: with the tests' 97 s samples a [5m] window reaches up to 388 s back where PromQL
# extrapolates 2-3 samples to 300 s, so values 10 % from a threshold, and burn-rate windows just
# after a fault ends, cross it at other evaluations.
WINDOW: dict[str, Timing] = {
    "alerts-postgres.test.yml": [
        ("BZZZPostgresWALArchivingFailing", "27m29s", (), ("firing",)),
        ("BZZZPostgresWALArchivingFailing", "40m25s", (), ("firing",)),
    ],
    "alerts-pubsub.test.yml": [("BZZZPubSubFlowStopped", "25m52s", ("firing",), ())],
    "alerts-slurp.test.yml": [
        ("BZZZSLURPActiveOnNonAdmin", "17m47s", (), ("firing",)),
        ("BZZZSLURPActiveOnNonAdmin", "25m52s", (), ("firing",)),
    ],
    "slo-dht-latency.test.yml": [
        ("BZZZDHTLatencyBudgetBurn", "67h26m31s", ("page-fast",), ()),
        ("BZZZDHTLatencyBudgetBurn", "67h31m22s", (), ("page-fast",)),
    ],
}


# vmalert writes a rule's results (ALERTS included) asynchronously, and vmalert-tool flushes them
# after each group: a rule reads what the rules before it in its group wrote one evaluation ago.
# The SLI ratios are recorded from rates recorded in the same group, so the burn-rate tiers
# resolve one evaluation later; and a ticket-fast that turns pending does not yet suppress
# ticket-slow, whose prorated 3d window its burn has also filled, for that one evaluation
# (21h51m7s). The slower tiers' starts, gradual as their prorated windows fill, agree here. Split
# into one group per rule, which vmalert-tool flushes one by one, these cases agree with promtool
# (a one-off check).
def _one_evaluation_late(alert: str) -> Timing:
    return [
        (alert, "6h8m36s", (), ("page-slow",)),
        (alert, "21h51m7s", ("ticket-fast",), ("ticket-fast", "ticket-slow")),
        (alert, "24h18m14s", (), ("ticket-fast",)),
        (alert, "67h50m46s", (), ("ticket-slow",)),
    ]


SAME_GROUP: dict[str, Timing] = {
    # Its page-fast holds `for: 10m` (specs/slos.yaml): it fires one evaluation late.
    "slo-health-checks.test.yml": [
        ("BZZZHealthCheckBudgetBurn", "12m56s", ("page-fast",), ()),
        *_one_evaluation_late("BZZZHealthCheckBudgetBurn"),
    ],
    "slo-dht-latency.test.yml": [
        ("BZZZDHTLatencyBudgetBurn", "4m51s", ("page-fast",), ()),
        ("BZZZDHTLatencyBudgetBurn", "9m42s", (), ("page-fast",)),
        *_one_evaluation_late("BZZZDHTLatencyBudgetBurn"),
    ],
}
# vmalert evaluates a subquery `[5m:]` at the `step` it sends, -datasource.queryStep (5m unless
# set; vmalert-tool has no such flag), where Prometheus takes the evaluation interval (97 s here):
# a time SLI's subqueries see one point per 5 minutes and miss the tests' one-sample dips.
SUBQUERY_STEP: dict[str, Timing] = {
    "slo-p2p-connectivity.test.yml": [
        ("BZZZP2PConnectivityBudgetBurn", "43m39s", ("page-fast",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "45m16s", ("page-fast",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "6h0m31s", ("page-slow",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "6h29m37s", ("page-slow",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "22h25m4s", ("ticket-fast",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "22h44m28s", ("ticket-fast",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "63h24m1s", ("ticket-slow",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "64h9m17s", ("ticket-slow",), ()),
        ("BZZZP2PConnectivityBudgetBurn", "67h23m17s", ("page-fast",), ()),
    ]
}
CAUSES = (WINDOW, SAME_GROUP, SUBQUERY_STEP)
TIMING = {name: sorted(d for c in CAUSES for d in c.get(name, [])) for c in CAUSES for name in c}
assert not TIMING.keys() & EXPORTED.keys()  # a file pinned once, by one test below


def _tiers(samples: list[dict[str, str]]) -> tuple[str, ...]:
    return tuple(sorted(s.get(C.LABEL_TIER, "firing") for s in samples))


@pytest.fixture(scope="module", autouse=True)
def _victoria_metrics() -> None:
    tools = pinned_tools("sid")
    assert {"vmalert", "vmalert-tool", "victoria-metrics"} <= set(tools)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ToolResult]:
    into = tmp_path_factory.mktemp("vmalert-tests")
    return {
        p.name: r
        for p, r in zip(FILES, vmalert.unittest(GENERATED, into, FILES, BZZZ), strict=True)
    }


def test_vmalert_dry_runs_the_generated_rules() -> None:
    result = vmalert.dry_run(GENERATED)
    assert result is not None and result.ok, result.output
    assert result.command[0] == discovery.locate("vmalert").path  # type: ignore[union-attr]


def test_vmalert_rejects_a_broken_rule(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out)
    path = out / BZZZ.rules_dir / "alerts-dht.rules.yml"
    path.write_text(path.read_text().replace("expr: ", "expr: sum(", 1), encoding="utf-8")
    result = vmalert.dry_run(out)
    assert result is not None and not result.ok
    assert "alerts-dht.rules.yml" in result.output


def test_the_tests_in_vmalert_tool_s_format_expect_the_group_label(tmp_path: Path) -> None:
    doc = vmalert.vmalert_test(
        GENERATED / BZZZ.tests_dir / "alerts-dht.test.yml", GENERATED / BZZZ.rules_dir
    )
    assert doc["rule_files"] == [
        str((GENERATED / BZZZ.rules_dir / "alerts-dht.rules.yml").resolve())
    ]
    (case, *_) = doc["tests"]
    assert "promql_expr_test" not in case
    labels = [s["labels"] for t in case["metricsql_expr_test"] for s in t["exp_samples"]]
    assert labels and all('alertgroup="bzzz-alerts-dht", alertname=' in x for x in labels)
    yaml.safe_dump(doc)


def test_vmalert_tool_raises_the_alerts_promtool_expects(results: dict[str, ToolResult]) -> None:
    assert set(SLO_FILES) <= {n.removesuffix(".test.yml") for n in results}
    known = EXPORTED.keys() | TIMING.keys()
    assert known <= results.keys()
    failing = {name: r.output for name, r in results.items() if not r.ok and name not in known}
    assert failing == {}
    assert all("SUCCESS" in r.output for name, r in results.items() if name not in known)


@pytest.mark.parametrize("name", sorted(TIMING))
def test_vmalert_fires_at_other_times_only_where_documented(
    results: dict[str, ToolResult], name: str
) -> None:
    result = results[name]
    assert not result.ok
    cases = parse_failures(result.output)
    found = sorted((c.alert, c.time, _tiers(c.expected), _tiers(c.got)) for c in cases)
    assert found == TIMING[name]
    rules = name.replace(".test.yml", ".rules.yml")
    groups = vmalert.alert_groups(GENERATED / BZZZ.rules_dir, [rules])
    for case in cases:  # what fires is the alert, with vmalert's group label and no other
        for got in case.got:
            assert got["alertname"] == case.alert
            assert got[vmalert.GROUP_LABEL] == groups[case.alert]
            assert not [k for k in got if k.startswith("exported_")]


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_vmalert_differs_only_by_the_exported_labels(
    results: dict[str, ToolResult], name: str
) -> None:
    result = results[name]
    assert not result.ok
    cases = parse_failures(result.output)
    assert cases
    added: set[str] = set()
    for case in cases:
        (expected,), (got,) = case.expected, case.got
        assert {k: v for k, v in got.items() if k not in EXPORTED[name]} == expected
        added |= got.keys() - expected.keys()
    assert added == EXPORTED[name]
