"""The backtest's episodes agree with ``promtool test rules`` on the same series.

The check is promtool's: a test file built from the backtested episodes must pass against the
same rule files and the same samples. Agreement is within one evaluation interval, as the
issue asks (the evaluations either side of each backtested transition are not checked): one
evaluation after an episode starts firing and two before it resolves it fires with exactly
those labels, two before it starts and one after it resolves it does not, and every half hour
the alerts the backtest says fire are the ones that fire. A backtest that missed or added an
episode, or moved a transition by more than one evaluation, fails it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.backtest.engine import iso
from bzzzmon.render.output import Files
from bzzzmon.verify.tools import require, run
from tests.backtest.conftest import END, HISTORY, START
from tests.backtest.history import STEP, input_series

# The rule files whose alerts the history drives (the tiers of one SLO with their ALERTS
# suppression, a threshold alert with for:, one with a per-instance series).
RULE_FILES = (
    f"{C.RULES_DIR}/slo-dht-operations.rules.yml",
    f"{C.RULES_DIR}/alerts-agent.rules.yml",
    f"{C.RULES_DIR}/alerts-election.rules.yml",
)


def _without_annotations(text: str | bytes) -> str:
    doc = yaml.safe_load(text)
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return yaml.safe_dump(doc, sort_keys=False)


def _alert_names(files: Files) -> set[str]:
    return {
        str(rule["alert"])
        for path in RULE_FILES
        for group in yaml.safe_load(files[path])["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def _firing_at(episodes: list[dict[str, Any]], t: int) -> list[dict[str, str]]:
    return sorted(
        (e["full_labels"] for e in episodes if e["fired"] <= t < e["end"]),
        key=lambda labels: sorted(labels.items()),
    )


def test_every_alert_agrees_with_promtool(
    tmp_path: Path, files: Files, outcome: dict[str, Any], raw_episodes: list[dict[str, Any]]
) -> None:
    names = _alert_names(files)
    mine = [e for e in raw_episodes if e["alertname"] in names]
    # The history's incidents are all seen: the test below checks them, not an empty replay.
    assert {e["alertname"] for e in mine} >= {
        "BZZZDHTErrorBudgetBurn",
        "BZZZAgentDown",
        "BZZZNoAdminElected",
    }
    tiers = {
        e["full_labels"].get("tier") for e in mine if e["alertname"] == "BZZZDHTErrorBudgetBurn"
    }
    # The six hours of 10% failures page (page-slow) and raise no ticket first: 12 hours of
    # history fill half of ticket-fast's 1d window, which is prorated by it (2.5% < 3%).
    assert tiers == {"page-fast", "page-slow"}

    times = set(range(START, END + 1, 1800))
    for e in mine:
        times |= {e["fired"] - 2 * STEP, e["fired"] + STEP, e["end"] - 2 * STEP, e["end"] + STEP}
    # Either side of a transition, promtool may differ by one evaluation: not checked.
    ambiguous = {
        (e["alertname"], t) for e in mine for x in (e["fired"], e["end"]) for t in (x - STEP, x)
    }
    cases = [
        {
            "eval_time": f"{t - START}s",
            "alertname": name,
            "exp_alerts": [
                {"exp_labels": {k: v for k, v in labels.items() if k != "alertname"}}
                for labels in _firing_at([e for e in mine if e["alertname"] == name], t)
            ],
        }
        for t in sorted(times)
        for name in sorted(names)
        if START <= t <= END and (name, t) not in ambiguous
    ]
    for path in RULE_FILES:
        (tmp_path / Path(path).name).write_text(_without_annotations(files[path]))
    test = {
        "rule_files": [Path(p).name for p in RULE_FILES],
        "evaluation_interval": f"{STEP}s",
        "tests": [
            {
                "interval": f"{STEP}s",
                "input_series": input_series(HISTORY),
                "alert_rule_test": cases,
            }
        ],
    }
    (tmp_path / "test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    result = run([require("promtool"), "test", "rules", "test.yml"], cwd=tmp_path, timeout=900)
    assert result.ok, result.output[-4000:]


def test_report_names_the_incidents(outcome: dict[str, Any]) -> None:
    alerts = {a["alertname"]: a for a in outcome["alerts"]}
    burn = alerts["BZZZDHTErrorBudgetBurn"]
    assert burn["page_count"] >= 2  # the outage and the slow burn both paged
    assert burn["first_page"] is not None and burn["first_page"] > iso(START + 2 * 3600)
    down = alerts["BZZZAgentDown"]
    assert [ep["labels"]["instance"] for ep in down["episodes"]] == ["agent-2:8081"]
    assert down["firing_seconds"] == 10 * 60 + STEP - 3 * 60
    dht = next(s for s in outcome["slos"] if s["slo"] == "dht-operations")
    assert 0 < dht["error_ratio"] < 0.1
    assert any("ALERTS is synthesised" in limit for limit in outcome["limits"])


def test_scratch_data_is_removed(outcome: dict[str, Any], scratch_parent: Path) -> None:
    assert outcome["alerts"]
    assert list(scratch_parent.iterdir()) == []
