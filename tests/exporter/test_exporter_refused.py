"""A health_checks target that refuses the connection (the agent's process is not there) is the
agent-down alert's to report: its checks are neither passed nor failed and it adds nothing to
the scores, while its probe still fails. An agent that is up but broken still burns."""

from __future__ import annotations

import pytest
from exporter_testkit import CHECKS, RunningExporter, value

from bzzzmon.conventions import (
    COMPONENT_HEALTH_SCORE,
    EXPORTER_PROBE_FAILURES,
    HEALTH_CHECKS_FAILED,
    HEALTH_CHECKS_PASSED,
    PROBE_SUCCESS,
    SYSTEM_HEALTH_SCORE,
)
from bzzzmon.exporter.probes import ProbeOutcome
from bzzzmon.exporter.scoring import Observation, component_scores, observe, system_score
from bzzzmon.exporter.state import ExporterState, TargetResult
from bzzzmon.sim import Simulator

COMPONENTS = sorted(set(CHECKS.values()))
MAPPED = tuple(sorted(CHECKS.items()))

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _result(reason: str | None, probe_type: str = "health_checks") -> TargetResult:
    outcome = ProbeOutcome(reason is None, reason, "test", 0.01)
    return TargetResult("p", probe_type, "agent:8081", tuple(COMPONENTS), outcome, 0.0, MAPPED)


def _checks(samples: Samples, name: str) -> float:
    return sum(v for (n, _labels), v in samples.items() if n == name)


def test_a_refused_result_observes_nothing_but_a_stale_one_observes_zero() -> None:
    assert observe("health_checks", COMPONENTS, False, False, None, (), reason="refused") == []
    stale = observe("health_checks", COMPONENTS, False, True, None, (), reason="refused")
    assert stale == [Observation(c, 0.0) for c in COMPONENTS]


@pytest.mark.parametrize("reason", ["timeout", "reset", "bad_status", "malformed", "error"])
def test_other_failures_observe_zero(reason: str) -> None:
    got = observe("health_checks", COMPONENTS, False, False, None, (), reason=reason)
    assert got == [Observation(c, 0.0) for c in COMPONENTS]


def test_a_refused_tcp_target_still_observes_zero() -> None:
    # Only health_checks targets are agents whose absence another alert reports.
    assert observe("tcp", ("dht-bootstrap",), False, False, None, (), reason="refused") == [
        Observation("dht-bootstrap", 0.0)
    ]


def test_nothing_observed_scores_zero_not_nan() -> None:
    scores = component_scores([], COMPONENTS)
    assert scores == dict.fromkeys(COMPONENTS, 0.0)
    assert system_score(scores, dict.fromkeys(COMPONENTS, 0.2)) == 0.0
    assert system_score({}, {"dht": 0.25}) == 0.0


def test_a_refused_result_counts_no_check_but_its_probe_failure() -> None:
    state = ExporterState()
    state.record(_result("refused"))
    assert not state.checks_passed and not state.checks_failed
    assert state.probe_failures == {(c, "agent:8081", "refused"): 1 for c in COMPONENTS}


@pytest.mark.parametrize("reason", ["timeout", "reset", "bad_status", "malformed"])
def test_other_failures_count_every_mapped_check_failed(reason: str) -> None:
    state = ExporterState()
    state.record(_result(reason))
    assert state.checks_failed == {(c, k): 1 for k, c in MAPPED}
    assert set(state.checks_passed.values()) == {0}
    assert state.probe_failures == {(c, "agent:8081", reason): 1 for c in COMPONENTS}


def test_one_agent_refusing_leaves_the_scores_and_checks_to_the_others(
    sim: Simulator, exporter_for: RunningExporter
) -> None:
    sim.set_fault("agent_down", agent=1)
    exporter_for.run_round()
    samples = exporter_for.metrics()
    down = sim.agent_targets[1]
    assert value(samples, SYSTEM_HEALTH_SCORE) == 1.0
    for component in COMPONENTS:
        assert value(samples, COMPONENT_HEALTH_SCORE, component=component) == 1.0
        assert value(samples, PROBE_SUCCESS, component=component, target=down) == 0.0
        assert (
            value(
                samples, EXPORTER_PROBE_FAILURES, component=component, target=down, reason="refused"
            )
            == 1.0
        )
    for check, component in CHECKS.items():
        assert value(samples, HEALTH_CHECKS_PASSED, component=component, check=check) == 2.0
        assert value(samples, HEALTH_CHECKS_FAILED, component=component, check=check) == 0.0
    for up in (sim.agent_targets[0], sim.agent_targets[2]):
        assert value(samples, PROBE_SUCCESS, component="dht", target=up) == 1.0


def test_a_hung_agent_still_fails_its_checks(sim: Simulator, exporter_for: RunningExporter) -> None:
    sim.set_fault("hung_checks", agent=0)
    exporter_for.run_round()
    samples = exporter_for.metrics()
    hung = sim.agent_targets[0]
    assert value(samples, SYSTEM_HEALTH_SCORE) == pytest.approx(2 / 3, abs=1e-6)
    for check, component in CHECKS.items():
        assert value(samples, HEALTH_CHECKS_FAILED, component=component, check=check) == 1.0
        assert value(samples, HEALTH_CHECKS_PASSED, component=component, check=check) == 2.0
    assert value(samples, EXPORTER_PROBE_FAILURES, component="dht", target=hung, reason="timeout")
    assert (
        EXPORTER_PROBE_FAILURES,
        (("component", "dht"), ("reason", "refused"), ("target", hung)),
    ) not in samples


def test_every_agent_refusing_scores_zero(sim: Simulator, exporter_for: RunningExporter) -> None:
    sim.set_fault("agent_down")
    exporter_for.run_round()
    samples = exporter_for.metrics()
    assert value(samples, SYSTEM_HEALTH_SCORE) == 0.0
    for component in COMPONENTS:
        assert value(samples, COMPONENT_HEALTH_SCORE, component=component) == 0.0
    for target in sim.agent_targets:
        assert value(samples, PROBE_SUCCESS, component="dht", target=target) == 0.0
        assert value(
            samples, EXPORTER_PROBE_FAILURES, component="dht", target=target, reason="refused"
        )
    assert _checks(samples, HEALTH_CHECKS_PASSED) == _checks(samples, HEALTH_CHECKS_FAILED) == 0.0


def test_a_failing_agent_beside_a_refusing_one_still_burns(
    sim: Simulator, exporter_for: RunningExporter
) -> None:
    sim.set_fault("agent_down", agent=2)
    sim.set_fault("component_unhealthy", agent=0, component="slurp")
    exporter_for.run_round()
    samples = exporter_for.metrics()
    # slurp: agent 0 fails, agent 1 passes, agent 2 is not there.
    assert value(samples, COMPONENT_HEALTH_SCORE, component="slurp") == 0.5
    assert value(samples, HEALTH_CHECKS_FAILED, component="slurp", check="slurp-health") == 1.0
    assert value(samples, HEALTH_CHECKS_PASSED, component="slurp", check="slurp-health") == 1.0
    for component in ("dht", "election", "pubsub", "ucxi"):
        assert value(samples, COMPONENT_HEALTH_SCORE, component=component) == 1.0
        check = f"{component}-health"
        assert value(samples, HEALTH_CHECKS_FAILED, component=component, check=check) == 0.0
        assert value(samples, HEALTH_CHECKS_PASSED, component=component, check=check) == 2.0
    assert _checks(samples, HEALTH_CHECKS_FAILED) == 1.0
