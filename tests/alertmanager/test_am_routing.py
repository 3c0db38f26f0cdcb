"""Routing tests through the real amtool, and receivers_for agreeing with it."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import yaml
from am_testkit import Rendered, load_yaml

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.alertmanager import receivers_for
from bzzzmon.verify import amtool


def test_generated_routing_tests_pass_in_amtool(any_spec: Rendered) -> None:
    _, out = any_spec
    outcomes = amtool.run_route_tests(out)
    assert outcomes, "no routing tests were generated"
    failed = [o for o in outcomes if not o.ok]
    assert not failed, amtool.report(failed, [])
    result = amtool.test_routes(out)
    assert result is not None and result.ok, result.output if result else ""


@pytest.mark.parametrize("name", ["shipped", "teams", "minimal"])
def test_receivers_for_agrees_with_amtool_on_every_routing_test(
    name: str, request: pytest.FixtureRequest
) -> None:
    plan, out = request.getfixturevalue(name)
    for outcome in amtool.run_route_tests(out):
        assert receivers_for(plan, outcome.labels) == outcome.got, outcome.name


def test_each_services_receivers_for_agrees_with_amtool_on_the_composed_config(
    multi_services: tuple[tuple[Plan, ...], Path],
) -> None:
    """Several services in one Alertmanager: what each service's catalog says (its own plan's
    tree) is what the composed config does for that service's alerts."""
    plans, out = multi_services
    by_service = {p.service.name: p for p in plans}
    outcomes = amtool.run_route_tests(out)
    assert {o.labels.get("service") for o in outcomes} >= {"shop", "worker"}
    for outcome in outcomes:
        plan = by_service.get(outcome.labels.get("service", ""))
        if plan is not None:
            assert receivers_for(plan, outcome.labels) == outcome.got, outcome.name


def test_receivers_for_agrees_with_amtool_beyond_the_generated_cases(teams: Rendered) -> None:
    plan, out = teams
    config = out / C.ALERTMANAGER_CONFIG
    components = ["database", "cart", "checkout", "other"]
    for severity, component, escalated in itertools.product(
        ["P0", "P1", "P2", "P3", "P9"], components, [False, True]
    ):
        labels = {"alertname": "Probe", "service": "shop", "component": component}
        labels["severity"] = severity
        if escalated:
            labels["escalation"] = "true"
        expected = receivers_for(plan, labels)
        result = amtool.amtool_route(config, labels, expected)
        assert result.ok, f"{labels}: receivers_for says {expected}, amtool: {result.output}"


def test_shipped_routing_expectations(shipped: Rendered) -> None:
    plan, _ = shipped
    base = {"service": "bzzz", "component": "dht"}
    assert receivers_for(plan, base | {"severity": "P0"}) == ["pager", "slack-bzzz-alerts"]
    assert receivers_for(plan, base | {"severity": "P1"}) == ["slack-bzzz-alerts", "ticket"]
    assert receivers_for(plan, base | {"severity": "P2"}) == ["ticket"]
    assert receivers_for(plan, base | {"severity": "P3"}) == ["digest"]
    watchdog = base | {"alertname": C.WATCHDOG_ALERT, "severity": "P3"}
    assert receivers_for(plan, watchdog) == ["heartbeat"]
    escalation = base | {"severity": "P0", "escalation": "true"}
    assert receivers_for(plan, escalation) == ["tech-lead", "infra-team", "management"]
    # No or an unknown severity: the catch-all, never the silent root.
    assert receivers_for(plan, base) == ["slack-bzzz-alerts"]
    assert receivers_for(plan, base | {"severity": "critical"}) == ["slack-bzzz-alerts"]
    hold = base | {"alertname": "BZZZExplanationHold", "severity": "P0"}
    assert receivers_for(plan, hold) == [C.NULL_RECEIVER]


def test_routing_test_file_covers_every_special_case(shipped: Rendered, teams: Rendered) -> None:
    for _, out in (shipped, teams):
        cases = load_yaml(out / C.ALERTMANAGER_ROUTING_TESTS)
        assert isinstance(cases, list)
        names = [c["name"] for c in cases]
        assert sum(n.startswith("severity P") for n in names) == 4
        assert any("watchdog" in n for n in names)
        assert any(n.startswith("escalation of P0") for n in names)
        assert any("muted" in n or "mutes" in n for n in names)
    team_cases = load_yaml(teams[1] / C.ALERTMANAGER_ROUTING_TESTS)
    assert isinstance(team_cases, list)
    by_name = {c["name"]: c for c in team_cases}
    assert by_name["team database is told about database (P0)"]["receivers"] == [
        "oncall-pager",
        "chat",
        "db-team",
    ]
    assert by_name["maintenance window nightly-backup mutes P3"]["muted_by"] == [
        "nightly-backup",
        "weekend-deploys",
    ]


def _copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return copy


def test_a_wrong_expectation_fails_with_a_readable_report(
    shipped: Rendered, tmp_path: Path
) -> None:
    _, out = shipped
    copy = _copy(out, tmp_path)
    tests = copy / C.ALERTMANAGER_ROUTING_TESTS
    cases = yaml.safe_load(tests.read_text())
    cases[0]["receivers"] = ["ticket"]
    tests.write_text(yaml.safe_dump(cases))
    result = amtool.test_routes(copy)
    assert result is not None and not result.ok
    assert f"FAIL routing test {cases[0]['name']!r}" in result.output
    assert "expected: ticket" in result.output
    assert "got:      pager, slack-bzzz-alerts" in result.output
    assert "1 failed" in result.output


def test_a_route_that_lost_its_mute_fails(shipped: Rendered, tmp_path: Path) -> None:
    _, out = shipped
    copy = _copy(out, tmp_path)
    config_path = copy / C.ALERTMANAGER_CONFIG
    config = yaml.safe_load(config_path.read_text())
    for route in config["route"]["routes"]:
        for child in route.get("routes", []):
            child.pop("mute_time_intervals", None)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    failed = [o for o in amtool.run_route_tests(copy) if not o.ok]
    assert [o.name for o in failed] == [
        "maintenance window weekly-maintenance mutes P2",
        "maintenance window weekly-maintenance mutes P3",
    ]
    assert "expected ['weekly-maintenance']" in failed[0].detail


def test_receivers_for_agrees_with_amtool_for_every_shipped_alert(shipped: Rendered) -> None:
    """What the alert catalog prints ("who is notified") is what Alertmanager does."""
    plan, out = shipped
    config = out / C.ALERTMANAGER_CONFIG
    label_sets = [
        dict(plan.service.labels)
        | a.labels
        | {"alertname": a.name, "component": a.component, "severity": a.severity}
        for a in plan.alerts
    ]
    for slo in plan.slos:
        for tier in slo.tiers:
            label_sets.append(
                dict(plan.service.labels)
                | {
                    "alertname": slo.alert_name,
                    "slo": slo.name,
                    "component": slo.component,
                    "severity": tier.severity,
                    "tier": tier.name,
                    "alert_kind": "burn_rate",
                }
            )
    for labels in label_sets:
        expected = receivers_for(plan, labels)
        assert expected and C.NULL_RECEIVER not in expected, labels
        result = amtool.amtool_route(config, labels, expected)
        assert result.ok, f"{labels}: receivers_for says {expected}, amtool: {result.output}"
