"""The shipped monitoring service (specs/monitoring/, docs/monitoring.md): it renders nothing of
BZZZ's, every alert it generates reaches a receiver in the committed Alertmanager config (its
Watchdog the heartbeat, like BZZZ's), and its committed promtool tests pass."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.render.alertmanager.routes import match_routes
from bzzzmon.verify.rule_testing import collect, run_tests
from bzzzmon.verify.tools import workers
from tests.conftest import ROOT, run_cli
from tests.shipped import (
    BZZZ,
    GENERATED,
    MONITORING,
    MONITORING_SPECS,
    SHARED_SPEC,
    monitoring_plan,
)

THRESHOLD_ALERTS = {
    "MonitoringAlertmanagerDown",
    "MonitoringNoAlertmanager",
    "MonitoringAlertsDropped",
    "MonitoringNotificationsFailing",
    "MonitoringPrometheusConfigReloadFailed",
    "MonitoringAlertmanagerConfigReloadFailed",
    "MonitoringRuleEvaluationFailing",
    "MonitoringPrometheusSelfScrapeFailing",
    "MonitoringExporterConfigReloadFailed",
    "MonitoringRuleGroupIterationsMissed",
    "MonitoringWatchdog",
}
PAGE = ["slack-bzzz-alerts", "ticket"]  # the shared P1 receivers
TICKET = ["ticket"]  # P2
MUTED = ("weekly-maintenance",)


def _rules(tree: Path, rules_dir: str) -> list[dict[str, Any]]:
    return [
        rule
        for path in sorted((tree / rules_dir).glob("*.yml"))
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    ]


def test_the_service_alone_renders_nothing_of_bzzz() -> None:
    plan = monitoring_plan()
    files = render_all(plan)
    prometheus = yaml.safe_load(files[C.PROMETHEUS_CONFIG])
    # Only the jobs every prometheus.yml scrapes: no bzzz-agent, exporter or host jobs.
    assert {j["job_name"] for j in prometheus["scrape_configs"]} == {"prometheus", "alertmanager"}
    assert not [
        p for p in files if p.startswith(f"{C.PROMETHEUS_CONFIG.rsplit('/', 1)[0]}/targets")
    ]
    assert C.EXPORTER_CONFIG not in files and C.SWARM_STACK not in files
    assert sorted(p for p in files if p.startswith(C.GRAFANA_DASHBOARDS_DIR)) == [
        f"{C.GRAFANA_DASHBOARDS_DIR}/monitoring-overview.json",
        f"{C.GRAFANA_DASHBOARDS_DIR}/monitoring-slo-notification-delivery.json",
        f"{C.GRAFANA_DASHBOARDS_DIR}/monitoring-slo-rule-evaluations.json",
    ]
    for path, text in files.items():
        assert "bzzz-agent" not in text and "BZZZ" not in text, path
    assert {a.name for a in plan.alerts} == THRESHOLD_ALERTS
    assert {s.name: s.objective for s in plan.slos} == {
        "rule-evaluations": Decimal("0.999"),
        "notification-delivery": Decimal("0.995"),
    }


def test_the_committed_tree_keeps_the_services_apart() -> None:
    rules = _rules(GENERATED, MONITORING.rules_dir)
    alerts = [r for r in rules if "alert" in r]
    assert alerts and all(r["labels"]["service"] == "monitoring" for r in alerts)
    assert all(r["alert"].startswith("Monitoring") for r in alerts)
    assert not [r for r in _rules(GENERATED, BZZZ.rules_dir) if "Monitoring" in r.get("alert", "")]
    assert not (GENERATED / MONITORING.exporter_config).exists()
    assert (GENERATED / BZZZ.exporter_config).exists()
    for alert in alerts:
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], alert["alert"]
        assert annotations["runbook_url"].startswith(monitoring_plan().service.runbook_url)


def test_every_alert_reaches_its_receivers() -> None:
    route = yaml.safe_load((GENERATED / C.ALERTMANAGER_CONFIG).read_text())["route"]
    routed: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    for rule in _rules(GENERATED, MONITORING.rules_dir):
        if "alert" in rule:
            labels = {"alertname": rule["alert"], **rule["labels"]}
            matches = match_routes(route, labels)
            key = (rule["alert"], rule["labels"].get(C.LABEL_TIER, ""))
            routed[key] = [(m.receiver, m.mute_time_intervals) for m in matches]
    assert not [k for k, v in routed.items() if C.NULL_RECEIVER in {r for r, _ in v}]
    page = [(r, ()) for r in PAGE]
    ticket = [(r, MUTED) for r in TICKET]
    expected = {
        ("MonitoringWatchdog", ""): [("heartbeat", ())],  # as BZZZWatchdog, never muted
        ("MonitoringRuleGroupIterationsMissed", ""): [("digest", MUTED)],
        ("MonitoringP0ResolutionTargetMissed", ""): [
            ("tech-lead", ()),
            ("infra-team", ()),
            ("management", ()),
        ],
        ("MonitoringP1ResolutionTargetMissed", ""): [("tech-lead", ())],
    }
    for name in (
        "MonitoringAlertmanagerDown",
        "MonitoringNoAlertmanager",
        "MonitoringAlertsDropped",
        "MonitoringNotificationsFailing",
    ):
        expected[(name, "")] = page
    for name in (
        "MonitoringPrometheusConfigReloadFailed",
        "MonitoringAlertmanagerConfigReloadFailed",
        "MonitoringRuleEvaluationFailing",
        "MonitoringPrometheusSelfScrapeFailing",
        "MonitoringExporterConfigReloadFailed",
    ):
        expected[(name, "")] = ticket
    for slo in ("RuleEvaluation", "Notification"):
        expected[(f"Monitoring{slo}BudgetBurn", "page-fast")] = page
        expected[(f"Monitoring{slo}BudgetBurn", "page-slow")] = page
        expected[(f"Monitoring{slo}BudgetBurn", "ticket-fast")] = ticket
        expected[(f"Monitoring{slo}BudgetBurn", "ticket-slow")] = ticket
        expected[(f"Monitoring{slo}SLIMissing", "")] = ticket
        expected[(f"Monitoring{slo}BudgetExhausted", "")] = ticket
    assert routed == expected
    # BZZZ's Watchdog keeps its own route to the same heartbeat.
    bzzz = match_routes(route, {"alertname": "BZZZWatchdog", "service": "bzzz", "severity": "P3"})
    assert [(m.receiver, m.mute_time_intervals) for m in bzzz] == [("heartbeat", ())]


def test_every_runbook_anchor_is_a_section_of_docs_monitoring(tmp_path: Path) -> None:
    specs = shutil.copytree(MONITORING_SPECS, tmp_path / "specs")
    shutil.copy(SHARED_SPEC, specs / SHARED_SPEC.name)
    result = run_cli("lint", "--specs", str(specs), "--runbook", str(ROOT / "docs/monitoring.md"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout


def test_its_committed_promtool_tests_pass() -> None:
    with tempfile.TemporaryDirectory(prefix="bzzzmon-monitoring-") as tmp:
        tests = [
            t
            for t in collect(GENERATED, None, Path(tmp))
            if t.label.startswith(MONITORING.tests_dir)
        ]
        assert sorted(t.label for t in tests) == [
            f"{MONITORING.tests_dir}/{name}.test.yml"
            for name in (
                "alerts-alertmanager",
                "alerts-exporter",
                "alerts-prometheus",
                "escalation",
                "slo-notification-delivery",
                "slo-rule-evaluations",
            )
        ]
        results = list(run_tests(tests, jobs=workers()))
    assert {r.label: r.result.output for r in results if not r.ok} == {}
    assert len(results) == len(tests)
