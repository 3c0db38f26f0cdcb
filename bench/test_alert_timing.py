"""Tests of the alert-timing bench (one promtool run: Sloth's shape, a 10-minute outage). The
catalog's detection times against this bench's measurement: tests/test_catalog_detection.py.

pytest bench/test_alert_timing.py
"""

from __future__ import annotations

import itertools
from pathlib import Path

from bench import alert_timing, alert_timing_shapes
from bench.alert_timing_scenarios import BY_NAME, encode, series_values


def expand(text: str) -> list[int | None]:
    """promtool's expanding notation, as far as ``encode`` writes it."""
    out: list[int | None] = []
    for tok in text.split():
        if tok == "stale":
            out.append(None)
        elif tok.startswith("_x"):
            out += [None] * int(tok[2:])
        elif "x" in tok:
            start, rest = tok.split("+")
            step, n = rest.split("x")
            out += [int(start) + int(step) * k for k in range(int(n) + 1)]
        else:
            out.append(int(tok))
    return out


def test_counters_are_exact_and_never_decrease() -> None:
    values = series_values(BY_NAME["outage-10m"], -30, 30)
    for series in values.values():
        assert expand(encode(series)) == series
        numbers = [v for v in series if v is not None]
        assert all(b >= a for a, b in itertools.pairwise(numbers))
    bad = sum(values[(i, "500")][40] - values[(i, "500")][30] for i in ("i-0", "i-1", "i-2"))
    good = sum(values[(i, "200")][40] - values[(i, "200")][30] for i in ("i-0", "i-1", "i-2"))
    # The ten outage minutes: every one of the 1,000 requests a minute fails.
    assert (bad, good) == (10_000, 0)


def test_vanished_instance_has_a_stale_marker_then_no_samples() -> None:
    values = series_values(BY_NAME["instance-vanish"], -2, 62)
    gone = values[("i-2", "200")]
    assert gone[2] is not None and gone[3:63] == [None] * 60 and gone[63] is not None
    assert encode(gone).split()[1:3] == ["stale", "_x59"]
    assert None not in values[("i-0", "200")]


def test_timing_reports_late_firing_and_reset() -> None:
    t = alert_timing.Timing("page-slow", 10, (-60, 490), list(range(21, 46)))
    assert (t.detect, t.reset, t.late, t.cell()) == (21, 36, True, "21/36 late")
    flapping = alert_timing.Timing("page-fast", 60, (-60, 540), [3, 4, 5, 13, 14])
    assert (flapping.late, flapping.cell()) == (False, "3/-45 x2")


def test_sloth_shape_on_a_ten_minute_outage(tmp_path: Path) -> None:
    rules = alert_timing_shapes.rules_for("sloth", "30d", tmp_path)
    timings = alert_timing.measure(
        rules.files[alert_timing_shapes.PLAIN], BY_NAME["outage-10m"], history=120, work=tmp_path
    )
    fast = timings["page-fast"]
    # 1,000 failed requests in the first minute are 1.7% of the hour: above 14.4 x 0.1% at once;
    # the 5m window is clean 5 minutes after the outage.
    assert (fast.detect, fast.reset, fast.late, fast.pre) == (1, 5, False, False)
    assert len(fast.onsets) == 1
    # Nothing fires before the fault, and the missing-data alert does not fire at all.
    assert all(t.firing[0] >= 1 for t in timings.values())
    assert "missing" not in timings


def test_peer_windows_follow_the_period() -> None:
    pyrra = [(t.long, t.short, t.for_, t.factor) for t in alert_timing_shapes.pyrra_tiers("28d")]
    assert pyrra == [("1h", "5m", "2m", 14), ("6h", "30m", "15m", 7),
                     ("1d", "2h", "1h", 2), ("4d", "6h", "3h", 1)]  # fmt: skip
    assert alert_timing_shapes.pyrra_tiers("30d")[0].long == "1h4m"
    assert [t.factor for t in alert_timing_shapes.sloth_tiers("28d")] == [13.44, 5.6, 2.8, 14 / 15]


def test_prune_keeps_only_what_alerts_read() -> None:
    groups = [
        {"name": "g", "rules": [
            {"record": "a:rate5m", "expr": "sum(rate(x[5m]))"},
            {"record": "a:rate5m:ratio", "expr": "a:rate5m / 2"},
            {"record": "unused", "expr": "sum(rate(x[30d]))"},
            {"alert": "A", "expr": "a:rate5m:ratio > 1"},
        ]},
        {"name": "meta", "rules": [{"record": "a:rate5m_info", "expr": "vector(1)"}]},
    ]  # fmt: skip
    kept = alert_timing_shapes.prune(groups)
    assert [[r.get("record", r.get("alert")) for r in g["rules"]] for g in kept] == [
        ["a:rate5m", "a:rate5m:ratio", "A"]
    ]
