"""Start and stop a real Prometheus on 127.0.0.1, and talk to its HTTP API."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
# The binary every server here runs: `prometheus` on PATH (bookworm's 2.42) unless
# run_rule_bench's --prometheus names another, e.g. sid's 3.5 under .tools/.
BINARY = "prometheus"


def version(binary: str) -> str:
    """``prometheus --version``'s version number, e.g. ``3.5.3``."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    words = (out.stdout or out.stderr).split()  # prometheus, version 2.42.0+ds (branch: ...
    return words[2].split("+")[0] if len(words) > 2 else "unknown"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 600.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        data: bytes = resp.read()
        return data


class Prometheus:
    """A running Prometheus process with a few API helpers."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        body = json.loads(http_get(f"{self.url}/api/v1/{path}?{query}"))
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus API {path} failed: {body}")
        return body["data"]

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        data = self.api("query", query=expr, time=f"{at:.3f}")
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: int) -> list[dict[str, Any]]:
        data = self.api(
            "query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=str(step)
        )
        result: list[dict[str, Any]] = data["result"]
        return result

    def metrics_text(self) -> str:
        return http_get(f"{self.url}/metrics", timeout=30).decode()


@contextlib.contextmanager
def running(
    config: Path,
    data_dir: Path,
    log: Path,
    extra_args: tuple[str, ...] = (),
    ready_timeout: float = 300.0,
) -> Iterator[Prometheus]:
    """Run Prometheus until the block exits; it is killed on any exit path."""
    port = free_port()
    args = [
        BINARY,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        "--storage.tsdb.retention.time=60d",
        f"--web.listen-address={HOST}:{port}",
        "--web.enable-lifecycle",
        "--log.level=warn",
        *extra_args,
    ]
    with log.open("ab") as logf:
        proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
    prom = Prometheus(proc, port, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {proc.returncode}; see {log}")
            try:
                if http_get(f"{prom.url}/-/ready", timeout=2).startswith(b"Prometheus"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready after {ready_timeout}s; see {log}")
            time.sleep(0.5)
        yield prom
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def parse_metrics(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Minimal Prometheus text-format parser: name -> [(labels, value)]."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if "{" in head:
            name, _, rest = head.partition("{")
            labels = _parse_labels(rest.rstrip("}"))
        else:
            name, labels = head, {}
        try:
            out.setdefault(name, []).append((labels, float(value)))
        except ValueError:
            continue
    return out


def _parse_labels(s: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    i = 0
    while i < len(s):
        eq = s.index("=", i)
        key = s[i:eq].strip().lstrip(",").strip()
        j = eq + 2
        val = []
        while s[j] != '"':
            if s[j] == "\\":
                j += 1
            val.append(s[j])
            j += 1
        labels[key] = "".join(val)
        i = j + 1
        if i < len(s) and s[i] == ",":
            i += 1
    return labels


def write_config(
    path: Path, rule_files: list[Path], scrape_target: str | None, eval_interval: str
) -> None:
    lines = [
        "global:",
        "  scrape_interval: 15s",
        f"  evaluation_interval: {eval_interval}",
        "rule_files:",
        *[f"  - {json.dumps(str(p))}" for p in rule_files],
    ]
    if scrape_target:
        lines += [
            "scrape_configs:",
            "  - job_name: bench",
            "    honor_labels: true",
            "    static_configs:",
            f"      - targets: [{json.dumps(scrape_target)}]",
        ]
    if not rule_files:
        lines[lines.index("rule_files:")] = "rule_files: []"
    path.write_text("\n".join(lines) + "\n")
