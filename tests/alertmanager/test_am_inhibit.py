"""Inhibition: the generated cases, and hand-written ones for Alertmanager's semantics."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from am_testkit import Rendered, load_yaml

from bzzzmon import conventions as C
from bzzzmon.render.alertmanager.inhibit import is_inhibited
from bzzzmon.verify import amtool


def _rules(out: Path) -> list[dict[str, Any]]:
    config = load_yaml(out / C.ALERTMANAGER_CONFIG)
    assert isinstance(config, dict)
    rules: list[dict[str, Any]] = config.get("inhibit_rules", [])
    return rules


def test_generated_inhibition_tests_pass(any_spec: Rendered) -> None:
    _, out = any_spec
    outcomes = amtool.run_inhibition_tests(out)
    failed = [o for o in outcomes if not o.ok]
    assert not failed, amtool.report([], failed)


def test_every_inhibition_has_positive_and_negative_cases(shipped: Rendered) -> None:
    plan, out = shipped
    outcomes = amtool.run_inhibition_tests(out)
    for inhibition in plan.routing.inhibitions:
        mine = [o for o in outcomes if o.name.startswith(inhibition.name)]
        assert any(o.expected for o in mine), inhibition.name
        assert any(not o.expected for o in mine), inhibition.name


BZZZ = {"service": "bzzz"}
HEALTH = BZZZ | {"alertname": "BZZZSystemHealthCritical", "component": "exporter", "severity": "P0"}
PEERS = BZZZ | {"alertname": "BZZZInsufficientPeers", "component": "pubsub", "severity": "P1"}
EXPORTER_DOWN = BZZZ | {"alertname": "BZZZExporterDown", "component": "exporter", "severity": "P1"}
REPLICATION = BZZZ | {"alertname": "BZZZDHTReplicationDegraded", "component": "dht"}
DHT_BURN = BZZZ | {
    "alertname": "BZZZDHTErrorBudgetBurn",
    "component": "dht",
    "slo": "dht-operations",
    "alert_kind": "burn_rate",
}


def test_shipped_semantics(shipped: Rendered) -> None:
    _, out = shipped
    rules = _rules(out)

    def inhibited(target: dict[str, str], *firing: dict[str, str]) -> bool:
        return is_inhibited(rules, target, list(firing))

    # System health critical explains the less severe component alerts of the same service.
    assert inhibited(REPLICATION | {"severity": "P1"}, HEALTH)
    assert not inhibited(REPLICATION | {"severity": "P1", "service": "other"}, HEALTH)
    # ... but never the P0 no-admin alert: as severe, and more specific.
    no_admin = BZZZ | {"alertname": "BZZZNoAdminElected", "component": "election", "severity": "P0"}
    assert not inhibited(no_admin, HEALTH)
    # A partition of agent a explains agent a's DHT alerts, not the aggregate DHT page that
    # fails on every agent, and not agent b's.
    peers_a = PEERS | {"instance": "a:8081", "swarm_task_slot": "1"}
    dht_page = DHT_BURN | {"tier": "page-fast", "severity": "P1"}
    assert not inhibited(dht_page, peers_a)
    assert not inhibited(REPLICATION | {"severity": "P1"}, peers_a)
    assert inhibited(REPLICATION | {"severity": "P2", "instance": "a:8081"}, peers_a)
    assert not inhibited(REPLICATION | {"severity": "P2", "instance": "b:8081"}, peers_a)
    assert not inhibited(no_admin, PEERS)
    # The partition and the P2P SLO of the same agent are one incident, whatever the tier.
    p2p = BZZZ | {
        "alertname": "BZZZP2PConnectivityBudgetBurn",
        "component": "pubsub",
        "slo": "p2p-connectivity",
        "alert_kind": "burn_rate",
        "swarm_task_slot": "1",
    }
    assert inhibited(p2p | {"tier": "page-fast", "severity": "P1"}, peers_a)
    assert not inhibited(
        p2p | {"tier": "page-fast", "severity": "P1", "swarm_task_slot": "2"}, peers_a
    )
    hold = BZZZ | {
        "alertname": "BZZZExplanationHold",
        "explanation": "partition-is-the-p2p-burn",
        "swarm_task_slot": "1",
        "severity": "P3",
    }
    assert inhibited(p2p | {"tier": "page-slow", "severity": "P1"}, hold)
    # Exporter down explains the probe-derived alerts below it, and never inhibits itself.
    assert not inhibited(HEALTH, EXPORTER_DOWN)  # P0 above the P1 source
    stale = BZZZ | {"alertname": "BZZZHealthProbesStale", "component": "exporter", "severity": "P2"}
    assert inhibited(stale, EXPORTER_DOWN)
    assert not inhibited(EXPORTER_DOWN, EXPORTER_DOWN)
    # The Watchdog is never inhibited; an escalation is, exactly as its alert.
    watchdog = BZZZ | {"alertname": C.WATCHDOG_ALERT, "component": "exporter", "severity": "P3"}
    assert not inhibited(watchdog, EXPORTER_DOWN, HEALTH)
    escalation = REPLICATION | {
        "severity": "P1",
        "escalation": "true",
        "escalated_alert": "BZZZDHTReplicationDegraded",
    }
    assert inhibited(escalation, HEALTH)
    assert not inhibited(escalation, PEERS)
    # No firing source, no inhibition.
    assert not inhibited(REPLICATION)


def test_two_sided_rules_follow_alertmanager() -> None:
    # An alert matching both sides cannot be inhibited by alerts that also match both sides,
    # but can be by a source that matches only the source side.
    rules = [{"source_matchers": ['severity=~"P0|P1"'], "target_matchers": ['severity=~"P1|P2"']}]
    p1 = {"alertname": "A", "severity": "P1"}
    p1_other = {"alertname": "B", "severity": "P1"}
    p0 = {"alertname": "C", "severity": "P0"}
    assert not is_inhibited(rules, p1, [p1_other])
    assert is_inhibited(rules, p1, [p0])
    assert is_inhibited(rules, {"alertname": "D", "severity": "P2"}, [p1_other])


def test_equal_treats_a_missing_label_as_empty() -> None:
    rules = [
        {
            "source_matchers": ['alertname="S"'],
            "target_matchers": ['alertname="T"'],
            "equal": ["zone"],
        }
    ]
    assert is_inhibited(rules, {"alertname": "T"}, [{"alertname": "S"}])
    assert is_inhibited(rules, {"alertname": "T", "zone": ""}, [{"alertname": "S"}])
    assert not is_inhibited(rules, {"alertname": "T", "zone": "a"}, [{"alertname": "S"}])
    assert is_inhibited(rules, {"alertname": "T", "zone": "a"}, [{"alertname": "S", "zone": "a"}])


def test_teams_spec_severity_inhibition(teams: Rendered) -> None:
    plan, out = teams
    rules = _rules(out)
    p0 = {"service": "shop", "component": "cart", "severity": "P0", "alertname": "X"}
    p3 = {"service": "shop", "component": "cart", "severity": "P3", "alertname": "ShopTypos"}
    assert is_inhibited(rules, p3, [p0])
    assert not is_inhibited(rules, p3 | {"component": "database"}, [p0])
    # The Watchdog is named from the alert prefix (the service name upper-cased: SHOP).
    assert plan.service.watchdog_alert == "SHOPWatchdog"
    assert not is_inhibited(rules, p3 | {"alertname": "SHOPWatchdog"}, [p0])


def test_a_wrong_expectation_is_reported(shipped: Rendered, tmp_path: Path) -> None:
    _, out = shipped
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    tests = copy / C.ALERTMANAGER_INHIBITION_TESTS
    cases = yaml.safe_load(tests.read_text())
    cases[0]["inhibited"] = False
    tests.write_text(yaml.safe_dump(cases))
    result = amtool.test_routes(copy)
    assert result is not None and not result.ok
    assert f"FAIL inhibition test {cases[0]['name']!r}: expected the source to not inhibit" in (
        result.output
    )
