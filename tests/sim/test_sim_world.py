"""The world around the agents the simulator serves on request: the DHT bootstrap nodes (a TCP
listener each), the agents' containers under cAdvisor's names, and the backup dumps - and the
faults that take them down, push them to their limits or spoil them."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_sim_contract import get

from bzzzmon.sim import Simulator
from bzzzmon.sim.cadvisor import CPU_PERIOD, CPU_QUOTA, MEMORY_LIMIT

NODES = ["walnut:9101", "ironwood:9102", "acacia:9103"]


def accepts(target: str) -> bool:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Simulator]:
    simulator = Simulator(
        agents=2,
        tick=0.05,
        control_port=None,
        bootstrap_nodes=NODES,
        cadvisor_port=0,
        backup_patterns=[f"{tmp_path}/bzzz_*.sql.gz"],
    ).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def test_bootstrap_nodes_go_down_one_or_all_and_come_back(sim: Simulator) -> None:
    targets = sim.bootstrap_targets
    assert list(targets) == NODES
    assert len(set(targets.values())) == 3
    assert all(accepts(t) for t in targets.values())
    sim.set_fault("bootstrap_down", node="ironwood")
    assert [accepts(targets[n]) for n in NODES] == [True, False, True]
    sim.set_fault("bootstrap_down")  # node defaults to all
    assert not any(accepts(t) for t in targets.values())
    sim.clear_faults("bootstrap_down")
    assert all(accepts(t) for t in targets.values())
    assert sim.bootstrap_targets == targets  # back on the ports the exporter probes


@pytest.mark.parametrize(
    ("name", "agent", "params", "message"),
    [
        ("bootstrap_down", None, {"node": "oak"}, "node must be one of all, walnut, ironwood"),
        ("bootstrap_down", 0, {}, "is not an agent's fault: agent must be null"),
        ("backup_empty", 1, {}, "is not an agent's fault"),
        ("container_cpu_high", 0, {"ratio": 2}, "ratio must be a number from 0 to 1"),
    ],
)
def test_bad_world_fault_requests_are_refused(
    sim: Simulator, name: str, agent: int | None, params: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sim.set_fault(name, agent, **params)
    assert sim.active_faults() == []


def _cadvisor(sim: Simulator) -> dict[tuple[str, str], float]:
    _status, body = get(f"http://{sim.cadvisor_target}/metrics")
    return {
        (s.name, s.labels.get("name", "")): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_cadvisor_names_each_agents_container_and_faults_push_it_to_its_limits(
    sim: Simulator,
) -> None:
    before = _cadvisor(sim)
    names = sorted({name for _metric, name in before if name})
    assert len(names) == 2 and names[0].startswith("bzzz-v2_bzzz-agent.1.")
    assert ("container_memory_working_set_bytes", "") in before  # the root cgroup, unnamed
    assert before[("container_spec_memory_limit_bytes", names[0])] == MEMORY_LIMIT
    assert before[("container_spec_cpu_quota", names[0])] == CPU_QUOTA
    assert before[("container_spec_cpu_period", names[0])] == CPU_PERIOD
    assert before[("container_memory_working_set_bytes", names[1])] / MEMORY_LIMIT < 0.7

    sim.set_fault("container_memory_high", 1, ratio=0.95)
    sim.set_fault("container_cpu_high", 1, ratio=0.97)
    start = _cadvisor(sim)
    time.sleep(1.0)
    end = _cadvisor(sim)
    cpu = "container_cpu_usage_seconds_total"
    cores = CPU_QUOTA / CPU_PERIOD
    assert end[("container_memory_working_set_bytes", names[1])] == 0.95 * MEMORY_LIMIT
    assert (end[(cpu, names[1])] - start[(cpu, names[1])]) / cores > 0.9  # per second: > 90%
    # The other agent's container is not touched.
    assert end[("container_memory_working_set_bytes", names[0])] / MEMORY_LIMIT < 0.7
    assert (end[(cpu, names[0])] - start[(cpu, names[0])]) / cores < 0.5


def test_backup_faults_age_the_dump_or_leave_an_empty_newest_one(
    sim: Simulator, tmp_path: Path
) -> None:
    (dump,) = sim.backups.files
    assert dump == tmp_path / "bzzz_stack.sql.gz"
    assert dump.stat().st_size == 4096 and time.time() - dump.stat().st_mtime < 60

    sim.set_fault("backup_too_old", age=2 * 86400)
    assert 2 * 86400 <= time.time() - dump.stat().st_mtime < 2 * 86400 + 60
    sim.clear_faults("backup_too_old")
    assert time.time() - dump.stat().st_mtime < 60

    sim.set_fault("backup_empty")
    files = sorted(tmp_path.iterdir(), key=lambda p: p.stat().st_mtime)
    assert [p.name for p in files] == ["bzzz_stack.sql.gz", "bzzz_stack-empty.sql.gz"]
    assert files[-1].stat().st_size == 0
    sim.clear_faults()
    assert list(tmp_path.iterdir()) == [dump]
    old = time.time() - 3600
    os.utime(dump, (old, old))
    sim.clear_faults()  # clearing no backup fault leaves a dump alone
    assert dump.stat().st_mtime == pytest.approx(old)
