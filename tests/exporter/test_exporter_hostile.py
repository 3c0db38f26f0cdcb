"""Hostile targets are recorded as failed with their reason; /metrics stays fast meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest
from exporter_testkit import RunningExporter, agent_probe, config_data, http_get, value

from bzzzmon.conventions import EXPORTER_PROBE_FAILURES, PROBE_SUCCESS
from bzzzmon.exporter.config import parse_config
from bzzzmon.exporter.probes import new_session, run_probe

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
HUGE_BODY = 100 * 1024 * 1024


async def _read_request(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    await asyncio.sleep(3600)


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    sock = writer.get_extra_info("socket")
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b"\x00\xffSSH-2.0-not-http \x01\x02\r\n\r\n\xde\xad\xbe\xef" * 10)
    await writer.drain()
    writer.close()


async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """100 MB of JSON-ish bytes, chunked (no Content-Length), streamed without allocating it."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    try:
        while sent < HUGE_BODY:
            writer.write(framed)
            await writer.drain()
            sent += len(chunk)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass  # the exporter hung up once it had enough: the point of the test
    writer.close()


async def error_500(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    body = b'{"status": "healthy"}'
    writer.write(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    writer.close()


async def one_byte_per_second(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    answer = b'HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{"status": "healthy"}'
    for byte in answer:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(1)


BEHAVIOURS: dict[str, tuple[Behaviour, str]] = {
    "hang": (hang, "timeout"),
    "reset": (reset, "reset"),
    "garbage": (garbage, "malformed"),
    "huge": (huge, "too_large"),
    "error_500": (error_500, "bad_status"),
    "one_byte_per_second": (one_byte_per_second, "timeout"),
}


class HostileServers:
    """One listener per behaviour on 127.0.0.1, served from a background event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.targets: dict[str, str] = {}
        self._servers: list[asyncio.Server] = []

    def __enter__(self) -> HostileServers:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        for name, (behaviour, _reason) in BEHAVIOURS.items():
            server = await asyncio.start_server(_guarded(behaviour), "127.0.0.1", 0)
            self._servers.append(server)
            self.targets[name] = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _guarded(behaviour: Behaviour) -> Behaviour:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # CancelledError too: the servers' tasks are cancelled at teardown, quietly.
        with contextlib.suppress(
            ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError
        ):
            await behaviour(reader, writer)

    return handle


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServers]:
    with HostileServers() as servers:
        yield servers


def test_hostile_targets_fail_with_their_reason(hostile: HostileServers) -> None:
    probes = [
        {
            "name": f"hostile-{name}",
            "type": "health",
            "component": "slurp",
            "targets": {"static": [target]},
        }
        for name, target in hostile.targets.items()
    ]
    probes.append(
        {
            "name": "checks",
            "type": "health_checks",
            "targets": {"static": [hostile.targets["garbage"]]},
        }
    )
    config = parse_config(config_data(probes, probe_timeout="1500ms", max_body_bytes=65536))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with RunningExporter(config) as exporter:
        round_done = exporter.call_soon(exporter.service.scheduler.run_round())
        # While hanging and trickling targets hold the round open, /metrics answers at once.
        time.sleep(0.3)
        for _ in range(3):
            started = time.monotonic()
            status, _text = http_get(exporter.url + "/metrics", timeout=2)
            assert status == 200
            assert time.monotonic() - started < 2.0
        assert not round_done.done(), "the round should still be waiting on hanging targets"
        round_done.result(timeout=10)
        samples = exporter.metrics()
    for name, (_behaviour, reason) in BEHAVIOURS.items():
        target = hostile.targets[name]
        assert value(samples, PROBE_SUCCESS, component="slurp", target=target) == 0.0, name
        got = value(
            samples, EXPORTER_PROBE_FAILURES, component="slurp", target=target, reason=reason
        )
        # The health_checks probe below also covers slurp on the garbage target.
        assert got == (2.0 if name == "garbage" else 1.0), name
    # health_checks against garbage: every covered component records the failure.
    garbage_target = hostile.targets["garbage"]
    for component in ("pubsub", "dht", "election", "ucxi"):
        got = value(
            samples,
            EXPORTER_PROBE_FAILURES,
            component=component,
            target=garbage_target,
            reason="malformed",
        )
        assert got == 1.0
    # 100 MB was offered; memory grew by far less (ru_maxrss is in KiB on Linux).
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 50


def test_no_request_parameter_names_a_target() -> None:
    config = parse_config(config_data([agent_probe(["127.0.0.1:1"])]))
    with RunningExporter(config) as exporter:
        for path in (
            "/probe?target=127.0.0.1:22",
            "/metrics?target=127.0.0.1:22",
            "/?module=http&target=x",
        ):
            status, text = exporter.get(path)
            assert "127.0.0.1:22" not in text
            assert status in (200, 404)
        exporter.run_round()
        assert set(exporter.service.state.results) == {("agent-health-checks", "127.0.0.1:1")}


def test_tcp_probe_of_a_target_that_accepts_then_resets_is_stable() -> None:
    """Documented meaning: a TCP probe passes once the handshake completes; a reset right after
    (racing the connect's completion or not) does not flip it."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def accept_and_reset() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=accept_and_reset, daemon=True)
    thread.start()
    tcp = {"name": "t", "type": "tcp", "component": "dht", "targets": {"static": ["x:1"]}}
    config = parse_config(config_data([agent_probe(["127.0.0.1:1"]), tcp]))

    async def probe_many() -> list[tuple[bool, str | None]]:
        session = new_session(0)
        try:
            outcomes = [
                await run_probe(
                    session, config.probes[1], f"127.0.0.1:{port}", 1.0, 1024, {}, frozenset()
                )
                for _ in range(40)
            ]
        finally:
            await session.close()
        return [(o.success, o.reason) for o in outcomes]

    try:
        results = asyncio.run(probe_many())
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert set(results) == {(True, None)}, Counter(results)
