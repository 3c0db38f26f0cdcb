"""docs/alerts.md as the page on-call reads at 3 a.m.: each alert's first steps from the spec,
the inhibitions that hide it and that it applies (as the rendered Alertmanager config does), the
maintenance windows that mute it, and no unrendered template text."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.render.catalog import alert_entries
from bzzzmon.spec.plan import load_plan
from tests.conftest import run_cli
from tests.review.conftest import SMALL, copy_spec
from tests.shipped import bzzz_plan


def _section(doc: str, name: str) -> str:
    start = doc.index(f"\n### {name}\n")
    end = doc.index("\n### ", start + 1)
    return doc[start:end]


def test_every_shipped_alert_has_first_steps_and_no_template_text() -> None:
    plan = bzzz_plan()
    doc = render_all(plan)[C.ALERT_CATALOG]
    assert [e.name for e in alert_entries(plan) if not e.first_steps] == []
    assert "{{" not in doc and "{%" not in doc and "$labels" not in doc
    section = _section(doc, "BZZZPostgresBackupTooOld")
    assert "- **First steps** ([runbook](" in section
    assert "OPERATIONAL_RUNBOOK.md#database-backup)):\n  1. Run the database backup" in section
    # An SLO's alerts carry the SLO's steps; an escalation says whom to bring in.
    burn = _section(doc, "BZZZSLURPErrorBudgetBurn page-fast")
    assert "1. Check that exactly one agent is admin" in burn
    p0 = _section(doc, "BZZZP0ResolutionTargetMissed")
    assert "Bring in tech-lead, infra-team, management" in p0
    assert "(named in the label `escalated_alert`)" in p0


def test_inhibitions_are_the_rendered_configs() -> None:
    plan = bzzz_plan()
    files = render_all(plan)
    doc = files[C.ALERT_CATALOG]
    one = _section(doc, "BZZZDHTBootstrapNodeDown")
    assert (
        "- **Inhibited by** `all-bootstrap-nodes-down-explains-each`: quiet while "
        "BZZZDHTBootstrapNodesAllDown fires (same service)" in one
    )
    assert "**Inhibits**" not in one
    every = _section(doc, "BZZZDHTBootstrapNodesAllDown")
    assert (
        "- **Inhibits** (`all-bootstrap-nodes-down-explains-each`): BZZZDHTBootstrapNodeDown "
        "(same service)" in every
    )
    # The rule exists in the Alertmanager config as the catalog says.
    config = yaml.safe_load(files[C.ALERTMANAGER_CONFIG])
    assert any(
        'alertname="BZZZDHTBootstrapNodesAllDown"' in " ".join(r["source_matchers"])
        and 'alertname="BZZZDHTBootstrapNodeDown"' in " ".join(r["target_matchers"])
        for r in config["inhibit_rules"]
    )
    # Peers do not inhibit each other: the burn tiers of one SLO name no inhibition of their own.
    health = _section(doc, "BZZZSystemHealthCritical")
    assert "**Inhibited by**" not in health
    assert "BZZZDHTErrorBudgetBurn" in health and "BZZZSystemHealthCritical," not in health


def test_maintenance_windows_that_mute_each_alert() -> None:
    doc = render_all(bzzz_plan())[C.ALERT_CATALOG]
    window = "- **Muted during:** weekly-maintenance (sunday 02:00-04:00 UTC)"
    assert window in _section(doc, "BZZZAgentDown")  # P2
    assert window in _section(doc, "BZZZHostDiskCapacity")  # P3
    for name in (
        "BZZZSystemHealthCritical",
        "BZZZPostgresDown",
        "BZZZWatchdog",
    ):  # P0, P1, heartbeat
        assert "- **Muted during:** no maintenance window" in _section(doc, name), name


def _with_first_steps(tmp_path: Path, yaml_line: str) -> tuple[Path, Path, int]:
    """The small spec with ``yaml_line`` after its first alert's runbook: (specs, the file,
    the inserted line's number)."""
    specs = copy_spec(SMALL, tmp_path)
    path = next(p for p in sorted(specs.glob("*.yaml")) if "\nalerts:" in p.read_text())
    text = path.read_text()
    first = re.search(r"\n(    )runbook: .*\n", text)
    assert first is not None
    path.write_text(text[: first.end()] + f"    {yaml_line}\n" + text[first.end() :])
    return specs, path, text[: first.end()].count("\n") + 1


def test_first_steps_render_literally(tmp_path: Path) -> None:
    steps = 'first_steps: ["Run {{ 7 * 7 }} checks {% if x %}now{% endif %}", "*not* `code`"]'
    specs, _, _ = _with_first_steps(tmp_path, steps)
    doc = render_all(load_plan(specs))[C.ALERT_CATALOG]
    assert "1. Run {{ 7 * 7 }} checks {% if x %}now{% endif %}\n" in doc
    assert "49" not in doc.split("First steps")[1].split("\n")[1]
    assert "2. *not* `code`\n" in doc


def test_a_multi_line_first_step_is_a_spec_error(tmp_path: Path) -> None:
    specs, path, line = _with_first_steps(tmp_path, 'first_steps: ["one\\ntwo"]')
    out = tmp_path / "out"
    done = run_cli("build", "--specs", str(specs), "--out", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path.name}:{line}:" in done.stderr and "a first step is one line" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
