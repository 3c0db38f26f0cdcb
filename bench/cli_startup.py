"""Whole-process timing of the `bzzzmon` commands a pre-commit hook and CI run, against peers
measured in the same run.

    python bench/cli_startup.py               # 7 runs of each command, median and min reported
    python bench/cli_startup.py --runs 15

Each row is a fresh process (`subprocess.run`), page cache warm (one untimed run first), so it
measures what a developer waits for: interpreter start, imports, the build, the tools. The peers:
``python -c pass`` (the floor any Python CLI pays), ``promtool --version`` (a Go binary, what a
Prometheus user is used to) and ``import every command module`` (what every command cost before the
CLI loaded commands lazily). Ratios are against ``python -c pass`` and ``promtool --version`` of
the same run, so a loaded machine shifts the columns together; the load average is printed, and
the CPU column (user + system of the process and its children) moves less with the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

EVERY_COMMAND_MODULE = "; ".join(
    f"import bzzzmon.cli.{m}_cmd"
    for m in ("build", "test", "lint", "diff", "schema", "exporter", "sim", "demo", "silence")
)


def commands() -> list[tuple[str, list[str]]]:
    bzzzmon = [PY, "-m", "bzzzmon"]
    rows = [("python -c pass", [PY, "-c", "pass"])]
    promtool = shutil.which("promtool")
    if promtool:
        rows.append(("promtool --version", [promtool, "--version"]))
    rows += [
        ("import every command module (the old CLI)", [PY, "-c", EVERY_COMMAND_MODULE]),
        ("bzzzmon --version", [*bzzzmon, "--version"]),
        ("bzzzmon build --help", [*bzzzmon, "build", "--help"]),
        ("bzzzmon build --check --no-verify", [*bzzzmon, "build", "--check", "--no-verify"]),
        ("bzzzmon build --check", [*bzzzmon, "build", "--check"]),
    ]
    return rows


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, the process and everything it waited for)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr.decode()}")
    return elapsed, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = commands()
    samples: dict[str, list[float]] = {label: [] for label, _ in rows}
    cpu: dict[str, list[float]] = {label: [] for label, _ in rows}
    for _, argv in rows:
        timed(argv)  # warm the page cache and the .pyc files
    # Interleaved, so a burst of load from elsewhere hits every command alike.
    for _ in range(args.runs):
        for label, argv in rows:
            wall, used = timed(argv)
            samples[label].append(wall)
            cpu[label].append(used)
    load = os.getloadavg()
    base = statistics.median(samples["python -c pass"])
    peer = statistics.median(samples.get("promtool --version", [base]))
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    print(
        "| command | median (s) | min (s) | CPU, median (s) | x python -c pass "
        "| x promtool --version |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, _ in rows:
        med = statistics.median(samples[label])
        print(
            f"| {label} | {med:.3f} | {min(samples[label]):.3f} "
            f"| {statistics.median(cpu[label]):.3f} | {med / base:.1f} | {med / peer:.1f} |"
        )


if __name__ == "__main__":
    main()
