"""Test helpers: config builders, an exporter served from a background loop, metric parsing."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

from bzzzmon.exporter.config import ExporterConfig
from bzzzmon.exporter.connections import HEADER_TIMEOUT, MAX_CONNECTIONS, ConnectionGate
from bzzzmon.exporter.server import Serving
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.webconfig import WebConfig

T = TypeVar("T")
COMPONENT_WEIGHTS = [
    ("pubsub", 0.2),
    ("dht", 0.25),
    ("election", 0.25),
    ("slurp", 0.15),
    ("ucxi", 0.15),
    ("exporter", 0),
]
CHECKS = {f"{c}-health": c for c, _w in COMPONENT_WEIGHTS if c != "exporter"}


def config_data(probes: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """An exporter.yml mapping (the generated shape) with fast timings for tests."""
    data: dict[str, Any] = {
        "service": "bzzz",
        "probe_interval": "10s",
        "probe_timeout": "1s",
        "max_result_age": "30s",
        "concurrency": 16,
        "jitter": 0,
        "max_body_bytes": 1048576,
        "components": [{"name": n, "weight": w} for n, w in COMPONENT_WEIGHTS],
        "checks": dict(CHECKS),
        "probes": probes,
    }
    data.update(overrides)
    return data


def agent_probe(targets: list[str]) -> dict[str, Any]:
    return {
        "name": "agent-health-checks",
        "type": "health_checks",
        "path": "/health/checks",
        "targets": {"static": targets},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RunningExporter:
    """An exporter (service + web app) on 127.0.0.1 in its own thread and event loop."""

    def __init__(
        self,
        config: ExporterConfig,
        web_config: WebConfig | None = None,
        background: bool = False,
        config_path: str | None = None,
        clock: Callable[[], float] = time.time,
        connection_cap: int = MAX_CONNECTIONS,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self.connection_cap = connection_cap
        self.header_timeout = header_timeout
        self.service = ExporterService(config, web=web_config, config_path=config_path, clock=clock)
        self.port = free_port()
        self.scheme = "https" if web_config and web_config.ssl_context else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._background = background
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._serving: Serving | None = None

    def __enter__(self) -> RunningExporter:
        self._thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        self.call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self.service.bind(asyncio.get_running_loop())
        self._serving = Serving(self.service, self.connection_cap, self.header_timeout)
        await self._serving.start("127.0.0.1", self.port)
        if self._background:
            await self.service.start()

    async def _stop(self) -> None:
        if self._serving is not None:
            await self._serving.stop()
        await self.service.close()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call_soon(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def service_gate(self) -> ConnectionGate:
        assert self._serving is not None
        return self._serving.gate

    def run_round(self) -> None:
        self.call(self.service.scheduler.run_round())

    def reload(self) -> bool:
        return self.call(self.service.reload())

    def get(
        self, path: str, timeout: float = 5, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        return http_get(self.url + path, timeout, headers)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        status, text = self.get("/metrics")
        assert status == 200
        return parse_samples(text)


def http_get(
    url: str,
    timeout: float = 5,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def parse_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


REPO = Path(__file__).resolve().parents[2]


class ExporterProcess:
    """``python -m bzzzmon.exporter`` as a child process on a free 127.0.0.1 port.

    ``open_files`` lowers RLIMIT_NOFILE (soft and hard, so the exporter cannot raise it) in the
    child before it starts."""

    def __init__(
        self,
        config_path: Path,
        web_config: Path | None = None,
        open_files: int | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "bzzzmon.exporter", "--config", str(config_path)]
        command += ["--listen", f"127.0.0.1:{self.port}"]
        if web_config is not None:
            command += ["--web-config", str(web_config)]
        self._command = command
        self._open_files = open_files
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr = b""

    def _limit(self) -> None:
        if self._open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self._open_files, self._open_files))

    def __enter__(self) -> ExporterProcess:
        self.process = subprocess.Popen(
            self._command,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=self._limit,
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        _out, self.stderr = self.process.communicate(timeout=15)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def wait_for(condition: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll ``condition`` until it returns something truthy (connection errors count as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except (OSError, KeyError):
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
