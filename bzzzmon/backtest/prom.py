"""The Prometheus HTTP API as a backtest uses it, and the scratch Prometheus.

``query_range`` is chunked at Prometheus' limit of 11,000 points per series; chunks start on
the same grid, so a chunked answer is the unchunked one. ``ranges`` asks for the chunks of many
expressions in parallel (Prometheus evaluates each query on one core, and the long windows
make a rule's chunks cost seconds each), handing back each expression's series in order.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bzzzmon.backtest import BacktestError
from bzzzmon.stack.processes import LOOPBACK, ChildProcess, StackError, find_binary, free_port

MAX_POINTS = 11_000  # per query_range chunk: Prometheus' limit
_TIMEOUT = 600.0
# Parallel requests: enough to keep both of Prometheus' cores and the JSON decoding here busy.
WORKERS = max(2, min(8, 2 * (os.cpu_count() or 1)))


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]  # without __name__
    points: list[tuple[int, float]]  # (unix seconds, value)


@dataclass(frozen=True)
class RawSeries:
    """A series as the API gives it: values as Prometheus formats them (exact, round-trip), so
    a recorded series is written back without parsing and reformatting each sample."""

    labels: dict[str, str]  # without __name__
    values: list[list[Any]]  # [unix seconds, "value"]

    def parsed(self) -> Series:
        return Series(self.labels, [(int(t), float(v)) for t, v in self.values])


def _get(url: str, path: str, params: dict[str, str] | None = None) -> Any:
    full = url.rstrip("/") + path
    data = urllib.parse.urlencode(params or {}).encode() if params else None
    request = urllib.request.Request(full, data=data)
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("error", "")
        except ValueError:
            detail = ""
        raise BacktestError(f"{full}: HTTP {exc.code} {detail}".strip()) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BacktestError(f"no Prometheus answers at {url}: {reason}") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        raise BacktestError(f"{full}: not a Prometheus API answer")
    return body.get("data")


def check(url: str) -> str:
    """The version of the Prometheus at ``url`` (BacktestError when none answers)."""
    data = _get(url, "/api/v1/status/buildinfo")
    return str((data or {}).get("version", "unknown"))


def series_count(url: str, match: str, start: int | None = None, end: int | None = None) -> int:
    """How many series match, in [start, end] (without them: at any time the TSDB holds)."""
    params = {"match[]": match}
    if start is not None and end is not None:
        params.update(start=str(start), end=str(end))
    data = _get(url, "/api/v1/series", params)
    return len(data or [])


def query(url: str, expr: str, at: int) -> list[Series]:
    data = _get(url, "/api/v1/query", {"query": expr, "time": str(at)})
    return [
        Series(_labels(r["metric"]), [(int(float(r["value"][0])), float(r["value"][1]))])
        for r in data.get("result", [])
    ]


def _labels(metric: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metric.items() if k != "__name__"}


def chunks(start: int, end: int, step: int) -> Iterator[tuple[int, int]]:
    """[first, last] evaluation times of each chunk, on the grid start + k * step."""
    first = start
    while first <= end:
        last = min(end, first + (MAX_POINTS - 1) * step)
        yield first, last
        first = last + step


def _chunk(url: str, expr: str, first: int, last: int, step: int) -> list[dict[str, Any]]:
    params = {"query": expr, "start": str(first), "end": str(last), "step": f"{step}s"}
    return list((_get(url, "/api/v1/query_range", params) or {}).get("result", []))


def _merged(parts: Iterable[list[dict[str, Any]]]) -> list[RawSeries]:
    merged: dict[tuple[tuple[str, str], ...], RawSeries] = {}
    for part in parts:
        for r in part:
            labels = _labels(r["metric"])
            key = tuple(sorted(labels.items()))
            if key in merged:
                merged[key].values.extend(r["values"])
            else:
                merged[key] = RawSeries(labels, r["values"])
    return [merged[k] for k in sorted(merged)]


Span = tuple[int, int]  # [first, last] evaluation time


def ranges(url: str, queries: Iterable[tuple[str, int, list[Span]]]) -> Iterator[list[RawSeries]]:
    """Per (expr, step, spans) of ``queries``, in order: every series of ``expr`` evaluated at
    first, first + step, ... <= last of each span. The chunks run in parallel, a bounded number
    ahead of the one handed back (the answers of a 30-day level do not fit in memory at once)."""
    plan = [
        (expr, [c for a, b in spans for c in chunks(a, b, step)], step)
        for expr, step, spans in queries
    ]
    jobs = ((expr, first, last, step) for expr, parts, step in plan for first, last in parts)
    ahead: deque[Future[list[dict[str, Any]]]] = deque()
    pool = ThreadPoolExecutor(WORKERS)

    def submit() -> None:
        job = next(jobs, None)
        if job is not None:
            ahead.append(pool.submit(_chunk, url, *job))

    try:
        for _ in range(2 * WORKERS):
            submit()
        for _, parts, _ in plan:
            answers = []
            for _ in parts:
                answers.append(ahead.popleft().result())
                submit()
            yield _merged(answers)
    finally:
        # On an error or Ctrl-C, do not wait for the chunks still being evaluated.
        pool.shutdown(wait=False, cancel_futures=True)


def query_range(url: str, expr: str, start: int, end: int, step: int) -> list[Series]:
    """Every series of ``expr`` evaluated at start, start + step, ... <= end."""
    (found,) = ranges(url, [(expr, step, [(start, end)])])
    return [s.parsed() for s in found]


class Scratch:
    """A Prometheus on 127.0.0.1 over the scratch TSDB, reading raw series from the source
    (``remote_read`` with ``read_recent``: the backfilled blocks make the local TSDB look
    complete, which would otherwise skip the remote read)."""

    def __init__(self, work: Path, source: str, evaluation_interval: int) -> None:
        self.work = work
        self.data = work / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.config = work / "prometheus.yml"
        self.source = source
        self.evaluation_interval = evaluation_interval
        self.process: ChildProcess | None = None
        self.url = ""

    def start(self, remote: bool) -> None:
        """Start it, reading the source's raw series when ``remote`` (each query then asks the
        source too, which is most of the cost of a level that needs no raw series)."""
        config: dict[str, Any] = {"global": {"evaluation_interval": f"{self.evaluation_interval}s"}}
        if remote:
            read = {"url": self.source.rstrip("/") + "/api/v1/read", "read_recent": True}
            config["remote_read"] = [read]
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        try:
            binary = find_binary("prometheus")
        except StackError as exc:
            raise BacktestError(str(exc)) from exc
        port = free_port()
        self.url = f"http://{LOOPBACK}:{port}"
        self.process = ChildProcess(
            "scratch prometheus",
            [
                binary,
                f"--config.file={self.config}",
                f"--storage.tsdb.path={self.data}",
                "--storage.tsdb.retention.time=100y",  # history is older than the default 15d
                f"--web.listen-address={LOOPBACK}:{port}",
                "--query.max-samples=200000000",
            ],
            self.work / "prometheus.log",
        )
        try:
            self.process.wait_ready(self.url + "/-/ready", timeout=120)
        except StackError as exc:
            self.stop()
            raise BacktestError(f"the scratch Prometheus did not start: {exc}") from exc

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def restart(self, remote: bool) -> None:
        """Restart so that blocks moved into the data directory are read (a running
        Prometheus picks them up only at its next compaction)."""
        self.stop()
        self.start(remote)

    def add_blocks(self, directory: Path) -> None:
        for block in sorted(directory.iterdir()):
            if block.is_dir() and (block / "meta.json").is_file():
                block.rename(self.data / block.name)
