"""Where one ``bzzzmon build`` of N generated SLOs spends its CPU: user + kernel seconds of each
renderer and check and of writing the files, in one process, caches cold, the collector paused
as ``build()`` pauses it (cProfile's overhead inflates small Python functions; this does not).

    python bench/build_stages.py 1000
    python bench/build_stages.py 1000 --distinct

The write stage's kernel time depends on how many files were deleted on the disk in the last
minutes (see bench/README.md, fourth pass): it is printed apart.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.build_bench import forget_caches, write_spec  # noqa: E402
from bzzzmon import build as B  # noqa: E402
from bzzzmon.render.output import forget_rendered  # noqa: E402
from bzzzmon.spec.services import load_services  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("--distinct", action="store_true", help="every SLO its own objective")
    args = parser.parse_args()
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stages: dict[str, tuple[float, float]] = {}

    def timed(name: str, run: Callable[..., Any], *call: Any) -> Any:
        before = os.times()
        value = run(*call)
        after = os.times()
        user, kernel = stages.get(name, (0.0, 0.0))
        stages[name] = (user + after.user - before.user, kernel + after.system - before.system)
        return value

    with tempfile.TemporaryDirectory(dir=results) as tmp:
        work = Path(tmp)
        write_spec(work / "spec", args.n, args.distinct)
        forget_caches()
        gc.disable()
        plan = timed("loading", load_services, work / "spec").plans[0]
        files: dict[str, str] = {}
        for renderer in B.RENDERERS:
            files.update(timed(renderer.__module__, renderer, plan))
        files = dict(sorted(files.items()))
        for check in B.CHECKS:
            timed(check.__module__, check, plan, files)
        forget_rendered()
        (work / "out").mkdir()
        timed(f"writing {len(files)} files", B.write_tree, work / "out", files)
        gc.enable()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    print("| stage | user CPU (s) | kernel CPU (s) |")
    print("|---|---:|---:|")
    for name, (user, kernel) in sorted(stages.items(), key=lambda kv: -sum(kv[1])):
        print(f"| {name} | {user:.2f} | {kernel:.2f} |")
    total_user = sum(u for u, _ in stages.values())
    total_kernel = sum(k for _, k in stages.values())
    print(f"| total | {total_user:.2f} | {total_kernel:.2f} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
