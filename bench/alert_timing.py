"""Alert timing: when each alert tier of bzzzmon's rules, Sloth's shape and Pyrra's shape starts
and stops firing on known faults, played through the real ``promtool test rules``.

    python -m bench.alert_timing                         # 30d, 28d, 7d, every scenario
    python -m bench.alert_timing --periods 30d --scenarios outage-10m,burn-20x-2h --out t.md
    python -m bench.alert_timing --periods 30d --history 8h   # quick: page tiers only

For a ratio SLO at 99.9% (1,000 requests a minute over three instances, 1m evaluation; the
traffic model is in ``bench/alert_timing_scenarios.py``, the peers' shapes in
``bench/alert_timing_shapes.py``; bzzzmon's rules are whatever ``bzzzmon build`` generates from a
small spec), each scenario is one promtool run per shape and period:

* ``input_series``: the counters, with a healthy history before the fault as long as the longest
  window the shape's rules read (short of the period) plus an hour, so every tier's windows are
  full when the fault starts. The period window never is (days of history, not a period), which
  is why budget-exhausted alerts fire on short outages here (issue 11, item 3);
* ``group_eval_order``: the groups in file order, recordings before the alerts reading them (as
  bzzzmon's generated tests do; unordered, promtool picks a random order per run and a tier's
  detection moves by one interval from run to run). A live Prometheus runs its groups
  independently, so there an alert reads values up to one interval old: add up to a minute;
* ``alert_rule_test``: no alert expected at every minute from an hour before the fault to
  ``HORIZON`` after its end. promtool prints each alert it got instead: those lines are the
  alert states, minute by minute (``parse_promtool``).

Rules that no alert reads (metadata, dashboard-only period ratios) are pruned from every shape
first: they cannot change when an alert fires and the period-long ones cost most of the time.

Cost: promtool evaluates every rule each minute of the history, so a run is dominated by the 1d to
4d windows: about 28 s of CPU per 30d/28d run, 13 s for 7d (90 runs in all: ~35 CPU-minutes,
``--jobs`` processes at a time, default one per core). ``--history 8h`` makes every run a few
seconds and keeps the page tiers exact (their windows are at most 6h26m); the peers' ticket tiers
then read partly empty windows and detect early, bzzzmon's prorate them (as a full history would,
give or take the 5m grid their coverage counts on).

The table gives, per shape, tier and scenario, ``detect/reset`` in minutes: the first minute the
tier fires counted from the fault start (the first bad minute; its sample is scraped a minute
later), and the minute it stops firing counted from the fault end (negative: it stopped while the
fault still lasted). ``late`` marks a tier that fires only after the fault has ended, ``xN`` one
that starts firing N times, ``pre`` one already firing before the fault, ``>8h`` one still firing
at the horizon. ``missing`` and ``exhausted`` are the missing-data and budget-exhausted alerts.

``measure(rule_files, scenario)`` is the core, for tests: the ``Timing`` of every tier that fired.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import alert_timing_shapes as shapes
from bench.alert_timing_scenarios import BY_NAME, INSTANCES, SCENARIOS, Scenario, encode
from bench.alert_timing_scenarios import series_values as scenario_series
from bench.peers import METRIC
from bzzzmon.promql.duration import parse_duration

HORIZON = 8 * 60  # minutes observed after the fault ends
BEFORE = 60  # minutes observed before the fault starts
PERIODS = ("30d", "28d", "7d")
FAILED = re.compile(r"alertname: (\S+), time: (\S+),")
LABELS = re.compile(r"^\s*Labels:\{(.*)\}\s*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
RANGE = re.compile(r"\[(\d+[ywdhms][0-9ywdhms]*)(?::[^\]]*)?\]")
KIND = {"missing_data": "missing", "budget_exhausted": "exhausted"}


@dataclass
class Timing:
    """One tier on one scenario; minutes. ``firing`` holds the minutes (relative to the fault
    start) at which it fired."""

    tier: str
    fault_minutes: int
    observed: tuple[int, int]
    firing: list[int] = field(default_factory=list)

    @property
    def onsets(self) -> list[int]:
        return [t for t in self.firing if t - 1 not in self.firing]

    @property
    def detect(self) -> int | None:
        during = [t for t in self.firing if t >= 0]
        return during[0] if during else None

    @property
    def pre(self) -> bool:
        return bool(self.firing) and self.firing[0] <= self.observed[0]

    @property
    def reset(self) -> int | None:
        """Minutes after the fault end until the tier stops firing (None: still firing at the
        horizon)."""
        if not self.firing:
            return None
        last = self.firing[-1]
        return None if last >= self.observed[1] else last + 1 - self.fault_minutes

    @property
    def late(self) -> bool:
        """Fires after the fault ended, having not fired while it lasted."""
        return bool(self.firing) and not any(0 <= t < self.fault_minutes for t in self.firing)

    def cell(self) -> str:
        if not self.firing:
            return ""
        det = "pre" if self.pre else str(self.detect)
        reset = f">{HORIZON // 60}h" if self.reset is None else str(self.reset)
        out = f"{det}/{reset}"
        if self.late:
            out += " late"
        if len(self.onsets) > 1:
            out += f" x{len(self.onsets)}"
        return out


def tier_of(labels: dict[str, str]) -> str:
    if "tier" in labels:
        return labels["tier"]
    if labels.get("alert_kind") in KIND:
        return KIND[labels["alert_kind"]]
    name = labels.get("alertname", "")
    if "Absent" in name or "Missing" in name:
        return "missing"
    if "Exhausted" in name:
        return "exhausted"
    return name


def group_names(rule_files: Iterable[Path]) -> list[str]:
    """Every rule group's name, in file order."""
    return [
        str(g["name"])
        for f in rule_files
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", [])
    ]


