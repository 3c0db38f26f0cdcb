"""A round's schedule: at most ``concurrency`` probes at once, every target once, none before its
jitter offset (the probe loop runs ``concurrency`` workers, not a task per target)."""

from __future__ import annotations

import asyncio
import time

from exporter_testkit import config_data

from bzzzmon.exporter.config import parse_config
from bzzzmon.exporter.scheduler import ProbeScheduler, jitter_offset
from bzzzmon.exporter.state import ExporterState

HOLD_SECONDS = 0.05


class CountingTargets:
    """``count`` listeners on 127.0.0.1 answering 200 after HOLD_SECONDS; records how many
    requests were in flight at once and when each target was first asked."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrivals: dict[str, list[float]] = {}
        self.servers: list[asyncio.Server] = []

    async def start(self, count: int) -> list[str]:
        targets = []
        for _ in range(count):
            server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
            self.servers.append(server)
            targets.append(f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
        return targets

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        port = writer.get_extra_info("sockname")[1]
        self.arrivals.setdefault(f"127.0.0.1:{port}", []).append(time.monotonic())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(HOLD_SECONDS)
        self.in_flight -= 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    def close(self) -> None:
        for server in self.servers:
            server.close()


def status_probe(targets: list[str]) -> dict[str, object]:
    return {
        "name": "status",
        "type": "http_status",
        "component": "dht",
        "path": "/",
        "targets": {"static": targets},
    }


async def one_round(count: int, **overrides: object) -> tuple[CountingTargets, list[str], float]:
    counting = CountingTargets()
    targets = await counting.start(count)
    components = [{"name": "dht", "weight": 1}, {"name": "exporter", "weight": 0}]
    data = config_data([status_probe(targets)], components=components, checks={}, **overrides)
    scheduler = ProbeScheduler(parse_config(data), ExporterState())
    try:
        started = time.monotonic()
        await scheduler.run_round()
        assert scheduler.state.rounds == 1
        assert all(r.outcome.success for r in scheduler.state.results.values())
    finally:
        await scheduler.close()
        counting.close()
    return counting, targets, started


def test_a_round_probes_every_target_once_and_at_most_concurrency_at_once() -> None:
    counting, targets, _started = asyncio.run(one_round(40, concurrency=4))
    assert sorted(counting.arrivals) == sorted(targets)
    assert all(len(times) == 1 for times in counting.arrivals.values())
    # Ten targets per slot, each held 50 ms: the slots were all used, and never one more.
    assert counting.most_in_flight == 4


def test_no_target_is_probed_before_its_jitter_offset() -> None:
    # jitter 0.5 of a 2 s interval: offsets spread over [0, 1) s, so the round is not all at once.
    counting, targets, started = asyncio.run(
        one_round(12, concurrency=2, probe_interval="2s", jitter=0.5)
    )
    offsets = {t: jitter_offset("status", t, 1.0) for t in targets}
    for target, (arrived,) in counting.arrivals.items():
        assert arrived - started >= offsets[target] - 0.01, target
    assert max(arrived for (arrived,) in counting.arrivals.values()) - started > 0.5
