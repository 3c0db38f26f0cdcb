"""Floods from clients without credentials, or without manners, move no score.

All on 127.0.0.1 with real sockets. Every assertion is about correctness (status codes, scores,
probe results); how long anything took is the benchmark's business (bench/exporter_bench.py).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import bcrypt
import pytest
import yaml
from exporter_testkit import (
    ExporterProcess,
    RunningExporter,
    config_data,
    http_get,
    parse_samples,
    value,
    wait_for,
)

from bzzzmon.conventions import (
    EXPORTER_PROBE_FAILURES,
    EXPORTER_ROUND_DURATION,
    PROBE_DURATION,
    PROBE_SUCCESS,
    SYSTEM_HEALTH_SCORE,
)
from bzzzmon.exporter.auth import hash_cost
from bzzzmon.exporter.config import parse_config
from bzzzmon.exporter.webconfig import load_web_config
from bzzzmon.sim import Simulator

PASSWORD = "correct horse"
FLOOD_CLIENTS = 32
FLOOD_SECONDS = 3.0


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def dns_probe(sim: Simulator) -> dict[str, Any]:
    """Every agent reached through a DNS name (localhost), resolved afresh each round."""
    ports = [int(t.rsplit(":", 1)[1]) for t in sim.agent_targets]
    return {
        "name": "agent-health-checks",
        "type": "health_checks",
        "targets": {"dns": [{"name": "localhost", "port": p} for p in ports]},
    }


def web_config(tmp_path: Path, rounds: int = 10) -> Path:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=rounds)).decode()
    path = tmp_path / "web.yml"
    path.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    return path


async def _flood(url: str, seconds: float, statuses: Counter[int]) -> None:
    """FLOOD_CLIENTS clients sending a fresh wrong password (known and unknown users) each time,
    so no remembered verdict helps the exporter."""
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(n: int) -> None:
            user = "prometheus" if n % 2 else f"intruder{n}"
            while time.monotonic() < deadline:
                headers = basic(user, secrets.token_hex(8))
                try:
                    async with session.get(url, headers=headers) as response:
                        statuses[response.status] += 1
                except aiohttp.ClientError:
                    statuses[0] += 1

        await asyncio.gather(*(client(n) for n in range(FLOOD_CLIENTS)))


def run_flood(url: str, seconds: float) -> tuple[threading.Thread, Counter[int]]:
    statuses: Counter[int] = Counter()
    thread = threading.Thread(target=lambda: asyncio.run(_flood(url, seconds, statuses)))
    thread.start()
    return thread, statuses


@pytest.fixture
def exporter_config_file(sim: Simulator, tmp_path: Path) -> Iterator[Path]:
    data = config_data(
        [dns_probe(sim)], probe_interval="500ms", probe_timeout="450ms", concurrency=8
    )
    path = tmp_path / "exporter.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    yield path


def probe_failures(samples: dict[Any, float]) -> dict[Any, float]:
    return {k: v for k, v in samples.items() if k[0] == EXPORTER_PROBE_FAILURES}


def probes_done(samples: dict[Any, float]) -> float:
    return samples[(PROBE_DURATION + "_count", ())]


def test_wrong_password_flood_moves_no_score(exporter_config_file: Path, tmp_path: Path) -> None:
    good = basic("prometheus", PASSWORD)
    with ExporterProcess(exporter_config_file, web_config=web_config(tmp_path)) as exporter:
        url = exporter.url + "/metrics"

        def scored() -> dict[Any, float] | None:
            status, text = http_get(url, headers=good)
            samples = parse_samples(text) if status == 200 else {}
            return samples if (SYSTEM_HEALTH_SCORE, ()) in samples else None

        before = wait_for(scored)  # the scraper's credential is now verified and remembered
        thread, statuses = run_flood(url, FLOOD_SECONDS)
        scores: list[float] = []
        while thread.is_alive():
            status, text = http_get(url, timeout=10, headers=good)
            assert status == 200, text
            samples = parse_samples(text)
            scores.append(value(samples, SYSTEM_HEALTH_SCORE))
            time.sleep(0.1)
        thread.join()
    # Not one wrong password got in, and the flood was cut short rather than all hashed.
    assert statuses[200] == 0
    assert statuses[401] > 0 and statuses[429] > 0, statuses
    assert set(statuses) <= {401, 429}, statuses
    # The scraper was served all along; the score never left 1.0 and probing went on.
    assert len(scores) >= 3 and set(scores) == {1.0}, scores
    assert probe_failures(samples) == {}
    assert probes_done(samples) >= probes_done(before) + 2 * 3
    assert all(v == 1.0 for k, v in samples.items() if k[0] == PROBE_SUCCESS)


def test_unknown_users_cost_what_known_users_cost(tmp_path: Path) -> None:
    """Timing equality by construction: an unknown user is checked against a dummy hash of the
    users' own cost (the highest, when the costs differ)."""
    cheap = bcrypt.hashpw(b"a", bcrypt.gensalt(rounds=5)).decode()
    dear = bcrypt.hashpw(b"b", bcrypt.gensalt(rounds=6)).decode()
    path = tmp_path / "web.yml"
    path.write_text(f"basic_auth_users:\n  one: '{cheap}'\n  two: '{dear}'\n")
    web = load_web_config(path)
    assert hash_cost(web.dummy_hash) == 6
    assert not bcrypt.checkpw(b"", web.dummy_hash) and not bcrypt.checkpw(b"b", web.dummy_hash)
    path.write_text(f"basic_auth_users:\n  one: '{cheap}'\n")
    assert hash_cost(load_web_config(path).dummy_hash) == 5


