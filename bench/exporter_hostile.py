"""The exporter under attack, for bench/exporter_bench.py (``--hostile-seconds``).

One exporter process (RLIMIT_NOFILE lowered to 1,024 soft AND hard, systemd's default soft limit,
so it cannot raise it), basic auth with a cost-10 bcrypt hash, probing every 1 s:

- the healthy targets (``health_checks``, the five weighted components), and
- seven hostile targets (component ``hostile``, weight 0, so they cannot move the system score
  by design): hang, reset, garbage, a 100 MB chunked body, a one-byte-per-second drip, HTTP 500,
  and a 200 with a body that is not JSON.

For ``seconds``, at the same time: 32 clients sending fresh wrong passwords (half for the real
user, half for unknown users), 1,100 connections that send half a request and stall, and one
authorised scraper every 100 ms. Recorded: the scraper's latency (p50/p99/max) and status codes,
every scrape's system score, how many healthy (component, target) results were ever not 1, the
flood's status codes, the exporter's log lines, RSS.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import resource
import secrets
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import bcrypt
from prometheus_client.parser import text_string_to_metric_families

HOSTILE_SERVER = textwrap.dedent(
    r"""
    import asyncio, json, socket, struct

    async def request(reader):
        await reader.readuntil(b"\r\n\r\n")

    async def hang(reader, writer):
        await request(reader); await asyncio.sleep(3600)

    async def reset(reader, writer):
        await request(reader)
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def garbage(reader, writer):
        await request(reader)
        writer.write(b"\x00\xffSSH-2.0-not-http\r\n\r\n" * 10); await writer.drain()

    async def huge(reader, writer):
        await request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b" " * 65536
        for _ in range(1600):  # 100 MB
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk)); await writer.drain()

    async def drip(reader, writer):
        await request(reader)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\n{\"status\": \"healthy\"}":
            writer.write(bytes([byte])); await writer.drain(); await asyncio.sleep(1)

    def answer(status, body):
        return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)

    async def error_500(reader, writer):
        await request(reader); writer.write(answer(b"500 Oops", b"{}")); await writer.drain()

    async def bad_json(reader, writer):
        await request(reader)
        writer.write(answer(b"200 OK", b"{\"checks\": [1, 2")); await writer.drain()

    def guarded(behaviour):
        async def handle(reader, writer):
            try:
                await behaviour(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.transport.abort()
        return handle

    async def main():
        ports = {}
        for name, behaviour in [("hang", hang), ("reset", reset), ("garbage", garbage),
                                ("huge_body", huge), ("drip", drip), ("error_500", error_500),
                                ("bad_json", bad_json)]:
            server = await asyncio.start_server(guarded(behaviour), "127.0.0.1", 0)
            ports[name] = server.sockets[0].getsockname()[1]
        print(json.dumps(ports), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PASSWORD = "bench password"
STALLED = 1100
FLOOD_CLIENTS = 32


def samples(text: str) -> dict[str, float]:
    return {
        s.name + (json.dumps(s.labels, sort_keys=True) if s.labels else ""): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def family(pid: int) -> list[int]:
    """``pid`` and its live children: the exporter is a serving and a prober process."""
    found = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live children."""
    total = 0
    for member in family(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def hostile_config(healthy: list[str], hostile: dict[str, str]) -> dict[str, Any]:
    names = ("pubsub", "dht", "election", "slurp", "ucxi")
    probes: list[dict[str, Any]] = [
        {"name": "agents", "type": "health_checks", "targets": {"static": healthy}}
    ]
    probes += [
        {"name": f"hostile-{n}", "type": "health", "component": "hostile"}
        | {"targets": {"static": [t]}}
        for n, t in hostile.items()
    ]
    return {
        "service": "bzzz",
        "probe_interval": "1s",
        "probe_timeout": "900ms",
        "max_result_age": "60s",
        "concurrency": 64,
        "jitter": 0,
        "max_body_bytes": 1048576,
        "components": [{"name": n, "weight": 0.2} for n in names]
        + [{"name": "hostile", "weight": 0}, {"name": "exporter", "weight": 0}],
        "checks": {f"{c}-health": c for c in names},
        "probes": probes,
    }


def _lower_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


async def _flood(url: str, deadline: float, statuses: Counter[int]) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(n: int) -> None:
            user = "prometheus" if n % 2 else f"intruder{n}"
            while time.monotonic() < deadline:
                try:
                    headers = _basic(user, secrets.token_hex(8))
                    async with session.get(url, headers=headers) as response:
                        statuses[response.status] += 1
                except aiohttp.ClientError:
                    statuses[0] += 1
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(client(n) for n in range(FLOOD_CLIENTS)))


async def _stall(port: int, deadline: float) -> int:
    """Open STALLED half-sent requests (re-opening any the exporter closes) until ``deadline``."""
    opened = 0
    writers: list[asyncio.StreamWriter] = []

    async def one() -> None:
        nonlocal opened
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                opened += 1
                writers.append(writer)
                await asyncio.wait_for(reader.read(1), max(0.1, deadline - time.monotonic()))
            except (OSError, TimeoutError):
                pass
            await asyncio.sleep(0.1)  # closed by the exporter: stall again

    await asyncio.gather(*(one() for _ in range(STALLED)))
    for writer in writers:
        writer.transport.abort()
    return opened


def _attackers(url: str, port: int, seconds: float, out: multiprocessing.Queue[Any]) -> None:
    """Both floods, in a process of their own, so the measuring scraper's event loop is not
    theirs (they still share the machine's cores with the exporter, as a local attacker would)."""

    async def both() -> tuple[dict[int, int], int]:
        deadline = time.monotonic() + seconds
        statuses: Counter[int] = Counter()
        _flooded, opened = await asyncio.gather(
            _flood(url, deadline, statuses), _stall(port, deadline)
        )
        return dict(statuses), opened

    out.put(asyncio.run(both()))


class Scrapes:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.scores: Counter[float] = Counter()
        self.healthy_results_not_1 = 0
        self.cpu_percent = 0.0  # the exporter's, over the same period

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return {
            "scrapes": len(ordered),
            "statuses": dict(self.statuses),
            "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99_ms": round(p99 * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
            "system_scores_seen": {str(k): v for k, v in self.scores.items()},
            "healthy_results_not_1": self.healthy_results_not_1,
            "exporter_cpu_percent": round(self.cpu_percent, 1),
        }


async def _scrape_for(
    exporter: Any, session: aiohttp.ClientSession, good: dict[str, str], deadline: float
) -> Scrapes:
    """The authorised scraper: every 100 ms until ``deadline``, recording every healthy result."""
    seen = Scrapes()
    cpu0, wall0 = cpu_seconds(exporter.process.pid), time.monotonic()
    while time.monotonic() < deadline:
        started = time.perf_counter()
        body: bytes | None = None
        try:
            async with session.get(
                exporter.url, headers=good, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                seen.statuses[response.status] += 1
                body = await response.read() if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            seen.statuses[0] += 1
        seen.latencies.append(time.perf_counter() - started)  # the answer only, not parsing it
        if body is not None:
            got = samples(body.decode())
            seen.scores[got.get("bzzz_system_health_score", -1.0)] += 1
            seen.healthy_results_not_1 += sum(
                1
                for k, v in got.items()
                if k.startswith("bzzz_probe_success") and '"hostile"' not in k and v != 1.0
            )
        await asyncio.sleep(0.1)
    seen.cpu_percent = 100 * (cpu_seconds(exporter.process.pid) - cpu0) / (time.monotonic() - wall0)
    return seen


def _healthy_failures(got: dict[str, float]) -> float:
    return sum(
        v
        for k, v in got.items()
        if k.startswith("bzzz_exporter_probe_failures_total") and '"hostile"' not in k
    )


async def measure_hostile(
    workdir: Path, healthy: list[str], seconds: float, exporter_class: Any, memory: Any
) -> dict[str, Any]:
    server = subprocess.Popen(
        [sys.executable, "-c", HOSTILE_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        ports = json.loads(server.stdout.readline())
        hostile = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
        web = workdir / "web.yml"
        web.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
        exporter = exporter_class(
            workdir,
            hostile_config(healthy, hostile),
            web_config=web,
            preexec=_lower_file_limit,
            log=workdir / "exporter.log",
        )
        try:
            return await _attack(exporter, healthy, seconds, memory)
        finally:
            exporter.stop()
    finally:
        server.terminate()
        server.wait(10)


async def _attack(exporter: Any, healthy: list[str], seconds: float, memory: Any) -> dict[str, Any]:
    good = _basic("prometheus", PASSWORD)
    async with aiohttp.ClientSession() as session:
        await exporter.wait_rounds(session, 2, headers=good)
        calm = await _scrape_for(exporter, session, good, time.monotonic() + min(seconds, 5.0))
        before = await exporter.metrics(session, headers=good, timeout=30)
        log_before = exporter.log.stat().st_size
        deadline = time.monotonic() + seconds
        results: multiprocessing.Queue[Any] = multiprocessing.Queue()
        attackers = multiprocessing.Process(
            target=_attackers, args=(exporter.url, exporter.port, seconds, results)
        )
        attackers.start()
        await asyncio.sleep(1.0)  # let the floods build up
        attacked = await _scrape_for(exporter, session, good, deadline)
        flood_statuses, stalled_opened = await asyncio.to_thread(results.get, True, seconds + 30)
        attackers.join(10)
        final = await exporter.metrics(session, headers=good, timeout=10)
    reasons = {
        json.loads(k.split("bzzz_exporter_probe_failures_total", 1)[1])["target"]: k
        for k in final
        if k.startswith("bzzz_exporter_probe_failures_total")
    }
    return {
        "healthy_targets": len(healthy),
        "seconds": seconds,
        "authorised_calm": calm.summary(),
        "authorised_under_attack": attacked.summary(),
        "healthy_probe_failures_during_attack": _healthy_failures(final)
        - _healthy_failures(before),
        # Timed-out probes voided because the exporter's own loop was starved (lag.py).
        "unmeasured_probes_during_attack": final.get("bzzz_exporter_probes_unmeasured_total", 0)
        - before.get("bzzz_exporter_probes_unmeasured_total", 0),
        "hostile_reasons": sorted(
            {json.loads(k.split("_total", 1)[1])["reason"] for k in reasons.values()}
        ),
        "flood_statuses": dict(flood_statuses),
        "stalled_connections_opened": stalled_opened,
        "log_bytes_during_attack": exporter.log.stat().st_size - log_before,
        "memory_mib": memory(exporter.process.pid),
    }
