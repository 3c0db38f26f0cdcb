"""Where a generated promtool test file spends its time: each test group run alone by promtool,
beside the whole file in the same run, so each group's share of the file shows which scenario
to shorten first (issue 18).

    python bench/rule_test_groups.py generated/prometheus/bzzz/tests/slo-dht-operations.test.yml
    python bench/rule_test_groups.py FILE --promtool .tools/promtool-3.5.3/usr/bin/promtool
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _run(promtool: str, path: Path) -> float:
    """Wall seconds of one ``promtool test rules`` run, which must pass."""
    began = time.perf_counter()
    done = subprocess.run(
        [promtool, "test", "rules", path.name], cwd=path.parent, capture_output=True
    )
    if done.returncode != 0:
        sys.exit(f"{path}: promtool failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return time.perf_counter() - began


def _last_eval(group: dict[str, Any]) -> int:
    checks = [*group.get("promql_expr_test", []), *group.get("alert_rule_test", [])]
    return max(int(str(c["eval_time"]).rstrip("s")) for c in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    args = parser.parse_args()
    source: Path = args.file.resolve()
    promtool = str(Path(args.promtool).resolve()) if os.sep in args.promtool else args.promtool
    document = yaml.safe_load(source.read_text())
    with tempfile.TemporaryDirectory(prefix="bzzzmon-groups-") as tmp:
        # The rule files by absolute path, so the copies run from anywhere.
        rules = [str((source.parent / r).resolve()) for r in document["rule_files"]]
        whole = Path(tmp, "whole.test.yml")
        whole.write_text(yaml.safe_dump(document | {"rule_files": rules}))
        total = _run(promtool, whole)
        print(f"load {os.getloadavg()[0]:.1f}; {source.name}: {total:.1f} s with {promtool}")
        print("| group | interval | last check (h) | seconds | share of the file |")
        print("|---:|---:|---:|---:|---:|")
        for i, group in enumerate(document["tests"]):
            alone = Path(tmp, f"group{i}.test.yml")
            alone.write_text(yaml.safe_dump(document | {"rule_files": rules, "tests": [group]}))
            seconds = _run(promtool, alone)
            hours = _last_eval(group) / 3600
            share = seconds / total
            print(f"| {i} | {group['interval']} | {hours:.0f} | {seconds:.1f} | {share:.0%} |")


if __name__ == "__main__":
    main()
