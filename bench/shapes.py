"""The rule files of every measured shape for one N: bzzzmon's (from ``bzzzmon build``), Sloth's,
Pyrra's, and bzzzmon variants derived from its generated files."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bench import peers
from bzzzmon import conventions as C

REPO = Path(__file__).resolve().parent.parent
RENDER_RULES = """
import sys
from pathlib import Path
from bzzzmon.render import rules
from bzzzmon.spec.plan import load_plan
spec, out = Path(sys.argv[1]), Path(sys.argv[2])
for name, text in rules.render(load_plan(spec)).items():
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
"""
PERIOD_RECORDS = (C.REC_PERIOD_BURN, C.REC_BUDGET_REMAINING)
PERIOD_RATIO_PREFIX = C.rec_name(C.REC_ERROR_RATIO, "")
BAD_5M = C.rec_name(C.REC_BAD_RATE, "5m")
TOTAL_5M = C.rec_name(C.REC_TOTAL_RATE, "5m")


def build_bzzzmon(
    slos: list[peers.Slo], work: Path, log: Path, repo: Path = REPO, name: str = "bzzzmon"
) -> tuple[list[Path], str]:
    """Rule files from the real ``bzzzmon build`` of the ``bzzzmon`` package in ``repo`` (another
    tree's, for a base measured in the same run); falls back to the stand-in shape (and says so)
    when the CLI is not usable."""
    spec = work / f"{name}-spec"
    out = work / f"{name}-out"
    shutil.rmtree(spec, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    peers.write_bzzzmon_spec(slos, spec)
    cmd = [
        sys.executable, "-m", "bzzzmon.cli", "build",
        "--specs", str(spec), "--out", str(out), "--no-verify",
    ]  # fmt: skip
    with log.open("ab") as f:
        rc = subprocess.run(cmd, cwd=repo, stdout=f, stderr=subprocess.STDOUT, check=False)
    files = sorted((out / "prometheus" / "rules").glob("slo-*.rules.yml"))
    if rc.returncode == 0 and files:
        return files, "bzzzmon build"
    # `bzzzmon build` lints dashboards against the BZZZ metric contract, which the synthetic
    # `bench_requests_total` is not part of; the rules renderer itself does not care.
    print(f"  bzzzmon build failed (rc={rc.returncode}, see {log}); rendering the rules directly")
    with log.open("ab") as f:
        rc = subprocess.run(
            [sys.executable, "-c", RENDER_RULES, str(spec), str(out)],
            cwd=repo, stdout=f, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    files = sorted((out / "prometheus" / "rules").glob("slo-*.rules.yml"))
    if rc.returncode == 0 and files:
        return files, "bzzzmon.render.rules (build's lint skipped)"
    print(f"  rendering failed (rc={rc.returncode}, see {log}); using the stand-in shape")
    path = peers.bzzzmon_shape_rules(slos).dump(work / f"{name}-standin" / "rules.yml")
    return [path], "stand-in (bench/peers.py)"


def split_period_group(files: list[Path], interval: str, out_dir: Path) -> list[Path]:
    """Variant: the period ratio and the rules that only depend on it move into their own group
    per SLO, evaluated every ``interval`` instead of every global evaluation interval."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = []
    for f in files:
        doc: dict[str, Any] = yaml.safe_load(f.read_text())
        groups: list[dict[str, Any]] = []
        for g in doc["groups"]:
            keep, moved = [], []
            for r in g["rules"]:
                rec = r.get("record", "")
                is_period = rec in PERIOD_RECORDS or (
                    rec.startswith(PERIOD_RATIO_PREFIX) and rec.endswith(("28d", "30d"))
                )
                (moved if is_period else keep).append(r)
            groups.append({**g, "rules": keep})
            if moved:
                groups.append({"name": g["name"] + "-period", "interval": interval, "rules": moved})
        path = out_dir / f.name
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=300))
        result.append(path)
    return result


def hourly_level(files: list[Path], out_dir: Path) -> list[Path]:
    """Variant: an intermediate level. Bad and total are summed over each hour in a group that runs
    once an hour (``slo:sli_*_events:sum1h``, sums of 5m rates), and the period ratio sums those
    (720 samples for 30d instead of 86,400)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = []
    for f in files:
        doc: dict[str, Any] = yaml.safe_load(f.read_text())
        groups: list[dict[str, Any]] = []
        for g in doc["groups"]:
            keep = []
            hourly: list[dict[str, Any]] = []
            for r in g["rules"]:
                rec = r.get("record", "")
                if rec.startswith(PERIOD_RATIO_PREFIX) and rec.endswith(("28d", "30d")):
                    slo = r["labels"]["slo"]
                    period = rec.removeprefix(PERIOD_RATIO_PREFIX)
                    sel = f'{{slo="{slo}"}}'
                    lab = copy.deepcopy(r["labels"])
                    hourly = [
                        {
                            "record": C.REC_BAD_SUM_1H,
                            "expr": f"sum_over_time({BAD_5M}{sel}[1h])",
                            "labels": lab,
                        },
                        {
                            "record": C.REC_TOTAL_SUM_1H,
                            "expr": f"sum_over_time({TOTAL_5M}{sel}[1h])",
                            "labels": lab,
                        },
                    ]
                    keep.append(
                        {
                            **r,
                            "expr": f"sum_over_time({C.REC_BAD_SUM_1H}{sel}[{period}])"
                            f" / sum_over_time({C.REC_TOTAL_SUM_1H}{sel}[{period}])",
                        }
                    )
                else:
                    keep.append(r)
            groups.append({**g, "rules": keep})
            if hourly:
                groups.append({"name": g["name"] + "-hourly", "interval": "1h", "rules": hourly})
        path = out_dir / f.name
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=300))
        result.append(path)
    return result


def write_peer(rs: peers.RuleSet, work: Path) -> list[Path]:
    return [rs.dump(work / rs.shape / "rules.yml")]
