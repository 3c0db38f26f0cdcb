"""The simulator serves the BZZZ agent contract and switches faults at run time."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from bzzzmon.cli.sim_cmd import sim as sim_command
from bzzzmon.conventions import (
    AGENT_DHT_GET,
    AGENT_DHT_LATENCY,
    AGENT_DHT_PUT,
    AGENT_DHT_REPLICATION,
    AGENT_ELECTION_STATE,
    AGENT_HEALTH_CHECK_NAMES,
    AGENT_LEADER_CHANGES,
    AGENT_METRICS,
    AGENT_PEERS,
    AGENT_PUBSUB_MESSAGES,
)
from bzzzmon.sim import Simulator


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def request(url: str, method: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def metrics(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    _status, body = get(url + "/metrics")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def types(url: str) -> dict[str, str]:
    _status, body = get(url + "/metrics")
    return {f.name: f.type for f in text_string_to_metric_families(body.decode())}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(agents=3, tick=0.05).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(autouse=True)
def no_faults(sim: Simulator) -> Iterator[None]:
    sim.clear_faults()
    yield
    sim.clear_faults()


def test_health_documents_follow_the_contract(sim: Simulator) -> None:
    for url in sim.agent_urls:
        status, body = get(url + "/health")
        assert status == 200 and json.loads(body)["status"] == "healthy"
        status, body = get(url + "/health/checks")
        document = json.loads(body)
        assert document["status"] == "healthy"
        assert sorted(document["checks"]) == sorted(AGENT_HEALTH_CHECK_NAMES)
        for name, check in document["checks"].items():
            assert check["component"] == name.removesuffix("-health")
            assert set(check) == {"status", "component", "message", "duration_ms"}


def test_metrics_follow_the_contract(sim: Simulator) -> None:
    url = sim.agent_urls[0]
    found = types(url)
    for name, kind in AGENT_METRICS.items():
        family = name.removesuffix("_total") if kind == "counter" else name
        assert found.get(family) == kind, name
    assert found.get("process_resident_memory_bytes") == "gauge"
    samples = metrics(url)
    buckets = {
        dict(labels)["le"] for (name, labels) in samples if name == AGENT_DHT_LATENCY + "_bucket"
    }
    assert {"0.05", "0.1", "0.25", "0.5", "1.0", "2.5"} <= buckets
    assert samples[(AGENT_DHT_REPLICATION, ())] == 3.0
    assert samples[(AGENT_PEERS, ())] >= 3


def test_counters_grow_and_one_admin_is_elected(sim: Simulator) -> None:
    key = (AGENT_PUBSUB_MESSAGES, (("direction", "in"),))
    before = metrics(sim.agent_urls[0])[key]
    time.sleep(0.5)
    assert metrics(sim.agent_urls[0])[key] > before
    admins = [metrics(url)[(AGENT_ELECTION_STATE, (("state", "admin"),))] for url in sim.agent_urls]
    assert sorted(admins) == [0.0, 0.0, 1.0]


def test_faults_from_python(sim: Simulator) -> None:
    url = sim.agent_urls[1]
    sim.set_fault("partition", agent=1)
    assert metrics(url)[(AGENT_PEERS, ())] < 3
    assert metrics(sim.agent_urls[0])[(AGENT_PEERS, ())] >= 3  # only agent 1
    sim.set_fault("replication_degraded")
    assert metrics(url)[(AGENT_DHT_REPLICATION, ())] < 2
    sim.set_fault("no_admin")
    for agent_url in sim.agent_urls:
        assert metrics(agent_url)[(AGENT_ELECTION_STATE, (("state", "admin"),))] == 0.0
    sim.clear_faults("no_admin")
    changes = metrics(url)[(AGENT_LEADER_CHANGES, ())]
    sim.set_fault("leader_flapping")
    time.sleep(0.5)
    assert metrics(url)[(AGENT_LEADER_CHANGES, ())] >= changes + 3
    sim.clear_faults()
    sim.set_fault("dht_failure_ratio", ratio=1.0)
    failures = (AGENT_DHT_GET, (("result", "failure"),))
    successes = (AGENT_DHT_PUT, (("result", "success"),))
    before = metrics(url)
    time.sleep(0.4)
    after = metrics(url)
    assert after[failures] > before[failures]
    assert after[successes] == before[successes]  # a ratio of 1: nothing succeeds


def test_health_faults(sim: Simulator) -> None:
    url = sim.agent_urls[2]
    sim.set_fault("component_unhealthy", agent=2, component="slurp")
    checks = json.loads(get(url + "/health/checks")[1])
    assert checks["checks"]["slurp-health"]["status"] == "unhealthy"
    assert checks["status"] == "unhealthy"
    sim.set_fault("malformed_health", agent=2)
    with pytest.raises(ValueError):
        json.loads(get(url + "/health/checks")[1])
    sim.clear_faults()
    sim.set_fault("slow_checks", agent=2, delay=0.3)
    started = time.monotonic()
    assert get(url + "/health")[0] == 200
    assert time.monotonic() - started >= 0.3
    sim.set_fault("hung_checks", agent=2)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        get(url + "/health/checks", timeout=0.5)
    assert get(url + "/metrics")[0] == 200  # only the health endpoints hang


def test_agent_down_refuses_connections_and_comes_back(sim: Simulator) -> None:
    host, port = sim.agent_targets[0].split(":")
    sim.set_fault("agent_down", agent=0)
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port)), 1):
        pass
    sim.clear_faults("agent_down", agent=0)
    assert get(sim.agent_urls[0] + "/health")[0] == 200


def test_control_endpoint(sim: Simulator) -> None:
    control = sim.control_url
    assert control is not None
    status, body = request(
        control + "/faults", "POST", {"name": "dht_failure_ratio", "ratio": 0.25}
    )
    assert status == 200
    assert body["faults"] == [
        {"agent": None, "name": "dht_failure_ratio", "params": {"ratio": 0.25}}
    ]
    status, body = request(control + "/faults", "POST", {"name": "partition", "agent": 1})
    assert status == 200 and len(body["faults"]) == 2
    assert metrics(sim.agent_urls[1])[(AGENT_PEERS, ())] < 3
    status, body = request(control + "/faults/partition?agent=1", "DELETE")
    assert status == 200 and [f["name"] for f in body["faults"]] == ["dht_failure_ratio"]
    status, body = request(control + "/", "GET")
    assert body["agents"] == sim.agent_urls and "hung_checks" in body["fault_names"]
    for bad in (
        {"name": "meteor_strike"},
        {"name": "dht_failure_ratio"},
        {"name": "dht_failure_ratio", "ratio": 3},
        {"name": "partition", "agent": 7},
        {"name": "component_unhealthy", "component": "kernel"},
        {"name": "no_admin", "bogus": 1},
    ):
        status, body = request(control + "/faults", "POST", bad)
        assert status == 400 and body["error"], bad
    status, body = request(control + "/faults", "DELETE")
    assert status == 200 and body["faults"] == [] and sim.active_faults() == []


def test_set_fault_rejects_bad_requests(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        sim.set_fault("meteor_strike")
    with pytest.raises(ValueError, match="ratio"):
        sim.set_fault("dht_failure_ratio")


def test_fixed_base_port_and_cli_port_taken() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    with Simulator(agents=2, base_port=base, control_port=None) as fixed:
        assert fixed.agent_targets == [f"127.0.0.1:{base}", f"127.0.0.1:{base + 1}"]
        result = CliRunner().invoke(
            sim_command, ["--agents", "2", "--base-port", str(base), "--control-port", "0"]
        )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_cli_serves_until_interrupted() -> None:
    code = "from bzzzmon.cli.sim_cmd import sim; sim(prog_name='bzzzmon sim')"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--agents", "2", "--base-port", "0", "--control-port", "0"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # "agent 0: http://127.0.0.1:PORT/health/checks ..."
        url = first.split()[2].removesuffix("/health/checks")
        assert json.loads(get(url + "/health/checks")[1])["status"] == "healthy"
        # Interrupted while it may still be printing its banner: that too must stop cleanly.
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)  # a hang guard on a loaded machine
    assert process.returncode == 0, err
    assert "Traceback" not in err