def alert_names(rule_files: Iterable[Path]) -> list[str]:
    names: set[str] = set()
    for f in rule_files:
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            names.update(r["alert"] for r in g.get("rules", []) if "alert" in r)
    return sorted(names)


def history_minutes(rule_files: Iterable[Path], period: str) -> int:
    """Healthy history before the observed stretch: the longest range the rules read, short of
    the period itself (every tier window is then full of history when the fault starts; the
    period window never is), plus an hour."""
    longest = 0
    for f in rule_files:
        for g in (yaml.safe_load(f.read_text()) or {}).get("groups", []):
            for r in g.get("rules", []):
                for d in RANGE.findall(str(r.get("expr", ""))):
                    if (sec := parse_duration(d)) < parse_duration(period):
                        longest = max(longest, sec)
    return longest // 60 + 60


def test_file(
    rule_files: list[Path],
    scenario: Scenario,
    slo: str,
    history: int,
    path: Path,
    horizon: int = HORIZON,
) -> tuple[int, int]:
    """Write the promtool test; return the first and last sample minute relative to the fault."""
    first = -BEFORE - history
    last = scenario.fault_minutes + horizon
    values = scenario_series(scenario, first, last)
    series = [
        {
            "series": f'{METRIC}{{slo="{slo}",instance="{inst}",code="{code}"}}',
            "values": encode(values[(inst, code)]),
        }
        for inst in INSTANCES
        for code in ("200", "500")
    ]
    checks = [
        {"eval_time": f"{t - first}m", "alertname": name, "exp_alerts": []}
        for t in range(-BEFORE, last + 1)
        for name in alert_names(rule_files)
    ]
    doc = {
        "rule_files": [str(f.resolve()) for f in rule_files],
        "evaluation_interval": "1m",
        # Without it promtool evaluates the groups in a random order (Go map iteration), so an
        # alert read its recording rules' values of this step or of the last one by chance.
        # File order puts every shape's recordings before the alerts that read them.
        "group_eval_order": group_names(rule_files),
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1 << 20))
    return first, last


def parse_promtool(output: str, offset: int) -> dict[str, set[int]]:
    """The firing alerts of each eval time in promtool's failure report, by tier; times are
    minutes relative to the fault start (``offset`` = the first sample's)."""
    firing: dict[str, set[int]] = {}
    at: int | None = None
    for line in output.splitlines():
        if m := FAILED.search(line):
            at = parse_duration(m.group(2)) // 60 + offset if m.group(2) != "0s" else offset
        elif (m := LABELS.match(line)) and at is not None:
            firing.setdefault(tier_of(dict(LABEL.findall(m.group(1)))), set()).add(at)
    return firing


def measure(
    rule_files: list[Path],
    scenario: Scenario,
    slo: str | None = None,
    history: int | None = None,
    period: str = "30d",
    work: Path | None = None,
    horizon: int = HORIZON,
) -> dict[str, Timing]:
    """Play ``scenario`` through ``promtool test rules`` over ``rule_files``; the timing of every
    tier that fired at least once. ``slo`` names the SLO label of the input series (default: the
    shapes' plain or grouped SLO); ``history`` the healthy minutes before the observed stretch
    (default: ``history_minutes(rule_files, period)``); ``horizon`` the minutes observed after
    the fault (a reset later than that reads as still firing)."""
    slo = slo or (shapes.GROUPED if scenario.grouped else shapes.PLAIN)
    history = history_minutes(rule_files, period) if history is None else history
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        path = Path(tmp) / f"{scenario.name}.test.yml"
        first, last = test_file(rule_files, scenario, slo, history, path, horizon)
        res = subprocess.run(
            ["promtool", "test", "rules", str(path)], capture_output=True, text=True, check=False
        )
    output = res.stdout + res.stderr
    firing = parse_promtool(output, first)
    if res.returncode != 0 and not firing:
        raise RuntimeError(f"promtool failed on {scenario.name}:\n{output[-4000:]}")
    if res.returncode == 0 and firing:
        raise RuntimeError(f"promtool passed although alerts fired on {scenario.name}")
    observed = (-BEFORE, last)
    return {
        tier: Timing(tier, scenario.fault_minutes, observed, sorted(ts))
        for tier, ts in sorted(firing.items())
    }


