"""Backfill the synthetic workload and the recorded base series into a Prometheus data dir.

1. ``promtool tsdb create-blocks-from openmetrics --max-block-duration=486h``: the raw counters.
   A long block duration keeps the number of passes over the (GB-sized) input small: promtool
   re-reads the whole file once per block.
2. ``promtool tsdb create-blocks-from rules`` against a Prometheus serving step 1's data: the 5m
   base series the period ratios are built from (bzzzmon's bad/total rates, Sloth's 5m ratio), for
   the whole 30 days, at a 60 s evaluation interval. The rules are written ``by (slo)`` over all
   SLOs at once (three range-query streams instead of 3 x N); ``check_equivalence`` shows they give
   exactly the series the per-SLO rules would.
3. One Prometheus start over the result, waiting until its compactor is idle, so that the measured
   runs later do not pay for merging the backfilled blocks.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from bench import peers, promserver
from bench.peers import METRIC
from bzzzmon import conventions as C

CHUNK = 4 * 86400
RULE_BLOCK = 2 * 3600  # promtool's rule backfill block length (tsdb's default block duration)
BAD = f'{METRIC}{{code=~"5.."}}'
TOTAL = METRIC

# bzzzmon's recording-rule level; Sloth's shapes here keep their own ``slo:``.
NS = C.REC_NAMESPACE


BZZZMON_BAD = C.rec_name(C.REC_BAD_RATE, "5m")
BZZZMON_TOTAL = C.rec_name(C.REC_TOTAL_RATE, "5m")


def base_rules() -> list[dict[str, object]]:
    """The base series of bzzzmon's and Sloth's shapes, for all SLOs at once."""
    sloth_ratio = f"sum by (slo) (rate({BAD}[5m])) / sum by (slo) (rate({TOTAL}[5m]))"
    sloth_labelled = (
        "label_replace(label_replace("
        f'{sloth_ratio}, "sloth_slo", "$1", "slo", "(.*)"), '
        '"sloth_id", "bench-$1", "slo", "(.*)")'
    )
    return [
        {"record": C.rec_name(C.REC_BAD_RATE, "5m"), "expr": f"sum by (slo) (rate({BAD}[5m]))"},
        {"record": C.rec_name(C.REC_TOTAL_RATE, "5m"), "expr": f"sum by (slo) (rate({TOTAL}[5m]))"},
        {
            "record": "slo:sli_error:ratio_rate5m",
            "expr": f"sum without (slo) ({sloth_labelled})",
            "labels": {"sloth_service": "bench", "sloth_window": "5m"},
        },
    ]


def run(cmd: list[str], log: Path) -> None:
    print("  $ " + " ".join(cmd), flush=True)
    with log.open("ab") as f:
        subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)


def backfill_raw(om: Path, data_dir: Path, log: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    run(
        [
            "promtool", "tsdb", "create-blocks-from", "openmetrics", "-q",
            "--max-block-duration=486h", str(om), str(data_dir),
        ],
        log,
    )  # fmt: skip
    print(f"  raw counters backfilled in {time.monotonic() - t0:.0f}s", flush=True)


def move_blocks(out: Path, data_dir: Path, log: Path) -> int:
    """Move the blocks promtool wrote to ``out`` into ``data_dir``; none is an error (the
    measured rules would read empty windows and look cheap)."""
    blocks = [b for b in out.iterdir() if (b / "meta.json").exists()] if out.exists() else []
    if not blocks:
        raise RuntimeError(f"promtool wrote no blocks to {out}; see {log}")
    for block in blocks:
        shutil.move(str(block), data_dir / block.name)
    return len(blocks)


def block_aligned(start: int) -> int:
    """``start`` rounded up to a rule-backfill block boundary.

    ``promtool tsdb create-blocks-from rules`` writes 2h blocks and starts each at the group's
    first evaluation (hash-offset within its interval) at or after ``start``; when that lies past
    the first block's end it stops without writing anything (``break``, not ``continue``). For a
    1h group and a start late in its 2h block that is most starts: the hourly pass found no
    blocks at N=100. From a block boundary the first evaluation always falls inside the block."""
    return -(-start // RULE_BLOCK) * RULE_BLOCK


def backfill_recorded(
    data_dir: Path, work: Path, start: int, end: int, log: Path, eval_interval: int = 60
) -> None:
    rules_file = work / "base-rules.yml"
    rules_file.write_text(
        yaml.safe_dump({"groups": [{"name": "bench-base", "rules": base_rules()}]}, width=300)
    )
    cfg = work / "prometheus-backfill.yml"
    promserver.write_config(cfg, [], None, "60s")
    out = work / "rule-blocks"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.monotonic()
    with promserver.running(cfg, data_dir, log) as prom:
        # In slices of at most 4 days: promtool keeps what it has written in memory until it
        # exits (about 4 GiB for 30 days of N=100), so one long run does not fit N=1000.
        for s_start in range(start, end, CHUNK):
            s_end = min(end, s_start + CHUNK - eval_interval)
            run(
                [
                    "promtool", "tsdb", "create-blocks-from", "rules", "-q",
                    f"--url={prom.url}", f"--start={s_start}", f"--end={s_end}",
                    f"--eval-interval={eval_interval}s", f"--output-dir={out}",
                    str(rules_file),
                ],
                log,
            )  # fmt: skip
    moved = move_blocks(out, data_dir, log)
    print(f"  recorded base series backfilled ({moved} blocks, {time.monotonic() - t0:.0f}s)")


def hourly_rules() -> list[dict[str, object]]:
    """The intermediate hourly level of the ``bzzzmon hourly-level`` variant (see shapes.py)."""
    return [
        {
            "record": f"{NS}:sli_{kind}_events:sum1h",
            "expr": f"sum_over_time({NS}:sli_{kind}_events:rate5m[1h])",
        }
        for kind in ("bad", "total")
    ]


def backfill_hourly(data_dir: Path, work: Path, start: int, end: int, log: Path) -> None:
    """Second pass (it reads the base series of the first): the hourly sums, every hour."""
    rules_file = work / "hourly-rules.yml"
    group = {"name": "bench-hourly", "interval": "1h", "rules": hourly_rules()}
    rules_file.write_text(yaml.safe_dump({"groups": [group]}, width=300))
    cfg = work / "prometheus-backfill.yml"
    promserver.write_config(cfg, [], None, "60s")
    out = work / "hourly-blocks"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.monotonic()
    with promserver.running(cfg, data_dir, log) as prom:
        run(
            [
                "promtool", "tsdb", "create-blocks-from", "rules", "-q",
                f"--url={prom.url}", f"--start={block_aligned(start)}", f"--end={end}",
                f"--output-dir={out}", str(rules_file),
            ],
            log,
        )  # fmt: skip
    moved = move_blocks(out, data_dir, log)
    print(f"  hourly sums backfilled ({moved} blocks, {time.monotonic() - t0:.0f}s)")


def compactions(prom: promserver.Prometheus) -> tuple[float, float]:
    m = promserver.parse_metrics(prom.metrics_text())

    def total(name: str) -> float:
        return sum(v for _, v in m.get(name, []))

    return total("prometheus_tsdb_compactions_total"), total("prometheus_tsdb_blocks_loaded")


def settle(data_dir: Path, work: Path, log: Path, quiet_for: float = 90.0) -> None:
    """Start Prometheus once and wait until it has compacted the backfilled blocks."""
    cfg = work / "prometheus-settle.yml"
    promserver.write_config(cfg, [], None, "60s")
    t0 = time.monotonic()
    with promserver.running(cfg, data_dir, log) as prom:
        last = (math.nan, math.nan)
        stable_since = time.monotonic()
        while True:
            now = compactions(prom)
            if now != last:
                last = now
                stable_since = time.monotonic()
                print(f"  compacting: {now[0]:.0f} compactions, {now[1]:.0f} blocks", flush=True)
            elif time.monotonic() - stable_since > quiet_for:
                break
            time.sleep(5)
    print(f"  data dir settled in {time.monotonic() - t0:.0f}s")


def check_equivalence(
    prom: promserver.Prometheus,
    slos: list[peers.Slo],
    bzzzmon_bad: dict[str, str],
    times: list[int],
) -> tuple[int, float]:
    """Compare the backfilled (``by (slo)``) base series with the per-SLO expressions, at the
    recorded samples' own timestamps. ``bzzzmon_bad`` maps an SLO to the expression of bzzzmon's
    generated bad-events rule. Returns (comparisons, largest relative difference); expected 0."""
    worst, count = 0.0, 0
    for slo in slos:
        pairs = [
            (bzzzmon_bad[slo.name], f'{BZZZMON_BAD}{{slo="{slo.name}"}}'),
            (f"sum(rate({slo.total}[5m]))", f'{BZZZMON_TOTAL}{{slo="{slo.name}"}}'),
            (
                peers.sloth_ratio_expr(slo, "5m"),
                f"slo:sli_error:ratio_rate5m{{{peers.sloth_sel(slo)}}}",
            ),
        ]
        for t in times:
            for per_slo, backfilled in pairs:
                got = prom.query(f"{backfilled}[1m]", t)
                if not got:
                    return count, math.inf
                ts, value = got[0]["values"][-1]
                want = prom.query(per_slo, float(ts))
                a, b = float(want[0]["value"][1]), float(value)
                if not (math.isnan(a) and math.isnan(b)):
                    worst = max(worst, abs(a - b) / max(abs(a), 1e-300))
                count += 1
    return count, worst
