"""Fixtures: a simulator, and an exporter probing it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from exporter_testkit import RunningExporter, agent_probe, config_data

from bzzzmon.exporter.config import parse_config
from bzzzmon.sim import Simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(agents=3, tick=0.1).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def exporter_for(sim: Simulator) -> Iterator[RunningExporter]:
    """An exporter probing the simulator's agents (/health/checks), rounds run on demand."""
    config = parse_config(config_data([agent_probe(sim.agent_targets)]))
    sim.clear_faults()
    with RunningExporter(config) as running:
        yield running
    sim.clear_faults()
