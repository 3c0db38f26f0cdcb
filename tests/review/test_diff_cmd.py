"""`bzzzmon diff`: a mutated copy of the shipped spec reports exactly the mutations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from bzzzmon.cli import main
from tests.shipped import SHIPPED_SPECS, copy_bzzz_alone


def _diff(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["diff", *args])
    return result.exit_code, result.stdout + result.stderr


def _mutate(specs: Path) -> None:
    alerts = (specs / "alerts.yaml").read_text()
    # A threshold, a severity and a for: of three different alerts.
    alerts = alerts.replace('op: "<"\n    threshold: 3\n', 'op: "<"\n    threshold: 2\n', 1)
    alerts = alerts.replace(
        "name: BZZZDHTReplicationDegraded\n    component: dht\n    severity: P1",
        "name: BZZZDHTReplicationDegraded\n    component: dht\n    severity: P0",
    )
    alerts = alerts.replace(
        "threshold: 3221225472\n    for: 15m", "threshold: 3221225472\n    for: 30m"
    )
    (specs / "alerts.yaml").write_text(alerts)
    slos = (specs / "slos.yaml").read_text()
    slos = slos.replace("objective: 99\n    period: 30d", "objective: 99.9\n    period: 30d", 1)
    (specs / "slos.yaml").write_text(slos)


def test_reports_exactly_the_mutations(tmp_path: Path) -> None:
    specs = copy_bzzz_alone(tmp_path, tests=False)
    _mutate(specs)
    code, output = _diff("--base", str(SHIPPED_SPECS), "--specs", str(specs), "--format", "json")
    assert code == 0, output
    changes = {
        (c["subject"], c["field"], c["old"], c["new"]) for c in json.loads(output)["changes"]
    }
    assert changes == {
        ("BZZZInsufficientPeers", "threshold", "< 3", "< 2"),
        ("BZZZDHTReplicationDegraded", "severity", "P1", "P0"),
        (
            "BZZZDHTReplicationDegraded",
            "receivers",
            "slack-bzzz-alerts, ticket",
            "pager, slack-bzzz-alerts",
        ),
        ("BZZZHighMemoryUsage", "for", "15m", "30m"),
        ("slo dht-operations", "objective", "99%", "99.9%"),
    }
    objective = next(c for c in json.loads(output)["changes"] if c["field"] == "objective")
    assert "shrinks the error budget 10x" in objective["meaning"]
    assert "page-fast now fires at 1.44% errors" in objective["meaning"]


def test_text_and_markdown(tmp_path: Path) -> None:
    specs = copy_bzzz_alone(tmp_path, tests=False)
    _mutate(specs)
    code, text = _diff("--base", str(SHIPPED_SPECS), "--specs", str(specs))
    assert code == 0
    assert "~ BZZZInsufficientPeers: threshold < 3 -> < 2" in text
    code, markdown = _diff(
        "--base", str(SHIPPED_SPECS), "--specs", str(specs), "--format", "markdown"
    )
    assert code == 0
    assert markdown.startswith("### bzzzmon diff")
    assert "| ✏️ | `BZZZHighMemoryUsage` | for: `15m` → `30m` |" in markdown


def test_no_change_and_added_alert(tmp_path: Path) -> None:
    specs = copy_bzzz_alone(tmp_path, tests=False)
    code, text = _diff("--base", str(SHIPPED_SPECS), "--specs", str(specs))
    assert code == 0
    assert "no changes" in text
    alerts = (specs / "alerts.yaml").read_text()
    alerts += """
  - name: BZZZNewThing
    component: exporter
    severity: P3
    expr: 'bzzz_exporter_targets{$exporter}'
    op: "<"
    threshold: 1
    for: 5m
    summary: No targets.
    description: None.
    runbook: "#alert-validation"
    dashboard: overview
"""
    (specs / "alerts.yaml").write_text(alerts)
    code, output = _diff("--base", str(SHIPPED_SPECS), "--specs", str(specs), "--format", "json")
    added = [c for c in json.loads(output)["changes"] if c["action"] == "added"]
    assert [c["subject"] for c in added] == ["BZZZNewThing"]
    assert "notifies digest" in added[0]["meaning"]


def test_git_ref_base_and_bad_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    specs = copy_bzzz_alone(repo, tests=False)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "specs")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "change")
    _mutate(specs)
    code, output = _diff("--specs", str(specs), "--format", "json")  # default: merge base
    assert code == 0, output
    assert len(json.loads(output)["changes"]) == 5
    code, output = _diff("--base", "main", "--specs", str(specs), "--format", "json")
    assert code == 0 and len(json.loads(output)["changes"]) == 5
    code, output = _diff("--base", "no-such-ref", "--specs", str(specs))
    assert code == 2
    assert "unknown git ref" in output


def test_removed_slo_removes_its_alerts_and_dashboard(tmp_path: Path) -> None:
    specs = copy_bzzz_alone(tmp_path, tests=False)
    slos = (specs / "slos.yaml").read_text()
    start = slos.index("  - name: dht-latency")
    end = slos.index("  - name: admin-elected")
    (specs / "slos.yaml").write_text(slos[:start] + slos[end:])
    service = (specs / "service.yaml").read_text()  # an inhibition and an explanation name it
    service = service.replace(", dht-latency]", "]")
    start = service.index("    - name: dht-errors-explain-dht-latency")
    end = service.index("    # DHT failures are logged as agent errors")
    (specs / "service.yaml").write_text(service[:start] + service[end:])
    code, output = _diff("--base", str(SHIPPED_SPECS), "--specs", str(specs), "--format", "json")
    assert code == 0, output
    changes = json.loads(output)["changes"]
    removed = {(c["section"], c["subject"]) for c in changes if c["action"] == "removed"}
    assert ("slo", "slo dht-latency") in removed
    assert ("dashboard", "dashboard bzzz-slo-dht-latency") in removed
    assert ("alert", "BZZZDHTLatencyBudgetBurn{tier=page-fast}") in removed
    assert all(c["action"] == "removed" for c in changes if "latency" in c["subject"].lower())
