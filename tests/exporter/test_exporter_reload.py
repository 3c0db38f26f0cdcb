"""Config reload (SIGHUP) keeps counters; a bad config keeps the old one in force."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from exporter_testkit import (
    RunningExporter,
    agent_probe,
    config_data,
    free_port,
    http_get,
    parse_samples,
    value,
    wait_for,
)

from bzzzmon.conventions import (
    EXPORTER_CONFIG_LAST_RELOAD_OK,
    EXPORTER_CONFIG_RELOADS,
    HEALTH_CHECKS_PASSED,
    PROBE_SUCCESS,
)
from bzzzmon.exporter.config import load_config
from bzzzmon.sim import Simulator

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def with_tcp_probe(data: dict[str, Any], target: str) -> dict[str, Any]:
    tcp = {"name": "dht-bootstrap", "type": "tcp", "component": "dht"}
    tcp["targets"] = {"static": [target]}
    return {**data, "probes": [*data["probes"], tcp]}


def passed(samples: dict[Any, float]) -> float:
    return value(samples, HEALTH_CHECKS_PASSED, component="dht", check="dht-health")


def test_reload_keeps_counters_and_rejects_bad_config(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    data = config_data([agent_probe(sim.agent_targets)])
    write(path, data)
    with RunningExporter(load_config(path), config_path=str(path)) as exporter:
        exporter.run_round()
        before = passed(exporter.metrics())
        assert before == 3.0

        write(path, with_tcp_probe(data, sim.agent_targets[0]))
        assert exporter.reload() is True
        exporter.run_round()
        samples = exporter.metrics()
        assert passed(samples) == 6.0  # kept, and counting on
        assert value(samples, EXPORTER_CONFIG_RELOADS) == 1.0
        assert value(samples, EXPORTER_CONFIG_LAST_RELOAD_OK) == 1.0
        assert ("dht-bootstrap", sim.agent_targets[0]) in exporter.service.state.results

        path.write_text("probe_interval: [not a duration\n")
        assert exporter.reload() is False
        exporter.run_round()
        samples = exporter.metrics()
        assert passed(samples) == 9.0  # the previous config still probes
        assert value(samples, EXPORTER_CONFIG_RELOADS) == 2.0
        assert value(samples, EXPORTER_CONFIG_LAST_RELOAD_OK) == 0.0


def test_sighup_reloads_a_running_exporter(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "exporter.yml"
    data = config_data(
        [agent_probe(sim.agent_targets)], probe_interval="200ms", probe_timeout="150ms"
    )
    write(path, data)
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "bzzzmon.exporter", "--config", str(path)]
    process = subprocess.Popen(
        [*command, "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def counted() -> float | None:
            assert process.poll() is None, process.communicate()[1].decode()
            checks = passed(parse_samples(http_get(url)[1]))
            return checks if checks >= 3 else None

        before = wait_for(counted)
        write(path, with_tcp_probe(data, sim.agent_targets[1]))
        process.send_signal(signal.SIGHUP)

        def reloaded() -> dict[Any, float] | None:
            samples = parse_samples(http_get(url)[1])
            if value(samples, EXPORTER_CONFIG_RELOADS) < 1:
                return None
            value(samples, PROBE_SUCCESS, component="dht", target=sim.agent_targets[1])
            return samples

        samples = wait_for(reloaded)
        assert value(samples, EXPORTER_CONFIG_LAST_RELOAD_OK) == 1.0
        assert passed(samples) >= before
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
