"""Benchmark `bzzzmon build`: the shipped spec and generated specs of 10, 100, 1,000 and 3,000
SLOs, without and with promtool/amtool verification.

    python bench/build_bench.py                 # all sizes, 3 runs each, median reported
    python bench/build_bench.py --sizes 100 1000 3000 --runs 1 --no-verify-runs
    python bench/build_bench.py --profile 1000  # cProfile of one 1,000-SLO build, top 30
    python bench/build_bench.py --distinct      # every SLO its own objective: no replay shared

Each run is a fresh `build()` in this process on a spec directory written beforehand, into a new
output directory (so nothing is carried over from an earlier output), bzzzmon's process-wide
caches emptied first (a run costs what one `bzzzmon build` process pays); the time covers loading,
validation, rendering, checks, staging, verification (when on) and the atomic swap. The CPU
column is this process's user + system time (the tools' excluded): on a machine shared with other
work it moves far less than the wall clock, and the load average is printed. Peak memory is the
process's maximum RSS (``resource``), so a row includes the rows before it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bzzzmon.build import build  # noqa: E402
from bzzzmon.slo.replay import forget_replays  # noqa: E402

SERVICE = """\
apiVersion: bzzzmon/v1
service:
  name: bench
  alert_prefix: Bench
  runbook_url: https://runbooks.example/bench.md
  selectors:
    app: {job: bench}
metrics:
  bench_requests_total: counter
  bench_request_seconds: histogram
  bench_workers: gauge
components:
  - name: api
    weight: 1
"""

KINDS = ("ratio", "latency", "time")


def slo_yaml(i: int, distinct: bool = False) -> str:
    """One SLO; the kinds rotate so every SLI shape is in the mix. ``distinct``: every SLO its
    own objective (99.1000%, 99.1001%, ...), so no two SLOs share a replayed test case."""
    kind = KINDS[i % len(KINDS)]
    name = f"svc-{i:04d}"
    alert = f"BenchSvc{i:04d}BudgetBurn"
    if kind == "ratio":
        sli = (
            "      ratio:\n"
            f'        bad: \'bench_requests_total{{$app, svc="{name}", code=~"5.."}}\'\n'
            f"        total: 'bench_requests_total{{$app, svc=\"{name}\"}}'\n"
        )
    elif kind == "latency":
        sli = (
            "      latency:\n"
            f"        histogram: 'bench_request_seconds{{$app, svc=\"{name}\"}}'\n"
            "        threshold: 0.25\n"
        )
    else:
        sli = (
            "      time:\n"
            f"        expr: 'bench_workers{{$app, svc=\"{name}\"}}'\n"
            '        op: ">="\n'
            "        threshold: 2\n"
        )
    period = ("30d", "28d", "7d")[i % 3]
    objective = f"99.{1000 + i:04d}" if distinct else "99.9"
    return (
        f"  - name: {name}\n    component: api\n    objective: {objective}\n    period: {period}\n"
        f"    sli:\n{sli}    alerting:\n      name: {alert}\n"
    )


def write_spec(directory: Path, n: int, distinct: bool = False) -> None:
    directory.mkdir(parents=True)
    (directory / "service.yaml").write_text(SERVICE)
    body = "apiVersion: bzzzmon/v1\nslos:\n" + "".join(slo_yaml(i, distinct) for i in range(n))
    (directory / "slos.yaml").write_text(body)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def forget_caches() -> None:
    """Empty bzzzmon's process-wide caches (parsed expressions, formatted numbers, replays), so
    each run costs what one `bzzzmon build` process pays, not a warm second build."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] != "bzzzmon":
            continue
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()
    forget_replays()


def measure(specs: Path, work: Path, runs: int, verify: bool) -> tuple[float, float, float, int]:
    """Median wall-clock, CPU and kernel CPU seconds of ``runs`` builds, and the number of
    files. Outputs stay until the whole bench ends: on this VM's ext4 (no journal) creating a
    file costs a scan past every inode deleted in the last minute or so, so deleting one run's
    3,000 files made the next run's writes cost 0.8-2 s of kernel time instead of 0.3 s."""
    times = []
    cpu = []
    kernel = []
    files = 0
    for r in range(runs):
        out = work / f"out-{specs.name}-{verify}-{r}"
        forget_caches()
        start, before = time.perf_counter(), os.times()
        result = build(specs, out, verify=verify, require_tools=verify)
        after = os.times()
        times.append(time.perf_counter() - start)
        cpu.append(after.user - before.user + after.system - before.system)
        kernel.append(after.system - before.system)
        if not result.ok:
            raise SystemExit(f"build failed: {result.errors or result.failures}")
        files = len(result.files)
    return statistics.median(times), statistics.median(cpu), statistics.median(kernel), files


def profile(n: int, distinct: bool = False) -> None:
    import cProfile
    import pstats

    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=results) as tmp:
        specs = Path(tmp) / "spec"
        write_spec(specs, n, distinct)
        profiler = cProfile.Profile()
        profiler.runcall(build, specs, Path(tmp) / "out", verify=False)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000, 3000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--no-verify-runs", action="store_true", help="measure only without verification"
    )
    parser.add_argument("--profile", type=int, metavar="N", help="profile one N-SLO build")
    parser.add_argument(
        "--distinct", action="store_true", help="every SLO its own objective (nothing shared)"
    )
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.distinct)
        return
    rows = []
    # The work tree sits beside the repository: on this machine /tmp creates files ten times
    # slower than the project's filesystem, which would measure the filesystem, not bzzzmon.
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=results) as tmp:
        work = Path(tmp)
        # The BZZZ service alone, as measured before specs/ held a second service.
        bzzz = work / "bzzz"
        shutil.copytree(ROOT / "specs" / "bzzz", bzzz)
        shutil.copy(ROOT / "specs" / "shared.yaml", bzzz / "shared.yaml")
        cases: list[tuple[str, Path, int]] = [("shipped BZZZ spec", bzzz, 5)]
        for n in args.sizes:
            d = work / f"spec-{n}"
            write_spec(d, n, args.distinct)
            cases.append((f"{n} SLOs", d, n))
        for label, specs, n in cases:
            print(f"measuring {label} ...", file=sys.stderr, flush=True)
            fast, fast_cpu, fast_kernel, files = measure(specs, work, args.runs, verify=False)
            slow = None if args.no_verify_runs else measure(specs, work, args.runs, verify=True)[0]
            rows.append((label, n, files, fast, fast_cpu, fast_kernel, slow, rss_mib()))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    print(
        "| spec | SLOs | files | build, no verify (s) | CPU (s) | of it kernel (s) "
        "| CPU ms per SLO | build + promtool/amtool (s) | max RSS (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, files, fast, fast_cpu, fast_kernel, slow, rss in rows:
        slow_text = f"{slow:.2f}" if slow is not None else "-"
        print(
            f"| {label} | {n} | {files} | {fast:.2f} | {fast_cpu:.2f} | {fast_kernel:.2f} "
            f"| {fast_cpu / n * 1000:.1f} | {slow_text} | {rss:.0f} |"
        )


if __name__ == "__main__":
    main()
