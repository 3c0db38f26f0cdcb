"""``promtool check metrics`` finds nothing to report in the exporter's /metrics."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

from exporter_testkit import RunningExporter, agent_probe, config_data, http_get
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from bzzzmon.exporter.config import parse_config
from bzzzmon.sim import Simulator


def promtool_check(text: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (Debian package prometheus)"
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=text.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    return (result.stdout + result.stderr).decode().strip() + (
        f" (exit {result.returncode})" if result.returncode else ""
    )


def test_exporter_metrics_pass_promtool(sim: Simulator) -> None:
    probes = [
        agent_probe([*sim.agent_targets, "127.0.0.1:1"]),
        {
            "name": "dht-bootstrap",
            "type": "tcp",
            "component": "dht",
            "targets": {
                "static": [sim.agent_targets[0]],
                "dns": [{"name": "no-such.invalid", "port": 9}],
            },
        },
    ]
    config = parse_config(config_data(probes))
    sim.set_fault("component_unhealthy", agent=2, component="ucxi")
    try:
        with RunningExporter(config) as exporter:
            exporter.run_round()
            status, text = exporter.get("/metrics")
    finally:
        sim.clear_faults()
    assert status == 200
    # Every kind of series is present, so promtool sees all of them.
    for needle in (
        "bzzz_system_health_score ",
        "bzzz_exporter_probe_failures_total{",
        'reason="dns"',
        'reason="refused"',
        "bzzz_health_checks_failed_total{",
        "bzzz_probe_duration_seconds_bucket{",
    ):
        assert needle in text
    assert promtool_check(text) == ""


def test_simulated_agent_metrics_pass_promtool(sim: Simulator) -> None:
    status, text = http_get(sim.agent_urls[0] + "/metrics")
    assert status == 200
    assert promtool_check(text) == ""


def test_page_is_what_prometheus_client_would_write(sim: Simulator) -> None:
    """The page is written as text directly; parsed and written again by prometheus_client's
    own ``generate_latest`` it comes out byte for byte the same."""
    probes = [agent_probe([*sim.agent_targets, "127.0.0.1:1"])]
    with RunningExporter(parse_config(config_data(probes))) as exporter:
        exporter.run_round()
        exporter.run_round()
        text = exporter.get("/metrics")[1]
    families = list(text_string_to_metric_families(text))
    assert any(f.name == "bzzz_exporter_probe_failures" for f in families)

    class Replay(Collector):
        def collect(self) -> Iterator[Metric]:
            yield from families

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Replay())
    assert generate_latest(registry).decode() == text
