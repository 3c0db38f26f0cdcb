"""Escalation rules evaluated by promtool: they fire after the resolution target, keep the
escalated alert's labels, survive a flap, and never escalate an escalation or the Watchdog."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from am_testkit import Rendered

from bzzzmon import conventions as C
from bzzzmon.render.escalation import escalation_rules

REPLICATION = {
    "alertname": "BZZZDHTReplicationDegraded",
    "alertstate": "firing",
    "severity": "P1",
    "component": "dht",
    "service": "bzzz",
    "alert_kind": "threshold",
}


def _series(labels: dict[str, str]) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"ALERTS{{{inner}}}"


def test_escalation_rules_under_promtool(shipped: Rendered, tmp_path: Path) -> None:
    plan, out = shipped
    assert [r["alert"] for r in escalation_rules(plan)] == [
        "BZZZP0ResolutionTargetMissed",
        "BZZZP1ResolutionTargetMissed",
    ]
    escalated = {
        "alertname": "BZZZP1ResolutionTargetMissed",
        "escalated_alert": "BZZZDHTReplicationDegraded",
        "severity": "P1",
        "component": "dht",
        "service": "bzzz",
        "alert_kind": "threshold",
        "escalation": "true",
    }
    p0_escalation = {
        "alertname": "BZZZP0ResolutionTargetMissed",
        "alertstate": "firing",
        "severity": "P0",
        "service": "bzzz",
        "alert_kind": "escalation",
        "escalation": "true",
    }
    runbook = plan.service.runbook_url
    annotations = {
        "summary": "BZZZDHTReplicationDegraded has been firing longer than the P1 resolution "
        "target (4 h).",
        "description": "The P1 (High) alert BZZZDHTReplicationDegraded has fired for 4 h, the "
        "resolution target of P1 (gaps of up to 24 min not counted), and still fires. "
        "Escalating to: tech-lead.",
        "runbook_url": f"{runbook}#escalation-procedures",
        "dashboard_url": "https://grafana.chorus.services/d/bzzz-overview",
    }
    pending = REPLICATION | {"alertname": "BZZZNoAdminElected", "alertstate": "pending"}
    # The case: a 3-hour P0 with a one-minute flap after 50 minutes.
    flapping = REPLICATION | {"alertname": "BZZZNoAdminElected", "severity": "P0"}
    flapping_escalated = escalated | {
        "alertname": "BZZZP0ResolutionTargetMissed",
        "escalated_alert": "BZZZNoAdminElected",
        "severity": "P0",
    }
    test = {
        "rule_files": [str(out / C.ESCALATION_RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": _series(REPLICATION), "values": "1x300"},
                    {"series": _series(p0_escalation), "values": "1x300"},
                    {"series": _series(pending), "values": "1x300"},
                    {"series": _series(flapping), "values": "1x49 stale 1x130"},
                    {
                        "series": _series(
                            REPLICATION | {"alertname": C.WATCHDOG_ALERT, "severity": "P1"}
                        ),
                        "values": "1x300",
                    },
                ],
                "alert_rule_test": [
                    {"eval_time": "3h59m", "alertname": "BZZZP1ResolutionTargetMissed"},
                    {
                        "eval_time": "4h1m",
                        "alertname": "BZZZP1ResolutionTargetMissed",
                        "exp_alerts": [{"exp_labels": escalated, "exp_annotations": annotations}],
                    },
                    {"eval_time": "2h", "alertname": "BZZZP0ResolutionTargetMissed"},
                    {
                        "eval_time": "2h1m",
                        "alertname": "BZZZP0ResolutionTargetMissed",
                        "exp_alerts": [
                            {
                                "exp_labels": flapping_escalated,
                                "exp_annotations": annotations
                                | {
                                    "summary": "BZZZNoAdminElected has been firing longer than "
                                    "the P0 resolution target (2 h).",
                                    "description": "The P0 (Critical) alert BZZZNoAdminElected "
                                    "has fired for 2 h, the resolution target of P0 (gaps of up "
                                    "to 12 min not counted), and still fires. Escalating to: "
                                    "tech-lead, infra-team, management.",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "escalation.test.yml"
    test_file.write_text(yaml.safe_dump(test, sort_keys=False))
    result = subprocess.run(
        ["promtool", "test", "rules", str(test_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
