"""Cost of ``bzzzmon backtest`` against history length, with a peer in the same run.

History: ``tests/backtest/history.py``'s 3 agents at 15 s (``up``, the DHT get/put counters by
result, the election state: the series of the two SLOs it drives, dht-operations and
admin-elected, and of the agent and election alerts), with a DHT outage and a slow DHT burn
per day, loaded into a real Prometheus with ``promtool tsdb create-blocks-from openmetrics``
(not timed). The shipped specs are backtested over each length: of 162 recording rules the
127 alerts and budgets read (113 in 4 levels, then 14 long-window ones where alerts read
them), 78 alerts in 4 rounds, every group at 15 s (the period group at 4m).

Measured per length: wall time, the load average at the end, CPU of this process, of its
children (the scratch Prometheus, promtool) and of the source Prometheus, the split into
recording rules and alerts; and the peer:
``promtool tsdb create-blocks-from rules`` of the level-0 recording rules alone (70 rules, the
raw-series level) against the same source over the same range (``--no-peer`` skips it).
The children's CPU is counted as they exit; the source Prometheus, which answers the level-0
and threshold-alert queries and is still running, is read from /proc.

    .venv/bin/python -m bench.backtest_bench --days 1,3 [--resolution 1m]
    .venv/bin/python -m bench.backtest_bench --days 3 --slos 0,4,16 --no-peer

``--slos`` adds that many copies of dht-operations (own names, the same SLI, so every copy has
data) to a copy of the shipped specs: the cost against the number of SLOs with data (SLOs
without data cost next to nothing: their windows are empty).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from bzzzmon.backtest.rules import ALERTS, load, recording_levels
from bzzzmon.backtest.run import replay
from bzzzmon.backtest.scratch_blocks import backfill_rules, rules_file
from bzzzmon.build import render_all
from bzzzmon.spec.plan import load_plan
from tests.backtest.history import STEP, Failing, History
from tests.backtest.source import history_prometheus

ROOT = Path(__file__).resolve().parents[1]
START = 1793491200  # 2026-11-01T00:00:00Z
DAY = 86400 // STEP


def history(days: int) -> History:
    failing = []
    for d in range(days):
        failing.append(Failing(d * DAY + 2 * DAY // 24, d * DAY + 2 * DAY // 24 + 60, 100))
        failing.append(Failing(d * DAY + 12 * DAY // 24, d * DAY + 18 * DAY // 24, 10))
    return History(steps=days * DAY, dht_failing=tuple(failing))


def cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def source_cpu(data: Path) -> float:
    """CPU seconds so far of the running Prometheus over ``data`` (RUSAGE_CHILDREN counts only
    children that have exited)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"--storage.tsdb.path={data}".encode() not in cmdline.read_bytes():
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def specs_with_copies(copies: int, into: Path) -> Path:
    """The shipped BZZZ service alone (its files and the shared ones) plus ``copies`` copies of
    dht-operations, in ``into``."""
    shutil.copytree(ROOT / "specs" / "bzzz", into)
    shutil.copy(ROOT / "specs" / "shared.yaml", into / "shared.yaml")
    if copies:
        slos = yaml.safe_load((into / "slos.yaml").read_text())["slos"]
        dht = next(s for s in slos if s["name"] == "dht-operations")
        extra = [
            dht
            | {
                "name": f"dht-operations-copy{k}",
                "alerting": dht["alerting"] | {"name": f"BZZZDHTErrorBudgetBurnCopy{k}"},
            }
            for k in range(1, copies + 1)
        ]
        text = yaml.safe_dump({"apiVersion": "bzzzmon/v1", "slos": extra}, sort_keys=False)
        (into / "bench-copies.yaml").write_text(text)
    return into


def measure(days: int, resolution: int, peer: bool, copies: int = 0) -> str:
    end = START + days * 86400 - STEP
    with (
        tempfile.TemporaryDirectory(prefix="backtest-bench-") as tmp,
        history_prometheus(history(days), START, Path(tmp) / "source") as url,
    ):
        plan = load_plan(specs_with_copies(copies, Path(tmp) / "specs"))
        rules = load(render_all(plan))
        data = Path(tmp) / "source" / "data"
        wall, (own0, kids0), src0 = time.monotonic(), cpu(), source_cpu(data)
        outcome, _ = replay(plan, url, START, end, lambda _: None, resolution)
        took = time.monotonic() - wall
        (own1, kids1), src1 = cpu(), source_cpu(data)
        peer_took, kids2 = 0.0, kids1
        if peer:
            level0 = recording_levels(rules)[0]
            names = rules.recorded | {ALERTS}
            path = rules_file(level0, names, Path(tmp) / "level0.yml", resolution, STEP)
            started = time.monotonic()
            backfill_rules(path, url, START, end, Path(tmp) / "peer")
            peer_took = time.monotonic() - started
            _, kids2 = cpu()
    t = outcome.timings
    return (
        f"| {days}d | {len(plan.slos)} ({len(plan.slos) - copies} + {copies}) | {took:.1f} s | "
        f"{os.getloadavg()[0]:.1f} | "
        f"{own1 - own0:.1f} s + {kids1 - kids0:.1f} s + {src1 - src0:.1f} s | "
        f"{t['recording rules']:.1f} s / {t['alerts']:.1f} s | "
        + (
            f"{peer_took:.1f} s ({kids2 - kids1:.1f} s CPU) | {took / peer_took:.2f}x |"
            if peer
            else "not run | |"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="1,3")
    parser.add_argument("--resolution", default="0")
    parser.add_argument("--no-peer", action="store_true", help="skip the peer (long histories)")
    parser.add_argument("--slos", default="0", help="copies of dht-operations to add, e.g. 0,4,16")
    args = parser.parse_args()
    resolution = 0 if args.resolution in ("0", "0s") else seconds(args.resolution)
    print(
        "| history | SLOs (shipped + copies) | backtest wall | load | "
        "CPU own + children + source | recording / alerts | "
        "peer: promtool rules backfill, level 0 | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for days in (int(d) for d in args.days.split(",")):
        for copies in (int(n) for n in args.slos.split(",")):
            print(measure(days, resolution, not args.no_peer, copies), flush=True)


def seconds(text: str) -> int:
    from bzzzmon.promql.duration import parse_duration

    return parse_duration(text)


if __name__ == "__main__":
    main()