def test_remembered_credentials_follow_the_hash(sim: Simulator, tmp_path: Path) -> None:
    """A verified password is remembered, but not across a reload that changes the hash."""
    path = web_config(tmp_path, rounds=4)
    config = parse_config(config_data([dns_probe(sim)]))
    with RunningExporter(config, web_config=load_web_config(path)) as exporter:
        exporter.service.web_config_path = path
        good = basic("prometheus", PASSWORD)
        assert exporter.get("/metrics", headers=good)[0] == 200
        assert exporter.get("/metrics", headers=good)[0] == 200  # from memory
        hashed = bcrypt.hashpw(b"new password", bcrypt.gensalt(rounds=4)).decode()
        path.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
        assert exporter.reload() is True
        assert exporter.get("/metrics", headers=good)[0] == 401
        assert exporter.get("/metrics", headers=basic("prometheus", "new password"))[0] == 200


def test_stalled_connections_beyond_the_file_limit(exporter_config_file: Path) -> None:
    """600 half-sent requests against an exporter allowed only 256 open files: probes keep
    succeeding and scrapes keep being answered (the oldest stalled connections make room)."""
    with ExporterProcess(exporter_config_file, open_files=256) as exporter:
        url = exporter.url + "/metrics"
        wait_for(lambda: (SYSTEM_HEALTH_SCORE, ()) in parse_samples(http_get(url)[1]))
        stalled: list[socket.socket] = []
        try:
            for _ in range(600):
                sock = socket.create_connection(("127.0.0.1", exporter.port), timeout=5)
                sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
                stalled.append(sock)
            scores = []
            for _ in range(5):
                status, text = http_get(url, timeout=10)
                assert status == 200
                samples = parse_samples(text)
                scores.append(value(samples, SYSTEM_HEALTH_SCORE))
                time.sleep(0.5)
            failures = probe_failures(samples)
        finally:
            for sock in stalled:
                sock.close()
        assert exporter.alive()
    assert set(scores) == {1.0}, scores
    assert failures == {}
    assert all(v == 1.0 for k, v in samples.items() if k[0] == PROBE_SUCCESS)
    assert (EXPORTER_ROUND_DURATION, ()) in samples
    assert b"Traceback" not in exporter.stderr
    # Repeated log lines are rate-limited: the flood cannot fill a disk.
    assert len(exporter.stderr.splitlines()) < 50, exporter.stderr[-2000:]


