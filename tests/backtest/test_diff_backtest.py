"""``bzzzmon diff --backtest``: lowering a threshold adds exactly the pages the history implies.

The history raises agent-1's error rate to 1.6/s and agent-3's to 0.8/s for 30 minutes each;
BZZZHighErrorRate pages above 1/s. Lowered to 0.6/s it must page once more (agent-3's
incident) on each receiver of its route, and no other alert may page differently.
"""

from __future__ import annotations

import json
from pathlib import Path

from bzzzmon.conventions import NULL_RECEIVER
from bzzzmon.model import Plan
from bzzzmon.render.alertmanager import receivers_for
from tests.backtest.conftest import START
from tests.conftest import run_cli
from tests.shipped import copy_bzzz_alone

THRESHOLD = "    threshold: 1\n    for: 10m\n"


def test_lowering_a_threshold_adds_the_expected_pages(
    tmp_path: Path, source: str, plan: Plan
) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    copy_bzzz_alone(tmp_path, "base")
    copy_bzzz_alone(tmp_path, "head")
    alerts = head / "alerts.yaml"
    text = alerts.read_text()
    block = text.index("  - name: BZZZHighErrorRate")
    at = text.index(THRESHOLD, block)
    alerts.write_text(
        text[:at] + THRESHOLD.replace("1\n", "0.6\n", 1) + text[at + len(THRESHOLD) :]
    )

    result = run_cli(
        "diff",
        "--base",
        str(base),
        "--specs",
        str(head),
        "--backtest",
        source,
        "--start",
        str(START),
        "--end",
        str(START + 6 * 3600),
        "--format",
        "json",
        env={"TMPDIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "head"]  # scratch removed

    sides = [{a["alertname"]: a for a in data["backtest"][s]["alerts"]} for s in ("base", "head")]
    before, after = (side["BZZZHighErrorRate"] for side in sides)
    labels = {"alertname": "BZZZHighErrorRate", "severity": "P2", "component": "agent"}
    receivers = [
        r for r in receivers_for(plan, {**labels, "service": "bzzz"}) if r != NULL_RECEIVER
    ]
    assert receivers
    assert [ep["labels"]["instance"] for ep in before["episodes"]] == ["agent-1:8081"]
    assert [ep["labels"]["instance"] for ep in after["episodes"]] == [
        "agent-1:8081",
        "agent-3:8081",
    ]
    assert before["page_count"] == len(receivers)
    assert after["page_count"] == 2 * len(receivers)
    changes = data["backtest"]["changes"]
    assert [c["alertname"] for c in changes] == ["BZZZHighErrorRate"]
    assert changes[0]["text"].startswith(
        f"BZZZHighErrorRate: {2 * len(receivers)} page(s) instead of {len(receivers)} over 6h"
    )
