"""Entry point: rule evaluation cost and SLI accuracy of bzzzmon's SLO rules against Sloth's and
Pyrra's rule shapes, on a real Prometheus (2.42 on PATH, or --prometheus) over 30 days of
backfilled synthetic data.

    python -m bench.run_rule_bench --n 10
    python -m bench.run_rule_bench --all            # N = 10, 100 (add --n 1000 separately)
    python -m bench.run_rule_bench --n 10 --reuse --prometheus PATH  # the same data, another binary
    python -m bench.run_rule_bench --n 10 --reuse --base main  # and main's rules beside this tree's

Results go to bench/results/ (JSON and markdown); temporary data to --work (default /tmp).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    accuracy,
    backfill,
    build_vs_base,
    peers,
    promserver,
    rule_cost,
    samples_cost,
    shapes,
)
from bench.live_exporter import Feeder, serving
from bench.workload import STEP, Workload, write
from bzzzmon import conventions as C

RESULTS = Path(__file__).resolve().parent / "results"


def prepare_data(w: Workload, work: Path, eval_interval: int, reuse: bool) -> Path:
    """Generate, backfill and settle the data dir for ``w`` (or reuse a previous one)."""
    data = work / "data"
    meta_file = work / "input" / "workload.json"
    if reuse and meta_file.exists() and (work / "settled").exists():
        meta = json.loads(meta_file.read_text())
        print(f"  reusing data dir {data} (end={meta['end']})")
        if not (work / "hourly").exists():
            log = work / "backfill.log"
            backfill.backfill_hourly(data, work, w.start + 3600, w.end, log)
            (work / "hourly").write_text("1\n")
            backfill.settle(data, work, log)
        return data
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log = work / "backfill.log"
    t0 = time.monotonic()
    meta = write(w, work / "input")
    print(
        f"  workload: {meta['series']} series, {meta['samples']:,} samples, "
        f"{meta['openmetrics_bytes'] / 2**30:.2f} GiB OpenMetrics in {meta['seconds']}s"
    )
    backfill.backfill_raw(work / "input" / "workload.om", data, log)
    (work / "input" / "workload.om").unlink()
    backfill.backfill_recorded(data, work, w.start + 600, w.end, log, eval_interval)
    backfill.backfill_hourly(data, work, w.start + 3600, w.end, log)
    (work / "hourly").write_text("1\n")
    backfill.settle(data, work, log)
    (work / "settled").write_text(f"{time.monotonic() - t0:.0f}\n")
    return data


def rule_sets(
    slos: list[peers.Slo], work: Path, variants: bool, base: str | None = None
) -> tuple[dict[str, list[Path]], str]:
    rules_dir = work / "rules"
    shutil.rmtree(rules_dir, ignore_errors=True)
    rules_dir.mkdir(parents=True)
    bz, origin = shapes.build_bzzzmon(slos, rules_dir, work / "build.log")
    sets = {
        "bzzzmon": bz,
        "sloth": shapes.write_peer(peers.sloth_rules(slos), rules_dir),
        "pyrra": shapes.write_peer(peers.pyrra_rules(slos), rules_dir),
    }
    if base is not None:
        # The same spec built by another ref's bzzzmon: a before/after in the same run.
        shutil.rmtree(work / "base-tree", ignore_errors=True)
        tree = build_vs_base.export(base, work / "base-tree")
        name = f"bzzzmon {base}"
        sets[name], _ = shapes.build_bzzzmon(slos, rules_dir, work / "build.log", tree, "base")
    if variants:
        sets["bzzzmon period@4m"] = shapes.split_period_group(
            bz, "4m", rules_dir / "bzzzmon-period-4m"
        )
        sets["bzzzmon hourly-level"] = shapes.hourly_level(bz, rules_dir / "bzzzmon-hourly")
    return sets, origin


def run_accuracy(
    w: Workload,
    data: Path,
    work: Path,
    sets: dict[str, list[Path]],
    slos: list[peers.Slo],
    alert_slos: int,
    eval_interval: int,
) -> dict[str, Any]:
    truth_rows = json.loads((work / "input" / "truth.json").read_text())
    truth = {t["slo"]: t["ratio"] for t in truth_rows}
    idle = {t["slo"] for t in truth_rows if t["idle_night"]}
    episodes = json.loads((work / "input" / "episodes.json").read_text())
    names = [s.name for s in slos]
    period = slos[0].period
    cfg = work / "prometheus-accuracy.yml"
    promserver.write_config(cfg, [], None, "60s")
    out: dict[str, Any] = {"period": {}, "alerts": {}}
    with promserver.running(cfg, data, work / "accuracy.log") as prom:
        exprs = {
            **{
                shape: accuracy.bzzzmon_period_exprs(files, names, period)
                for shape, files in sets.items()
                if shape.startswith("bzzzmon")
            },
            "sloth": accuracy.sloth_period_exprs(sets["sloth"], slos),
            "sloth (NaN 5m ratios skipped)": accuracy.sloth_nan_skipped_exprs(slos, eval_interval),
            "pyrra": accuracy.pyrra_period_exprs(slos),
        }
        out["period_exprs_example"] = {k: v[names[0]] for k, v in exprs.items()}
        bad_rules = {
            r.labels.get("slo", ""): r.expr
            for r in accuracy.Inliner(sets["bzzzmon"]).rules.get(
                C.rec_name(C.REC_BAD_RATE, "5m"), []
            )
        }
        checked = slos[:3]
        when = [w.period_start + k * 86400 * 3 + 4321 for k in range(10)]
        count, worst = backfill.check_equivalence(prom, checked, bad_rules, when)
        out["backfill_equivalence"] = {"comparisons": count, "worst_rel_diff": worst}
        print(f"  backfilled base series vs per-SLO rules: {count} compared, worst {worst:.3g}")
        for shape, by_slo in exprs.items():
            rows = accuracy.period_rows(prom, shape, by_slo, truth, w.end, slos[0].objective / 100)
            out["period"][shape] = [
                {
                    "slo": r.slo,
                    "exact": r.exact,
                    "value": r.value,
                    "rel_error": r.rel_error,
                    "budget_remaining_exact": r.budget_remaining(r.exact),
                    "budget_remaining": r.budget_remaining(r.value),
                    "idle_night": r.slo in idle,
                }
                for r in rows
            ]
        # Samples read per evaluation round, per shape: all SLOs up to 100, else the first 100
        # scaled to N (every SLO of a shape has the same rules over the same number of series).
        subset = {s.name for s in slos[:100]} if len(slos) > 100 else None
        scale = len(slos) / 100 if subset else 1.0
        out["samples_cost"] = {}
        for shape, files in sets.items():
            c = samples_cost.measure(prom, shape, files, w.end, eval_interval, subset)
            out["samples_cost"][shape] = {
                "rules_measured": c.rules,
                "samples_per_round": round(c.samples * scale),
                "by_kind": {k: round(v * scale) for k, v in c.by_kind.items()},
                "scaled_from_slos": c.slos if subset else len(slos),
            }
            print(f"  samples/round {shape}: {c.samples * scale:,.0f}", flush=True)
        if alert_slos > 0:
            chosen = slos[:alert_slos]
            chosen_names = {s.name for s in chosen}
            conds = (
                accuracy.bzzzmon_conditions(sets["bzzzmon"], chosen_names)
                + accuracy.peer_conditions("sloth", sets["sloth"], chosen)
                + accuracy.peer_conditions("pyrra", sets["pyrra"], chosen)
            )
            long_of = {(c.shape, c.tier): c.long for c in conds}
            outcomes = accuracy.evaluate_alerts(prom, conds, w.period_start, w.end)
            eps = [e for e in episodes if e["slo"] in chosen_names]
            detections, spurious = accuracy.attribute(outcomes, eps, long_of)
            out["alerts"] = {
                "slos": sorted(chosen_names),
                "episodes": eps,
                "detections": detections,
                "spurious": spurious,
                "outcomes": [asdict(o) for o in outcomes],
            }
    return out


def run_cost(
    w: Workload,
    data: Path,
    work: Path,
    sets: dict[str, list[Path]],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    feeder = Feeder(w, work / "input" / "finals.json")
    results = []
    with serving(feeder) as target:
        order = [s for s in sets if not args.shapes or s in args.shapes]
        if args.baseline:
            order = ["none", *order]
        for shape in order:
            files = [] if shape == "none" else sets[shape]
            r = rule_cost.measure(
                shape, w.n_slos, files, data, work, target,
                args.eval_interval, args.warmup, args.cycles,
            )  # fmt: skip
            results.append(r.as_dict())
    return results


# --- reporting --------------------------------------------------------------------------------
def fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return f"{x:.{digits}g}"


def cost_table(cost: list[dict[str, Any]]) -> str:
    by = {c["shape"]: c for c in cost}
    bz = by.get("bzzzmon")
    lines = [
        "| shape | rules | groups | group time / round (median) | max | bzzzmon / shape | "
        "rule eval time / round (mean) | bzzzmon / shape | CPU s / round | bzzzmon / shape | "
        "rounds / min | samples / round | CPU s/min | RSS MiB | missed | failures | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cost:
        ratio = bz["group_seconds"] / c["group_seconds"] if bz and c["group_seconds"] else math.nan
        ratio2 = (
            bz["eval_seconds_per_round"] / c["eval_seconds_per_round"]
            if bz and c["eval_seconds_per_round"]
            else math.nan
        )
        cpu = c.get("cpu_seconds_per_round")
        bz_cpu = bz.get("cpu_seconds_per_round") if bz else None
        ratio3 = bz_cpu / cpu if cpu and bz_cpu else None
        lines.append(
            f"| {c['shape']} | {c['rules']} | {c['groups']} | {c['group_seconds'] * 1000:.1f} ms | "
            f"{c['group_seconds_max'] * 1000:.1f} ms | {fmt(ratio, 3)} | "
            f"{c['eval_seconds_per_round'] * 1000:.1f} ms | {fmt(ratio2, 3)} | "
            f"{fmt(cpu, 3)} | {fmt(ratio3, 3)} | {fmt(c.get('rounds_per_min'), 3)} | "
            f"{c['samples']:.0f} | "
            f"{c['cpu_seconds_per_min']:.2f} | {c['rss_mib']:.0f} | {c['missed']:.0f} | "
            f"{c['failures']:.0f} | {c.get('load_avg_1m', math.nan):.1f} |"
        )
    return "\n".join(lines)


def samples_table(sc: dict[str, Any]) -> str:
    bz = sc.get("bzzzmon", {}).get("samples_per_round")
    kinds = sorted({k for v in sc.values() for k in v["by_kind"]})
    lines = [
        "| shape | samples read / round | bzzzmon / shape | " + " | ".join(kinds) + " |",
        "|---|---:|---:|" + "---:|" * len(kinds),
    ]
    for shape, v in sc.items():
        ratio = bz / v["samples_per_round"] if bz and v["samples_per_round"] else math.nan
        lines.append(
            f"| {shape} | {v['samples_per_round']:,} | {fmt(ratio, 3)} | "
            + " | ".join(f"{v['by_kind'].get(k, 0):,}" for k in kinds)
            + " |"
        )
    return "\n".join(lines)


def period_table(period: dict[str, list[dict[str, Any]]]) -> str:
    lines = [
        "| shape | SLOs | NaN | within 0.1 % of exact | mean abs rel. error | max abs rel. error | "
        "max budget-remaining error (pp) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, rows in period.items():
        errs = [abs(r["rel_error"]) for r in rows if not math.isnan(r["rel_error"])]
        nan = sum(1 for r in rows if math.isnan(r["rel_error"]))
        within = sum(1 for e in errs if e <= 0.001)
        br = [
            abs(r["budget_remaining"] - r["budget_remaining_exact"]) * 100
            for r in rows
            if not math.isnan(r["rel_error"])
        ]
        lines.append(
            f"| {shape} | {len(rows)} | {nan} | {within}/{len(rows)} | "
            f"{fmt(statistics.mean(errs) * 100 if errs else math.nan, 3)} % | "
            f"{fmt(max(errs) * 100 if errs else math.nan, 3)} % | "
            f"{fmt(max(br) if br else math.nan, 3)} |"
        )
    return "\n".join(lines)


def alerts_table(alerts: dict[str, Any], suffix: str = "") -> str:
    if not alerts:
        return "(alerts not evaluated in this run)"
    det = alerts["detections"]
    kinds = sorted({e["kind"] for e in alerts["episodes"]}, key=lambda k: k)
    shapes_ = ("bzzzmon", "sloth", "pyrra")
    n = len(alerts["slos"])
    lines = [
        "| episode | meant for | "
        + " | ".join(f"{s} page / ticket (median delay)" for s in shapes_)
        + " |",
        "|---|---|" + "---|" * len(shapes_),
    ]
    for kind in kinds:
        meant = next(e["meant_for"] for e in alerts["episodes"] if e["kind"] == kind)
        cells = []
        for s in shapes_:
            rows = [d for d in det if d["shape"] == s and d["kind"] == kind]
            parts = []
            for sev in ("page", "ticket"):
                delays = [d[sev + suffix] for d in rows if d[sev + suffix] is not None]
                if delays:
                    parts.append(f"{len(delays)}/{n} {statistics.median(delays) / 60:.0f} min")
                else:
                    parts.append(f"0/{n}")
            cells.append(" / ".join(parts))
        lines.append(f"| {kind} | {meant} | " + " | ".join(cells) + " |")
    spur = {s: sum(1 for x in alerts["spurious"] if x["shape"] == s) for s in shapes_}
    lines.append("| spurious firings | - | " + " | ".join(str(spur[s]) for s in shapes_) + " |")
    return "\n".join(lines)


def report(result: dict[str, Any]) -> str:
    parts = [
        f"## N = {result['n_slos']} SLOs x {result['m_instances']} instances "
        f"({result['series']} raw series), bzzzmon rules from: {result['bzzzmon_origin']}, "
        f"Prometheus {result.get('prometheus', '2.42.0')}",
        "",
        "### Samples read per evaluation round (from query stats; independent of machine load)",
        samples_table(result["accuracy"]["samples_cost"])
        if result.get("accuracy", {}).get("samples_cost")
        else "(not measured)",
        "",
        "### Rule evaluation cost in a live Prometheus",
        cost_table(result["cost"]) if result.get("cost") else "(cost not measured)",
        "",
        "### Period error ratio vs exact",
        period_table(result["accuracy"]["period"]) if result.get("accuracy") else "(not run)",
        "",
        "### Alerts on the error episodes (firing, after `for:`)",
        alerts_table(result["accuracy"].get("alerts", {})) if result.get("accuracy") else "",
        "",
        "### Alert conditions on the error episodes (condition first true, before `for:`)",
        alerts_table(result["accuracy"].get("alerts", {}), "_condition")
        if result.get("accuracy")
        else "",
        "",
    ]
    return "\n".join(parts)


def result_name(n: int, args: argparse.Namespace) -> str:
    """``n10``; ``n10-prometheus-3.5.3`` for a run on another binary (--prometheus)."""
    if args.prometheus is None:
        return f"n{n}"
    return f"n{n}-prometheus-{promserver.version(args.prometheus)}"


def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work) / f"n{n}-m{args.m}"
    end = int(time.time()) // STEP * STEP
    if args.reuse and (work / "input" / "workload.json").exists():
        end = json.loads((work / "input" / "workload.json").read_text())["end"]
    w = Workload(n, args.m, end, args.seed)
    print(f"# N={n} M={args.m} (work dir {work})", flush=True)
    t0 = time.monotonic()
    data = prepare_data(w, work, args.eval_interval, args.reuse)
    slos = peers.bench_slos(w.slo_names())
    sets, origin = rule_sets(slos, work, args.variants, args.base)
    result: dict[str, Any] = {
        "n_slos": n,
        "m_instances": args.m,
        "series": 2 * n * args.m,
        "end": w.end,
        "bzzzmon_origin": origin,
        "eval_interval": args.eval_interval,
        "prometheus": promserver.version(promserver.BINARY),
    }
    if not args.skip_accuracy:
        result["accuracy"] = run_accuracy(
            w, data, work, sets, slos, min(args.alert_slos, n), args.eval_interval
        )
    if not args.skip_cost:
        result["cost"] = run_cost(w, data, work, sets, args)
    result["seconds"] = round(time.monotonic() - t0)
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = RESULTS / f"{result_name(n, args)}.json"
    if previous.exists():
        # Keep the sections (accuracy or cost) a partial run did not redo, from the same data.
        old = json.loads(previous.read_text())
        if old.get("end") == result["end"] and old.get("m_instances") == args.m:
            for key in ("accuracy", "cost"):
                if key not in result and key in old:
                    result[key] = old[key]
            if args.shapes and "cost" in old and "cost" in result:
                # A partial cost run replaces only the shapes it measured.
                redone = {c["shape"] for c in result["cost"]}
                merged = [c for c in old["cost"] if c["shape"] not in redone] + result["cost"]
                order = ["none", "bzzzmon", "sloth", "pyrra"]
                result["cost"] = sorted(
                    merged,
                    key=lambda c: order.index(c["shape"]) if c["shape"] in order else 99,
                )
    (RESULTS / f"{result_name(n, args)}.json").write_text(json.dumps(result, indent=1))
    md = report(result)
    (RESULTS / f"{result_name(n, args)}.md").write_text(md)
    print(md, flush=True)
    return result


def _terminate(signum: int, frame: object) -> None:
    # Turn SIGTERM (and SIGINT, which a background shell ignores) into an exception, so that the
    # `finally` blocks stop every Prometheus and the feeder.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n", type=int, action="append", help="number of SLOs (repeatable)")
    p.add_argument("--all", action="store_true", help="N = 10 and 100")
    p.add_argument("--m", type=int, default=10, help="instances per SLO (default 10)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work", default="/tmp/bzzzmon-rule-bench")
    p.add_argument("--eval-interval", type=int, default=30, help="seconds (default 30)")
    p.add_argument("--warmup", type=float, default=50.0, help="seconds before measuring")
    p.add_argument("--cycles", type=int, default=4, help="evaluation rounds measured")
    p.add_argument("--alert-slos", type=int, default=10, help="SLOs whose alerts are evaluated")
    p.add_argument("--reuse", action="store_true", help="reuse the data dir of a previous run")
    p.add_argument("--baseline", action="store_true", help="also measure Prometheus without rules")
    p.add_argument("--variants", action="store_true", help="also measure bzzzmon rule variants")
    p.add_argument(
        "--base",
        metavar="REF",
        help="also measure the rules of git ref REF's bzzzmon ('bzzzmon REF')",
    )
    p.add_argument("--shapes", nargs="*", help="only these shapes in the cost runs")
    p.add_argument("--skip-cost", action="store_true")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--report-only", action="store_true", help="re-print the saved results")
    p.add_argument(
        "--prometheus",
        metavar="PATH",
        help="the Prometheus binary measured (default: prometheus on PATH); the backfill keeps "
        "promtool on PATH, whose blocks every version reads; results go to n<N>-prometheus-<v>",
    )
    args = p.parse_args(argv)
    if args.prometheus is not None:
        promserver.BINARY = args.prometheus
    ns = args.n or []
    if args.all:
        ns = [10, 100]
    if not ns:
        p.error("give --n N or --all")
    for n in ns:
        if args.report_only:
            md = report(json.loads((RESULTS / f"{result_name(n, args)}.json").read_text()))
            (RESULTS / f"{result_name(n, args)}.md").write_text(md)
            print(md)
            continue
        run_one(n, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
