"""The exporter against the simulator: each fault moves the right component and system scores."""

from __future__ import annotations

from typing import Any

import pytest
from exporter_testkit import RunningExporter, agent_probe, config_data, value

from bzzzmon.conventions import (
    COMPONENT_HEALTH_SCORE,
    EXPORTER_PROBE_FAILURES,
    EXPORTER_STALE_PROBES,
    HEALTH_CHECKS_FAILED,
    HEALTH_CHECKS_PASSED,
    PROBE_SUCCESS,
    SYSTEM_HEALTH_SCORE,
)
from bzzzmon.exporter.config import parse_config
from bzzzmon.sim import Simulator

HEALTHY = {"pubsub": 1.0, "dht": 1.0, "election": 1.0, "slurp": 1.0, "ucxi": 1.0}
WEIGHTS = {"pubsub": 0.2, "dht": 0.25, "election": 0.25, "slurp": 0.15, "ucxi": 0.15}


def expected_system(scores: dict[str, float]) -> float:
    return round(sum(WEIGHTS[c] * s for c, s in scores.items()) / sum(WEIGHTS.values()), 6)


# fault, agent, params, component scores that differ from healthy, failure reason (if any)
CASES: list[tuple[str, int | None, dict[str, Any], dict[str, float], str | None]] = [
    ("partition", None, {}, {"pubsub": 0.5}, None),
    ("partition", None, {"peers": 0}, {"pubsub": 0.0}, None),
    ("no_admin", None, {}, {"election": 0.0}, None),
    ("leader_flapping", None, {}, {"election": 0.5}, None),
    ("replication_degraded", None, {}, {"dht": 0.5}, None),
    ("dht_failure_ratio", None, {"ratio": 0.1}, {"dht": 0.5}, None),
    ("dht_failure_ratio", None, {"ratio": 0.6}, {"dht": 0.0}, None),
    ("component_unhealthy", None, {"component": "slurp"}, {"slurp": 0.0}, None),
    ("component_unhealthy", 0, {"component": "ucxi", "status": "degraded"}, {"ucxi": 5 / 6}, None),
    ("slow_checks", None, {"delay": 0.1}, {}, None),
    ("slow_checks", None, {"delay": 3}, dict.fromkeys(HEALTHY, 0.0), "timeout"),
    ("hung_checks", None, {}, dict.fromkeys(HEALTHY, 0.0), "timeout"),
    ("malformed_health", None, {}, dict.fromkeys(HEALTHY, 0.0), "malformed"),
    # The refusing agent is not there: the other two say how healthy the components are.
    ("agent_down", 1, {}, {}, "refused"),
]


def test_healthy_cluster_scores_one(sim: Simulator, exporter_for: RunningExporter) -> None:
    exporter_for.run_round()
    samples = exporter_for.metrics()
    assert value(samples, SYSTEM_HEALTH_SCORE) == 1.0
    for component in [*HEALTHY, "exporter"]:
        assert value(samples, COMPONENT_HEALTH_SCORE, component=component) == 1.0
    for target in sim.agent_targets:
        assert value(samples, PROBE_SUCCESS, component="dht", target=target) == 1.0
    assert value(samples, HEALTH_CHECKS_PASSED, component="dht", check="dht-health") == 3.0
    assert value(samples, HEALTH_CHECKS_FAILED, component="dht", check="dht-health") == 0.0
    status, landing = exporter_for.get("/")  # built from the same snapshot as /metrics
    assert status == 200
    assert "system health score <b>1.000</b>" in landing and "1 probe rounds" in landing


