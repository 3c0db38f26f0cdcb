"""A silence made with ``bzzzmon silence add`` for an alert also silences its escalation, on a
real Alertmanager 0.25: the escalation reaches Alertmanager under the escalated alert's name
with its labels plus ``escalation="true"`` (prometheus.yml's alert relabeling), and silences
match by label matchers. Another alert's escalation stays audible."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from am_testkit import Rendered, RunningAlertmanager, bzzzmon

from bzzzmon.render.alertmanager.tests import escalation_of

pytestmark = pytest.mark.e2e

NO_ADMIN = {
    "alertname": "BZZZNoAdminElected",
    "alert_kind": "threshold",
    "component": "election",
    "service": "bzzz",
    "severity": "P0",
}
HEALTH = NO_ADMIN | {"alertname": "BZZZSystemHealthCritical", "component": "exporter"}


def _alerts(am: RunningAlertmanager) -> dict[tuple[tuple[str, str], ...], dict[str, Any]]:
    data = httpx.get(f"{am.url}/api/v2/alerts", timeout=10).json()
    return {tuple(sorted(a["labels"].items())): a["status"] for a in data}


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def test_a_silenced_alert_escalates_to_nobody(shipped: Rendered, tmp_path: Path) -> None:
    plan, _ = shipped
    escalated = escalation_of(NO_ADMIN, "P0")
    other = escalation_of(HEALTH, "P0")
    # The relabeling the generated prometheus.yml applies, seen from Alertmanager.
    assert escalated["alertname"] == "BZZZNoAdminElected" and escalated["escalation"] == "true"
    with RunningAlertmanager(tmp_path / "am") as am:
        added = bzzzmon(
            "silence",
            "add",
            "alertname=BZZZNoAdminElected",
            "service=bzzz",
            "--duration",
            "1h",
            "--comment",
            "election maintenance",
            "--alertmanager",
            am.url,
        )
        assert added.returncode == 0, added.stderr
        silence = added.stdout.strip()
        ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        posted = [{"labels": labels, "endsAt": ends} for labels in (NO_ADMIN, escalated, other)]
        httpx.post(f"{am.url}/api/v2/alerts", json=posted, timeout=10).raise_for_status()
        deadline = time.monotonic() + 30  # a hang guard: the state is computed per request
        while len(state := _alerts(am)) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert state[_key(NO_ADMIN)]["silencedBy"] == [silence]
    assert state[_key(escalated)]["silencedBy"] == [silence]
    assert state[_key(escalated)]["state"] == "suppressed"
    assert state[_key(other)]["silencedBy"] == []
    assert state[_key(other)]["state"] == "active"
    assert plan.routing.escalate  # the shipped spec escalates, so this is the case that matters