# --- the whole run ------------------------------------------------------------------------------
TIER_ORDER = ("page-fast", "page-slow", "ticket-fast", "ticket-slow", "missing", "exhausted")
ABBREV = {
    "page-fast": "PF",
    "page-slow": "PS",
    "ticket-fast": "TF",
    "ticket-slow": "TS",
    "missing": "missing",
    "exhausted": "exhausted",
}


def order(tier: str) -> tuple[int, str]:
    return (TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER), tier)


def cell(timings: dict[str, Timing]) -> str:
    parts = [f"{ABBREV.get(t, t)} {timings[t].cell()}" for t in sorted(timings, key=order)]
    return "; ".join(parts) or "-"


def run(
    periods: list[str],
    scenarios: list[Scenario],
    jobs: int,
    work: Path,
    history: int | None = None,
) -> dict[tuple[str, str, str], dict[str, Timing]]:
    rules = {(sh, p): shapes.rules_for(sh, p, work) for p in periods for sh in shapes.SHAPES}
    tasks = [(p, sh, sc) for p in periods for sc in scenarios for sh in shapes.SHAPES]

    def one(task: tuple[str, str, Scenario]) -> dict[str, Timing]:
        p, sh, sc = task
        files = rules[(sh, p)].files[shapes.GROUPED if sc.grouped else shapes.PLAIN]
        return measure(files, sc, history=history, period=p, work=work)

    def logged(task: tuple[str, str, Scenario]) -> dict[str, Timing]:
        r = one(task)
        # A full run takes long on a shared machine: each cell is on stderr as soon as it is known.
        print(f"{task[0]} {task[1]} {task[2].name}: {cell(r)}", file=sys.stderr, flush=True)
        return r

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(logged, tasks))
    return {(p, sh, sc.name): r for (p, sh, sc), r in zip(tasks, results, strict=True)}


def table(
    results: dict[tuple[str, str, str], dict[str, Timing]],
    periods: list[str],
    scenarios: list[Scenario],
    history: str | None = None,
) -> str:
    lines = []
    if history:
        lines += [
            f"History before each fault: {history} (ticket tiers read longer windows: "
            "the peers' detect early here, bzzzmon's are prorated).",
            "",
        ]
    for p in periods:
        lines += [
            f"**{p}, 99.9%, 1,000 req/min, 1m evaluation** (detect/reset in minutes)",
            "",
            "| scenario | Sloth's shape | Pyrra's shape | bzzzmon |",
            "|---|---|---|---|",
        ]
        for sc in scenarios:
            cells = [cell(results[(p, sh, sc.name)]) for sh in shapes.SHAPES]
            lines.append(f"| {sc.title} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "PF/PS/TF/TS: page-fast/page-slow/ticket-fast/ticket-slow. detect: first firing minute "
        "after the fault start; reset: minutes after the fault end until it stops firing "
        "(negative: stopped during the fault). late: fired only after the fault ended; xN: "
        "started firing N times; pre: firing before the fault. Sloth's page and ticket alerts "
        "are shown per tier (each alert fires when either of its tiers does)."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--periods", default=",".join(PERIODS), help="comma-separated, e.g. 30d,7d")
    ap.add_argument(
        "--scenarios",
        default=",".join(s.name for s in SCENARIOS),
        help="comma-separated: " + ", ".join(s.name for s in SCENARIOS),
    )
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="promtool processes")
    ap.add_argument(
        "--history",
        help="healthy history before each fault, e.g. 8h for a quick run of the "
        "page tiers (default: the longest window the shape reads, so ticket tiers are right too)",
    )
    ap.add_argument("--out", type=Path, help="also write the Markdown table here")
    ap.add_argument("--work", type=Path, help="keep rule files here (default: a temp dir)")
    args = ap.parse_args(argv)
    periods = [p for p in args.periods.split(",") if p]
    unknown = [s for s in args.scenarios.split(",") if s and s not in BY_NAME]
    if unknown:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    scenarios = [BY_NAME[s] for s in args.scenarios.split(",") if s]
    if shutil.which("promtool") is None:
        ap.error("promtool is not on PATH (make tools installs it)")
    try:
        for p in periods:
            parse_duration(p)
        history = parse_duration(args.history) // 60 if args.history else None
    except ValueError as e:
        ap.error(str(e))
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = run(periods, scenarios, max(1, args.jobs), work, history)
        text = table(results, periods, scenarios, args.history)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
