"""Unit tests of the rule benchmark's pieces (no timings asserted).

pytest bench/test_rule_bench.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from bench import accuracy, backfill, peers, promserver, run_rule_bench, shapes
from bench.workload import DAY, METRIC, Workload, episodes_for, slo_counters
from bzzzmon import conventions as C
from bzzzmon.verify import discovery


def test_firings_apply_for() -> None:
    steps = [0, 60, 120, 180, 600, 660]
    assert accuracy.firings(steps, 60, 0) == [0, 600]
    assert accuracy.firings(steps, 60, 120) == [120]
    assert accuracy.firings(steps, 60, 600) == []


def test_inliner_replaces_recorded_series_down_to_base(tmp_path: Path) -> None:
    slos = peers.bench_slos(["svc-0000", "svc-0001"])
    f = peers.bzzzmon_shape_rules(slos).dump(tmp_path / "r.yml")
    ratio = C.rec_name(C.REC_ERROR_RATIO, "30d")
    expr = accuracy.Inliner([f]).inline(ratio + '{slo="svc-0001"}')
    assert f'sum_over_time({C.rec_name(C.REC_BAD_RATE, "5m")}{{slo="svc-0001"}}[30d])' in expr
    assert "label_replace(" in expr and '"slo", "svc-0001"' in expr


def test_inliner_refuses_to_drop_matchers(tmp_path: Path) -> None:
    slos = peers.bench_slos(["svc-0000"])
    f = peers.pyrra_rules(slos).dump(tmp_path / "p.yml")
    with pytest.raises(ValueError):
        accuracy.Inliner([f]).inline('bench_requests:increase30d{slo="svc-0000",code=~"5.."}')


def test_workload_counters_match_increments() -> None:
    w = Workload(3, 2, end=1_800_000_000 // 60 * 60)
    for i in range(3):
        bad, total, _bad_inc, total_inc = slo_counters(w, i)
        assert (bad <= total).all()
        # Away from the reset, counter deltas are the increments.
        d = np.diff(total[:, 1])
        assert (d == total_inc[1:, 1]).all()
        # Instance 0 restarts once: exactly one decrease.
        assert (np.diff(total[:, 0]) < 0).sum() == 1
        for ep in episodes_for(w, i):
            assert w.period_start < ep.start < ep.end <= w.end
    assert w.end - w.period_start == 30 * DAY


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_generated_rule_files_pass_promtool(tmp_path: Path) -> None:
    slos = peers.bench_slos(["svc-0000", "svc-0001"])
    files = [
        peers.sloth_rules(slos).dump(tmp_path / "sloth.yml"),
        peers.pyrra_rules(slos).dump(tmp_path / "pyrra.yml"),
        peers.bzzzmon_shape_rules(slos).dump(tmp_path / "bz.yml"),
    ]
    files += shapes.split_period_group(files[2:], "4m", tmp_path / "p4m")
    files += shapes.hourly_level(files[2:3], tmp_path / "hourly")
    out = subprocess.run(
        ["promtool", "check", "rules", *map(str, files)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_measured_prometheus_is_named_by_its_version() -> None:
    sid = discovery.suites()["sid"]["prometheus"].path
    assert promserver.version("prometheus") == "2.42.0"
    assert promserver.version(sid) == "3.5.3"
    default = argparse.Namespace(prometheus=None)
    assert run_rule_bench.result_name(10, default) == "n10"
    chosen = argparse.Namespace(prometheus=sid)
    assert run_rule_bench.result_name(10, chosen) == "n10-prometheus-3.5.3"


def test_block_aligned_rounds_up_to_the_rule_backfill_block() -> None:
    assert backfill.block_aligned(7200 * 5) == 7200 * 5
    assert backfill.block_aligned(7200 * 5 + 1) == 7200 * 6
    assert backfill.block_aligned(7200 * 6 - 120) == 7200 * 6


def test_no_blocks_written_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out" / "not-a-block").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="wrote no blocks"):
        backfill.move_blocks(tmp_path / "out", tmp_path / "data", tmp_path / "log")
    with pytest.raises(RuntimeError, match="wrote no blocks"):
        backfill.move_blocks(tmp_path / "missing", tmp_path / "data", tmp_path / "log")


def test_hourly_backfill_from_a_start_late_in_its_block(tmp_path: Path) -> None:
    # Ten hours of one SLO's counters (1 bad and 99 good requests a minute), then both rule
    # passes. The hourly pass starts two minutes before a 2h block ends: promtool's first hourly
    # evaluation from there falls past the block, where it used to stop without writing.
    end = int(time.time()) // 7200 * 7200 - 3 * 3600
    first = end - 10 * 3600
    lines = ["# TYPE bench_requests counter"]
    for code, per_min in (("500", 1), ("200", 99)):
        sel = f'{METRIC}{{slo="svc-0000",instance="i-00",code="{code}"}}'
        lines += [f"{sel} {k * per_min} {first + 60 * k}" for k in range((end - first) // 60 + 1)]
    om = tmp_path / "raw.om"
    om.write_text("\n".join([*lines, "# EOF"]) + "\n")
    data, log = tmp_path / "data", tmp_path / "backfill.log"
    backfill.backfill_raw(om, data, log)
    backfill.backfill_recorded(data, tmp_path, first + 600, end, log)
    late = backfill.block_aligned(first + 3600) + 7200 - 120
    backfill.backfill_hourly(data, tmp_path, late, end, log)
    cfg = tmp_path / "check.yml"
    promserver.write_config(cfg, [], None, "60s")
    hourly = backfill.hourly_rules()[0]
    with promserver.running(cfg, data, log) as prom:
        got = prom.query(f"{hourly['record']}[1d]", end)  # the raw samples
        assert len(got) == 1 and len(got[0]["values"]) >= 5
        for ts, value in got[0]["values"]:
            assert ts >= late
            want = prom.query(str(hourly["expr"]), float(ts))
            assert float(value) == pytest.approx(float(want[0]["value"][1]), rel=1e-12)
            assert float(value) == pytest.approx(1.0, rel=0.05)  # an hour of 1/60 per second
