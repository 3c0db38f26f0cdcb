"""A real Prometheus on 127.0.0.1 serving synthetic history (``history``), for the backtests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bzzzmon.stack.processes import LOOPBACK, ChildProcess, find_binary, free_port
from bzzzmon.verify.tools import require, run
from tests.backtest.history import History, write_openmetrics


@contextmanager
def history_prometheus(history: History, start: int, work: Path) -> Iterator[str]:
    """The URL of a Prometheus whose TSDB holds ``history`` from ``start``."""
    work.mkdir(parents=True, exist_ok=True)
    om = work / "history.om"
    data = work / "data"
    data.mkdir()
    write_openmetrics(history, start, om)
    made = run(
        [
            require("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            str(om),
            str(data),
        ],
        timeout=1200,
    )
    assert made.ok or history.steps == 0, made.output
    om.unlink()
    (work / "prometheus.yml").write_text("global:\n  evaluation_interval: 15s\n")
    port = free_port()
    proc = ChildProcess(
        "source prometheus",
        [
            find_binary("prometheus"),
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address={LOOPBACK}:{port}",
        ],
        work / "prometheus.log",
    )
    try:
        url = f"http://{LOOPBACK}:{port}"
        proc.wait_ready(url + "/-/ready", timeout=120)
        yield url
    finally:
        proc.stop()
