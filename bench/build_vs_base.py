"""The build against the project's own base in the same run: ``bzzzmon build`` (no
verification) of the same generated specs by this tree and by a git ref (default ``main``),
each build in a fresh process (cold caches, as the CLI), alternating, CPU seconds of the build
call alone (imports excluded), median of ``--runs``.

    python bench/build_vs_base.py                      # 10, 100 SLOs against main
    python bench/build_vs_base.py --sizes 100 300 --base 2eea301 --distinct

The ratio column (base / this tree) moves little with the machine's load, since both sides run
beside the same load; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.build_bench import write_spec  # noqa: E402

# Run in the child: import the bzzzmon found first on sys.path, time one build() of argv[1].
CHILD = """\
import os, sys
from pathlib import Path
from bzzzmon.build import build
before = os.times()
build(Path(sys.argv[1]), Path(sys.argv[2]), verify=False)
after = os.times()
print(after.user - before.user, after.system - before.system)
"""


def export(ref: str, into: Path) -> Path:
    """The ``bzzzmon`` package of ``ref``, unpacked below ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "base.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", ref, "bzzzmon"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def cpu_of_build(package_root: Path, specs: Path, out: Path) -> tuple[float, float]:
    """User and kernel CPU seconds of the build call. The kernel's share is mostly creating
    the files, which on this VM costs more the more files were deleted in the last minute
    (ext4 without a journal skips recently freed inodes one by one): read the user column."""
    env = dict(os.environ, PYTHONPATH=str(package_root))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(specs), str(out)],
        env=env,
        cwd=package_root,
        capture_output=True,
        text=True,
        check=True,
    )
    user, kernel = done.stdout.strip().splitlines()[-1].split()
    return float(user), float(kernel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", default="main")
    parser.add_argument("--distinct", action="store_true", help="every SLO its own objective")
    args = parser.parse_args()
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=results) as tmp:
        work = Path(tmp)
        base = export(args.base, work / "base")
        rows = []
        for n in args.sizes:
            specs = work / f"spec-{n}"
            write_spec(specs, n, args.distinct)
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            for r in range(args.runs):
                print(f"{n} SLOs, run {r + 1} ...", file=sys.stderr, flush=True)
                theirs.append(cpu_of_build(base, specs, work / f"base-{n}-{r}"))
                ours.append(cpu_of_build(ROOT, specs, work / f"ours-{n}-{r}"))
            rows.append((n, _median(theirs), _median(ours)))
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores")
    kind = "distinct objectives" if args.distinct else "one objective"
    print(
        f"| SLOs ({kind}) | {args.base}: user + kernel CPU (s) | this tree (s) "
        f"| {args.base} / this, user |"
    )
    print("|---:|---:|---:|---:|")
    for n, (their_user, their_kernel), (our_user, our_kernel) in rows:
        print(
            f"| {n} | {their_user:.2f} + {their_kernel:.2f} | {our_user:.2f} + {our_kernel:.2f} "
            f"| {their_user / our_user:.2f}x |"
        )


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """The run of median user time, with its kernel time."""
    return sorted(runs)[(len(runs) - 1) // 2]


if __name__ == "__main__":
    main()
