"""Benchmark of the bzzzmon exporter against prometheus-blackbox-exporter, on loopback.

    python bench/exporter_bench.py [--targets 1000,10000] [--rounds 3] [--seconds 10]
                                   [--hostile-seconds 15] [--out bench/results/exporter.json]

What it measures (all processes on 127.0.0.1, the machine's cores shared by everyone), for each
number of targets in ``--targets``:

- Targets: ONE helper process (plain asyncio, not aiohttp, so the target side costs little) opens
  one listening socket per target (10,000 distinct host:port targets, as 10,000 agent replicas
  would be). Every request gets a 0.6 KB ``/health/checks`` JSON document like an agent's.
- The exporter runs as its own process (``python -m bzzzmon.exporter``), probing the targets with
  ``jitter: 0`` and ``concurrency: 64``. Round time is the exporter's own
  ``bzzz_exporter_probe_round_duration_seconds``; CPU is the process's utime+stime from /proc, per
  1,000 probes (probes counted by ``bzzz_probe_duration_seconds_count``); memory is VmRSS/VmHWM
  and Pss in MiB, summed over the serving and the prober process (see :func:`memory_mib`).
- Two probe types: ``http_status`` (GET, expect 200; like blackbox's http_2xx) and
  ``health_checks`` (GET, stream and parse the JSON, score 5 checks per target).
- /metrics latency: 10 concurrent scrapers hammer /metrics while the exporter probes
  continuously (rounds back to back; health_checks config: targets x 5 components of series);
  p50/p99 in ms. Then a lone scraper every 0.7 s (Prometheus' usual pattern) on the same busy
  exporter. Then the same 10 scrapers against an exporter between rounds (interval 60 s, after
  its first round), and against the floor: a bare asyncio server answering every request with
  the same bytes (the scrape path's peer in the same run; what it shows is the machine's).
- blackbox_exporter (Debian's prometheus-blackbox-exporter; installed with apt-get if missing)
  runs with a generated blackbox.yml (module http_2xx) and is driven through /probe for the same
  targets at concurrency 64, as Prometheus would drive it. Its CPU per 1,000 probes includes
  serving /probe, which is how it is always used. It is the peer: the CPU ratios compare the two
  measured in the same run.

Then the attack scenario of bench/exporter_hostile.py (its docstring has the details) with the
smallest number of targets as healthy targets: a hostile target mix, 32 wrong-password clients
and 1,100 stalled connections, with an authorised scraper measured before (calm) and during the
attack in the same run.

Results are printed and written as JSON; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.exporter_hostile import cpu_seconds, family, measure_hostile, samples  # noqa: E402

TARGET_SERVER = textwrap.dedent(
    r"""
    import asyncio, json, sys
    names = ("pubsub", "dht", "election", "slurp", "ucxi")
    checks = {f"{c}-health": {"status": "healthy", "component": c, "message": "ok",
                              "duration_ms": 1.2} for c in names}
    body = json.dumps({"status": "healthy", "agent_id": "bench", "checks": checks}).encode()
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    class Target(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""
        def data_received(self, data):
            self.buffer += data
            if b"\r\n\r\n" in self.buffer:
                self.transport.write(response)
                self.transport.close()

    async def main(n):
        loop = asyncio.get_running_loop()
        ports = []
        for _ in range(n):
            server = await loop.create_server(Target, "127.0.0.1", 0, backlog=256)
            ports.append(server.sockets[0].getsockname()[1])
        print(json.dumps(ports), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main(int(sys.argv[1])))
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def memory_mib(pid: int) -> dict[str, Any]:
    """Memory of ``pid`` and its children in MiB (2**20 bytes; /proc counts KiB).

    ``VmRSS`` and ``VmHWM`` are summed over the processes (the sum of the peaks is an upper bound
    of the peak of the sum). The sum counts twice every page both processes map from the same
    file (the interpreter's and the libraries' code, ~14 MiB), so it overstates what the two
    cost together; ``Pss`` (/proc/PID/smaps_rollup: each shared page split between the
    processes mapping it) summed is that cost. ``processes`` has each process's own numbers,
    ``serving`` being ``pid`` itself."""
    kib: dict[str, int] = {"VmRSS": 0, "VmHWM": 0, "Pss": 0}
    processes: dict[str, dict[str, float]] = {}
    for member in family(pid):
        own: dict[str, int] = {}
        status = Path(f"/proc/{member}/status").read_text()
        rollup = Path(f"/proc/{member}/smaps_rollup").read_text()
        for line in (status + rollup).splitlines():
            key, _, rest = line.partition(":")
            if key in kib and key not in own:
                own[key] = int(rest.split()[0])
        for key, value in own.items():
            kib[key] += value
        name = "serving" if member == pid else f"child {member}"
        processes[name] = {key: round(value / 1024, 1) for key, value in own.items()}
    children = [name for name in processes if name != "serving"]
    if len(children) == 1:  # the one child is the prober
        processes["prober"] = processes.pop(children[0])
    return {**{key: round(value / 1024, 1) for key, value in kib.items()}, "processes": processes}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def exporter_config(targets: list[str], probe_type: str, interval: str) -> dict[str, Any]:
    probe: dict[str, Any] = {"name": "bench", "type": probe_type, "targets": {"static": targets}}
    if probe_type == "health_checks":
        probe["path"] = "/health/checks"
        components = [(c, 0.2) for c in ("pubsub", "dht", "election", "slurp", "ucxi")]
    else:
        probe.update(component="dht", path="/health/checks", expect_status=[200])
        components = [("dht", 1.0)]
    return {
        "service": "bzzz",
        "probe_interval": interval,
        "probe_timeout": "1s",
        "max_result_age": "60s",
        "concurrency": 64,
        "jitter": 0,
        "max_body_bytes": 1048576,
        "components": [{"name": n, "weight": w} for n, w in components]
        + [{"name": "exporter", "weight": 0}],
        "checks": {f"{c}-health": c for c, _ in components}
        if probe_type == "health_checks"
        else {},
        "probes": [probe],
    }


class Exporter:
    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        web_config: Path | None = None,
        preexec: Callable[[], None] | None = None,
        log: Path | None = None,
    ) -> None:
        self.path = workdir / "exporter.yml"
        self.path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.log = log or workdir / "exporter.log"
        command = [sys.executable, "-m", "bzzzmon.exporter", "--config", str(self.path)]
        if web_config is not None:
            command += ["--web-config", str(web_config)]
        with self.log.open("wb") as log_file:
            self.process = subprocess.Popen(
                [*command, "--listen", f"127.0.0.1:{self.port}"],
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                preexec_fn=preexec,
            )

    async def metrics(
        self,
        session: aiohttp.ClientSession,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> dict[str, float]:
        try:
            async with session.get(
                self.url,
                headers=headers,
                raise_for_status=True,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                return samples(await response.text())
        except aiohttp.ClientConnectorError:
            died = self.died()
            if died:
                raise RuntimeError(died) from None
            raise

    async def wait_rounds(
        self, session: aiohttp.ClientSession, rounds: int, headers: dict[str, str] | None = None
    ) -> dict[str, float]:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the exporter exited with status {self.process.returncode}")
            try:
                got = await self.metrics(session, headers)
            except (aiohttp.ClientError, TimeoutError):
                got = {}
            done = got.get("bzzz_probe_duration_seconds_count", 0)
            finished = "bzzz_exporter_probe_round_duration_seconds" in got
            if finished and done >= rounds * self.targets_per_round(got):
                return got
            await asyncio.sleep(0.05)

    @staticmethod
    def targets_per_round(got: dict[str, float]) -> float:
        # Each health_checks target counts once per component: the largest count is the targets.
        return max(
            (v for k, v in got.items() if k.startswith("bzzz_exporter_targets")), default=1e9
        )

    def died(self) -> str | None:
        """The exit status and the end of the log, when the exporter is no longer running."""
        if self.process.poll() is None:
            return None
        tail = self.log.read_text(errors="replace")[-2000:]
        return f"the exporter exited with status {self.process.returncode}:\n{tail}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def measure_probing(
    workdir: Path, targets: list[str], probe_type: str, rounds: int
) -> dict[str, Any]:
    """Back-to-back rounds (interval 1s) without scrapes: round time, CPU per 1,000 probes."""
    exporter = Exporter(workdir, exporter_config(targets, probe_type, "1s"))
    try:
        async with aiohttp.ClientSession() as session:
            first = await exporter.wait_rounds(session, 1)
            cpu0, probes0 = (
                cpu_seconds(exporter.process.pid),
                first["bzzz_probe_duration_seconds_count"],
            )
            round_times = [first["bzzz_exporter_probe_round_duration_seconds"]]
            last = first
            while last["bzzz_probe_duration_seconds_count"] < probes0 + rounds * len(targets):
                await asyncio.sleep(0.2)
                last = await exporter.metrics(session)
                round_times.append(last["bzzz_exporter_probe_round_duration_seconds"])
            cpu1 = cpu_seconds(exporter.process.pid)
            probes = last["bzzz_probe_duration_seconds_count"] - probes0
            failures = sum(
                v for k, v in last.items() if k.startswith("bzzz_exporter_probe_failures_total")
            )
            return {
                "probe_type": probe_type,
                "targets": len(targets),
                "round_seconds_first": round(
                    first["bzzz_exporter_probe_round_duration_seconds"], 3
                ),
                "round_seconds_median": round(statistics.median(round_times), 3),
                "round_seconds_max": round(max(round_times), 3),
                "probes_measured": int(probes),
                "probe_failures": int(failures),
                "cpu_seconds_per_1000_probes": round((cpu1 - cpu0) / probes * 1000, 3),
                "memory_mib": memory_mib(exporter.process.pid),
                "system_health_score": last.get("bzzz_system_health_score"),
            }
    finally:
        exporter.stop()


# The scrape path's peer: a bare asyncio server that answers every request with the same bytes
# the exporter served, measured with the same scrapers in the same run. Whatever latency it shows
# is the machine's (scheduler, loopback, the client), not the exporter's.
FLOOR_SERVER = textwrap.dedent(
    r"""
    import asyncio, sys
    body = open(sys.argv[1], "rb").read()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)

    class Floor(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""
        def data_received(self, data):
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                _request, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                self.transport.write(head + body)

    async def main():
        server = await asyncio.get_running_loop().create_server(Floor, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def hammer(
    session: aiohttp.ClientSession, url: str, seconds: float, scrapers: int = 10
) -> tuple[list[float], bytes]:
    """``scrapers`` clients GET ``url`` back to back for ``seconds``: latencies and a body."""
    latencies: list[float] = []
    body = b""
    deadline = time.monotonic() + seconds

    async def scraper() -> None:
        nonlocal body
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(url) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(scraper() for _ in range(scrapers)))
    return latencies, body


async def measure_floor(workdir: Path, body: bytes, seconds: float) -> list[float]:
    page = workdir / "page.txt"
    page.write_bytes(body)
    server = subprocess.Popen(
        [sys.executable, "-c", FLOOR_SERVER, str(page)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            latencies, _body = await hammer(session, f"http://127.0.0.1:{port}/", seconds)
        return latencies
    finally:
        server.terminate()
        server.wait(10)


async def measure_scrapes(workdir: Path, targets: list[str], seconds: float) -> dict[str, Any]:
    """10 concurrent scrapers while the exporter probes the health_checks targets non-stop, then
    the same scrapers against the floor server serving the same bytes."""
    exporter = Exporter(workdir, exporter_config(targets, "health_checks", "1s"))
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await exporter.wait_rounds(session, 1)
            latencies, body = await hammer(session, exporter.url, seconds)
            lone: list[float] = []
            for _ in range(12):  # Prometheus-like: one scraper, now and then
                await asyncio.sleep(0.7)
                started = time.perf_counter()
                async with session.get(exporter.url) as response:
                    await response.read()
                lone.append(time.perf_counter() - started)
            got = await exporter.metrics(session)
            result = {
                "scrapers": 10,
                "scrapes": len(latencies),
                "metrics_bytes": len(body),
                "series": len(got),
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
                "max_ms": round(max(latencies) * 1000, 2),
                "lone_scraper_p50_ms": round(statistics.median(lone) * 1000, 2),
                "lone_scraper_max_ms": round(max(lone) * 1000, 2),
                "rounds_during_scrapes": int(
                    got["bzzz_probe_duration_seconds_count"] // len(targets)
                ),
                "memory_mib": memory_mib(exporter.process.pid),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
    finally:
        exporter.stop()
    # The same exporter between rounds (interval 60 s: one round, then idle): what a scrape costs
    # when probing does not share the event loop and the CPU with it.
    idle = Exporter(workdir, exporter_config(targets, "health_checks", "60s"))
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await idle.wait_rounds(session, 1)
            idle_latencies, _body = await hammer(session, idle.url, seconds)
    finally:
        idle.stop()
    result["between_rounds_p50_ms"] = round(percentile(idle_latencies, 0.5) * 1000, 2)
    result["between_rounds_p99_ms"] = round(percentile(idle_latencies, 0.99) * 1000, 2)
    floor = await measure_floor(workdir, body, seconds)
    # The floor again, while an exporter probes beside it (rounds back to back): the machine's
    # share of the latency when probing takes CPU, which no serving design can remove.
    beside = Exporter(workdir, exporter_config(targets, "health_checks", "1s"))
    try:
        async with aiohttp.ClientSession() as session:
            await beside.wait_rounds(session, 1)
        floor_beside = await measure_floor(workdir, body, seconds)
    finally:
        beside.stop()
    result["floor_while_probing_p50_ms"] = round(percentile(floor_beside, 0.5) * 1000, 2)
    result["floor_while_probing_p99_ms"] = round(percentile(floor_beside, 0.99) * 1000, 2)
    result["p99_ratio_vs_floor_while_probing"] = round(
        result["p99_ms"] / result["floor_while_probing_p99_ms"], 2
    )
    result["floor_p50_ms"] = round(percentile(floor, 0.5) * 1000, 2)
    result["floor_p99_ms"] = round(percentile(floor, 0.99) * 1000, 2)
    result["p99_ratio_vs_floor"] = round(result["p99_ms"] / result["floor_p99_ms"], 2)
    result["between_rounds_p99_ratio_vs_floor"] = round(
        result["between_rounds_p99_ms"] / result["floor_p99_ms"], 2
    )
    return result


def blackbox_binary() -> str:
    found = shutil.which("prometheus-blackbox-exporter") or shutil.which("blackbox_exporter")
    if found:
        return found
    print("installing prometheus-blackbox-exporter with apt-get ...", flush=True)
    subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "prometheus-blackbox-exporter"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    found = shutil.which("prometheus-blackbox-exporter")
    assert found, "prometheus-blackbox-exporter not found after install"
    return found


async def measure_blackbox(workdir: Path, targets: list[str], rounds: int) -> dict[str, Any]:
    binary = blackbox_binary()
    shown = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    version = (shown.stdout + shown.stderr).split("\n")[0]
    config = workdir / "blackbox.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "modules": {
                    "http_2xx": {
                        "prober": "http",
                        "timeout": "5s",
                        "http": {
                            "method": "GET",
                            "valid_status_codes": [200],
                            "preferred_ip_protocol": "ip4",
                        },
                    }
                }
            }
        )
    )
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(100):
                try:
                    async with session.get(base + "/metrics") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            semaphore = asyncio.Semaphore(64)
            ok = 0

            async def probe(target: str) -> None:
                nonlocal ok
                url = f"{base}/probe?module=http_2xx&target=http://{target}/health/checks"
                async with semaphore, session.get(url) as response:
                    if "probe_success 1" in await response.text():
                        ok += 1

            await asyncio.gather(*(probe(t) for t in targets))  # warm-up round
            ok = 0
            cpu0 = cpu_seconds(process.pid)
            round_times = []
            for _ in range(rounds):
                started = time.perf_counter()
                await asyncio.gather(*(probe(t) for t in targets))
                round_times.append(time.perf_counter() - started)
            cpu1 = cpu_seconds(process.pid)
            return {
                "version": version,
                "targets": len(targets),
                "probes_measured": rounds * len(targets),
                "probe_successes": ok,
                "round_seconds_median": round(statistics.median(round_times), 3),
                "cpu_seconds_per_1000_probes": round(
                    (cpu1 - cpu0) / (rounds * len(targets)) * 1000, 3
                ),
                "memory_mib": memory_mib(process.pid),
            }
    finally:
        process.terminate()
        process.wait(10)


PARTS = ("probing", "scrapes", "blackbox", "hostile")


async def measure_size(
    workdir: Path, targets: list[str], rounds: int, seconds: float, parts: set[str]
) -> dict[str, Any]:
    """Everything at one number of targets, blackbox_exporter included (the same run's peer)."""
    results: dict[str, Any] = {}
    for probe_type in ("http_status", "health_checks") if "probing" in parts else ():
        results[f"exporter_{probe_type}"] = await measure_probing(
            workdir, targets, probe_type, rounds
        )
        print(json.dumps({probe_type: results[f"exporter_{probe_type}"]}, indent=2), flush=True)
    if "scrapes" in parts:
        results["scrapes_while_probing"] = await measure_scrapes(workdir, targets, seconds)
        print(json.dumps({"scrapes": results["scrapes_while_probing"]}, indent=2), flush=True)
    if "blackbox" in parts:
        results["blackbox_exporter"] = await measure_blackbox(workdir, targets, rounds)
        print(json.dumps({"blackbox": results["blackbox_exporter"]}, indent=2), flush=True)
    if "probing" in parts and "blackbox" in parts:
        theirs = results["blackbox_exporter"]["cpu_seconds_per_1000_probes"]
        for probe_type in ("http_status", "health_checks"):
            ours = results[f"exporter_{probe_type}"]["cpu_seconds_per_1000_probes"]
            ratio = round(ours / theirs, 2) if theirs else None
            results[f"cpu_ratio_{probe_type}_vs_blackbox"] = ratio
        print(json.dumps({k: v for k, v in results.items() if k.startswith("cpu_ratio")}))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", default="1000,10000", help="comma-separated target counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--hostile-seconds", type=float, default=15.0, help="0 skips the attack scenario"
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS)
    )
    parser.add_argument("--out", default=str(REPO / "bench/results/exporter.json"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.targets.split(",")]
    parts = set(args.parts.split(","))

    server = subprocess.Popen(
        [sys.executable, "-c", TARGET_SERVER, str(max(sizes))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        all_targets = [f"127.0.0.1:{p}" for p in json.loads(server.stdout.readline())]
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            results: dict[str, Any] = {
                "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                "target_server": f"1 asyncio process, {len(all_targets)} listening sockets",
            }
            for size in sizes:
                results[f"targets_{size}"] = await measure_size(
                    workdir, all_targets[:size], args.rounds, args.seconds, parts
                )
            if args.hostile_seconds > 0 and "hostile" in parts:
                results["hostile"] = await measure_hostile(
                    workdir, all_targets[: min(sizes)], args.hostile_seconds, Exporter, memory_mib
                )
                print(json.dumps({"hostile": results["hostile"]}, indent=2), flush=True)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"written to {out}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
