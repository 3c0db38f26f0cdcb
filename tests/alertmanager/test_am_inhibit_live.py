"""The Python inhibition semantics agree with a real Alertmanager 0.25 on every generated case.

Every case's source and target are posted at once, each with its own ``case`` label that every
rule adds to ``equal`` so cases cannot inhibit each other. A sentinel pair posted afterwards tells
when Alertmanager's inhibitor has seen all of them (alerts reach it in the order they were put).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from am_testkit import RunningAlertmanager, load_yaml

from bzzzmon import conventions as C
from bzzzmon.render.alertmanager.inhibit import is_inhibited

pytestmark = pytest.mark.e2e

SENTINEL_RULE = {
    "source_matchers": ['sentinel="source"'],
    "target_matchers": ['sentinel="target"'],
}
EXTRA_CASES = [
    # An alert on both sides of a rule does not inhibit itself.
    {
        "name": "exporter down does not inhibit itself",
        "source": {"alertname": "BZZZExporterDown", "component": "exporter", "service": "bzzz"},
        "target": {"alertname": "BZZZExporterDown", "component": "exporter", "service": "bzzz"},
    },
    {
        "name": "a P0 of another component does not inhibit a P3",
        "source": {"alertname": "A", "component": "cart", "service": "shop", "severity": "P0"},
        "target": {"alertname": "B", "component": "database", "service": "shop", "severity": "P3"},
    },
]


def _inhibited(am: RunningAlertmanager, matcher: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{am.url}/api/v2/alerts", params={"filter": matcher}, timeout=10)
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()
    return data


@pytest.mark.parametrize("name", ["shipped", "teams", "multi"])
def test_python_and_alertmanager_agree(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    _, out = request.getfixturevalue(name)
    config = load_yaml(out / C.ALERTMANAGER_CONFIG)
    assert isinstance(config, dict)
    rules = [r | {"equal": [*r.get("equal", []), "case"]} for r in config["inhibit_rules"]]
    cases = load_yaml(out / C.ALERTMANAGER_INHIBITION_TESTS)
    assert isinstance(cases, list)
    cases = cases + EXTRA_CASES
    am_config = {
        "route": {"receiver": "blackhole"},
        "receivers": [{"name": "blackhole"}],
        "inhibit_rules": [*rules, SENTINEL_RULE],
    }
    alerts = []
    for i, case in enumerate(cases):
        for side in ("source", "target"):
            alerts.append({"labels": case[side] | {"case": str(i)}})
    with RunningAlertmanager(tmp_path / "am", am_config) as am:
        httpx.post(f"{am.url}/api/v2/alerts", json=alerts, timeout=10).raise_for_status()
        sentinel = [{"labels": {"alertname": "S", "sentinel": s}} for s in ("source", "target")]
        httpx.post(f"{am.url}/api/v2/alerts", json=sentinel, timeout=10).raise_for_status()
        deadline = time.monotonic() + 60
        while True:
            (target,) = _inhibited(am, 'sentinel="target"')
            if target["status"]["inhibitedBy"]:
                break
            assert time.monotonic() < deadline, "the inhibitor never saw the sentinel"
            time.sleep(0.1)
        everything = _inhibited(am, 'alertname=~".*"')
    state = {
        tuple(sorted(a["labels"].items())): bool(a["status"]["inhibitedBy"]) for a in everything
    }
    for i, case in enumerate(cases):
        target = case["target"] | {"case": str(i)}
        source = case["source"] | {"case": str(i)}
        python = is_inhibited(rules, target, [source])
        alertmanager = state[tuple(sorted(target.items()))]
        assert python == alertmanager, case["name"]
        if "inhibited" in case:
            assert python == case["inhibited"], case["name"]