def stalled_connection(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_half_sent_and_idle_connections_are_closed(sim: Simulator) -> None:
    config = parse_config(config_data([dns_probe(sim)]))
    with RunningExporter(config, header_timeout=0.5) as exporter:
        half_sent = stalled_connection(exporter.port)
        idle = socket.create_connection(("127.0.0.1", exporter.port), timeout=10)
        with half_sent, idle:
            assert closed_by_server(half_sent)
            assert closed_by_server(idle)


def test_at_the_cap_the_oldest_stalled_connection_makes_room(sim: Simulator) -> None:
    """A scraper's kept-alive connection outlives stalled ones that came after it; a new
    connection at the cap gets in by closing the oldest stalled one."""
    config = parse_config(config_data([dns_probe(sim)]))
    with RunningExporter(config, connection_cap=4) as exporter:
        scraper = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=10)
        scraper.request("GET", "/metrics")
        assert scraper.getresponse().read()
        stalled = [stalled_connection(exporter.port) for _ in range(4)]
        try:
            assert exporter.get("/healthz")[0] in (200, 503)  # answered, not refused
            assert closed_by_server(stalled[0]) and closed_by_server(stalled[1])
            scraper.request("GET", "/metrics")  # the same connection, still open
            response = scraper.getresponse()
            assert response.status == 200 and response.read()
            gate = exporter.service_gate()
            assert gate.evicted >= 2 and len(gate) <= 4
        finally:
            scraper.close()
            for sock in stalled:
                sock.close()


def test_both_floods_at_once_move_no_healthy_result(
    exporter_config_file: Path, tmp_path: Path
) -> None:
    """Wrong passwords from 32 clients and 400 stalled connections at once, against an exporter
    allowed 512 open files: every scrape is answered, every healthy target stays ok and the
    score stays 1.0 (the floods take CPU, but none of it from the prober's results)."""
    good = basic("prometheus", PASSWORD)
    with ExporterProcess(
        exporter_config_file, web_config=web_config(tmp_path), open_files=512
    ) as exporter:
        url = exporter.url + "/metrics"

        def scored() -> dict[Any, float] | None:
            status, text = http_get(url, headers=good)
            samples = parse_samples(text) if status == 200 else {}
            return samples if (SYSTEM_HEALTH_SCORE, ()) in samples else None

        before = wait_for(scored)
        stalled = [stalled_connection(exporter.port) for _ in range(400)]
        try:
            thread, statuses = run_flood(url, FLOOD_SECONDS)
            scores: list[float] = []
            not_ok: list[Any] = []
            while thread.is_alive():
                status, text = http_get(url, timeout=10, headers=good)
                assert status == 200, text
                samples = parse_samples(text)
                scores.append(value(samples, SYSTEM_HEALTH_SCORE))
                not_ok += [k for k, v in samples.items() if k[0] == PROBE_SUCCESS and v != 1.0]
                time.sleep(0.1)
            thread.join()
        finally:
            for sock in stalled:
                sock.close()
        assert exporter.alive()
    assert statuses[200] == 0 and statuses[401] + statuses[429] > 0, statuses
    assert len(scores) >= 3 and set(scores) == {1.0}, scores
    assert not_ok == []
    assert probe_failures(samples) == {}
    assert probes_done(samples) >= probes_done(before) + 2 * 3


def prober_of(pid: int) -> int:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            return int(stat.parent.name)
    raise AssertionError(f"no child of {pid}")


def test_the_server_exits_when_its_prober_dies(exporter_config_file: Path) -> None:
    """A server without a prober must not go on serving a frozen score: it exits with status 1
    (for the supervisor to restart)."""
    with ExporterProcess(exporter_config_file) as exporter:
        url = exporter.url + "/metrics"
        wait_for(lambda: (SYSTEM_HEALTH_SCORE, ()) in parse_samples(http_get(url)[1]))
        assert exporter.process is not None
        os.kill(prober_of(exporter.process.pid), signal.SIGKILL)
        assert exporter.process.wait(15) == 1
    assert b"the prober process exited" in exporter.stderr
    assert b"Traceback" not in exporter.stderr


def test_a_prober_without_its_server_stops(exporter_config_file: Path) -> None:
    with ExporterProcess(exporter_config_file) as exporter:
        url = exporter.url + "/metrics"
        wait_for(lambda: (SYSTEM_HEALTH_SCORE, ()) in parse_samples(http_get(url)[1]))
        assert exporter.process is not None
        prober = prober_of(exporter.process.pid)
        exporter.process.kill()  # no chance to stop its child
        exporter.process.wait(15)
        wait_for(lambda: not Path(f"/proc/{prober}").exists() or _zombie(prober))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
