"""A probe that timed out because the exporter's own loop was starved does not fail its target;
a target that is really slow still does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from exporter_testkit import RunningExporter, config_data

from bzzzmon.conventions import EXPORTER_PROBE_FAILURES, EXPORTER_UNMEASURED_PROBES, PROBE_SUCCESS
from bzzzmon.exporter.config import parse_config


class Agent:
    """A healthy /health in a thread of its own; ``on_request`` runs before each answer."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.on_request: Any = None
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if agent.on_request is not None:
                    agent.on_request()
                time.sleep(agent.delay)
                body = json.dumps({"status": "healthy"}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.target = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def agent() -> Iterator[Agent]:
    running = Agent()
    yield running
    running.close()


def starved_exporter(agent: Agent) -> RunningExporter:
    probe = {"name": "agent", "type": "health", "component": "pubsub"}
    data = config_data([probe | {"targets": {"static": [agent.target]}}], checks={})
    data["probe_timeout"] = "500ms"
    data["components"] = [{"name": "pubsub", "weight": 1}, {"name": "exporter", "weight": 0}]
    return RunningExporter(parse_config(data))


async def _start_lag(exporter: RunningExporter) -> None:
    exporter.service.scheduler.lag.start()


def test_a_starved_loop_is_not_the_targets_fault(agent: Agent) -> None:
    with starved_exporter(agent) as exporter:
        exporter.call(_start_lag(exporter))
        exporter.run_round()
        assert exporter.metrics()[(PROBE_SUCCESS, _labels(agent))] == 1.0
        # While the probe waits for its answer, the probe loop is blocked for twice the timeout
        # (as a CPU-starved process would be): the timeout fires, and must not count.
        agent.delay = 0.2
        agent.on_request = lambda: exporter._loop.call_soon_threadsafe(time.sleep, 1.0)
        exporter.run_round()
        samples = exporter.metrics()
    assert samples[(EXPORTER_UNMEASURED_PROBES, ())] == 1.0
    assert samples[(PROBE_SUCCESS, _labels(agent))] == 1.0  # the previous result stands
    assert not [k for k in samples if k[0] == EXPORTER_PROBE_FAILURES]


def test_a_slow_target_still_times_out(agent: Agent) -> None:
    with starved_exporter(agent) as exporter:
        exporter.call(_start_lag(exporter))
        agent.delay = 1.0  # the loop runs freely; the target is what is slow
        exporter.run_round()
        samples = exporter.metrics()
    assert samples[(EXPORTER_UNMEASURED_PROBES, ())] == 0.0
    assert samples[(PROBE_SUCCESS, _labels(agent))] == 0.0
    labels = (("component", "pubsub"), ("reason", "timeout"), ("target", agent.target))
    assert samples[(EXPORTER_PROBE_FAILURES, labels)] == 1.0


def _labels(agent: Agent) -> tuple[tuple[str, str], ...]:
    return (("component", "pubsub"), ("target", agent.target))