@pytest.mark.parametrize(
    ("fault", "agent", "params", "changed", "reason"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{'-'.join(f'{k}={v}' for k, v in c[2].items())}" for c in CASES],
)
def test_fault_moves_scores(
    sim: Simulator,
    exporter_for: RunningExporter,
    fault: str,
    agent: int | None,
    params: dict[str, Any],
    changed: dict[str, float],
    reason: str | None,
) -> None:
    sim.set_fault(fault, agent=agent, **params)
    exporter_for.run_round()
    samples = exporter_for.metrics()
    scores = {**HEALTHY, **changed}
    for component, score in scores.items():
        got = value(samples, COMPONENT_HEALTH_SCORE, component=component)
        assert got == pytest.approx(score, abs=1e-6), component
    assert value(samples, SYSTEM_HEALTH_SCORE) == pytest.approx(expected_system(scores), abs=1e-6)
    if reason is not None:
        hit = sim.agent_targets[agent if agent is not None else 0]
        assert (
            value(samples, EXPORTER_PROBE_FAILURES, component="dht", target=hit, reason=reason) == 1
        )
        assert value(samples, PROBE_SUCCESS, component="dht", target=hit) == 0.0
        failed = value(samples, HEALTH_CHECKS_FAILED, component="dht", check="dht-health")
        # A refused target's checks are neither passed nor failed (test_exporter_refused.py).
        assert failed == 0 if reason == "refused" else failed >= 1


def test_clearing_a_fault_restores_the_score(sim: Simulator, exporter_for: RunningExporter) -> None:
    sim.set_fault("agent_down")
    exporter_for.run_round()
    assert value(exporter_for.metrics(), SYSTEM_HEALTH_SCORE) == 0.0
    sim.clear_faults()
    exporter_for.run_round()
    assert value(exporter_for.metrics(), SYSTEM_HEALTH_SCORE) == 1.0


def test_no_score_before_the_first_round(exporter_for: RunningExporter) -> None:
    samples = exporter_for.metrics()
    assert not any(name == SYSTEM_HEALTH_SCORE for name, _labels in samples)
    status, _body = exporter_for.get("/")
    assert status == 200


def test_dns_discovery_and_unresolvable_names(sim: Simulator) -> None:
    port = int(sim.agent_targets[0].rsplit(":", 1)[1])
    probe = {
        "name": "agent-health-checks",
        "type": "health_checks",
        "targets": {
            "dns": [
                {"name": "localhost", "port": port},
                {"name": "no-such-host.invalid", "port": 1},
            ]
        },
    }
    config = parse_config(config_data([probe]))
    with RunningExporter(config) as exporter:
        exporter.run_round()
        samples = exporter.metrics()
    # localhost's A record became a target; the unresolvable name is a failed target of its own.
    assert value(samples, PROBE_SUCCESS, component="dht", target=f"127.0.0.1:{port}") == 1.0
    unresolved = "no-such-host.invalid:1"
    assert value(samples, PROBE_SUCCESS, component="dht", target=unresolved) == 0.0
    assert (
        value(samples, EXPORTER_PROBE_FAILURES, component="dht", target=unresolved, reason="dns")
        == 1.0
    )
    assert value(samples, COMPONENT_HEALTH_SCORE, component="dht") == 0.5


def test_stale_results_count_as_failed(sim: Simulator) -> None:
    now = [1_000_000.0]
    config = parse_config(config_data([agent_probe(sim.agent_targets)], max_result_age="30s"))
    with RunningExporter(config, clock=lambda: now[0]) as exporter:
        exporter.run_round()
        assert value(exporter.metrics(), SYSTEM_HEALTH_SCORE) == 1.0
        now[0] += 31  # the probe loop fell behind: every result is now too old
        samples = exporter.metrics()
        assert value(samples, SYSTEM_HEALTH_SCORE) == 0.0
        assert value(samples, COMPONENT_HEALTH_SCORE, component="exporter") == 0.0
        assert value(samples, EXPORTER_STALE_PROBES, component="dht") == 3.0
        assert value(samples, PROBE_SUCCESS, component="dht", target=sim.agent_targets[0]) == 0.0
        exporter.run_round()  # counts each stale result once, then replaces it
        samples = exporter.metrics()
    target = sim.agent_targets[0]
    stale = value(samples, EXPORTER_PROBE_FAILURES, component="dht", target=target, reason="stale")
    assert stale == 1.0
    assert value(samples, SYSTEM_HEALTH_SCORE) == 1.0
    assert value(samples, EXPORTER_STALE_PROBES, component="dht") == 0.0
