"""Tests of the alert-timing bench: its pieces, Sloth's shape on a 10-minute outage, and the
alert catalog's stated detection times against the measurement (promtool runs).

pytest bench/test_alert_timing.py
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

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


# --- the catalog's detection column against the measurement -------------------------------------
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?) (d|h|min|s)\b")
UNIT = {"d": 86400, "h": 3600, "min": 60, "s": 1}
PAGE_TIERS = ("page-fast", "page-slow")


def catalog_seconds(text: str) -> Fraction:
    """``10 min 38.4 s`` -> 638.4 (the catalog's exact durations)."""
    parts = DURATION_PART.findall(text)
    assert parts and " ".join(f"{n} {u}" for n, u in parts) == text.strip(), text
    return sum((Fraction(n) * UNIT[u] for n, u in parts), Fraction(0))


def catalog_detection(catalog: Path, slo: str) -> dict[str, Fraction]:
    """Each tier's "Detection time (total outage ...)" cell in ``slo``'s section."""
    section = catalog.read_text().split(f"(`{slo}`)\n", 1)[1].split("\n### ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    head = [c.strip() for c in rows[0]]
    col = next(i for i, c in enumerate(head) if c.startswith("Detection time (total outage"))
    return {r[0].strip(): catalog_seconds(r[col]) for r in rows[1:] if r[0].strip() != "Tier"}


def only_tier(files: list[Path], tier: str, out: Path) -> list[Path]:
    """The rules with every burn alert but ``tier``'s removed: a slower tier stays quiet while
    a faster one fires, so its own condition is measured alone."""
    doc = yaml.safe_load(files[0].read_text())
    for g in doc["groups"]:
        g["rules"] = [
            r
            for r in g["rules"]
            if "alert" not in r or (r.get("labels") or {}).get("tier") in (None, tier)
        ]
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return [out]


@pytest.mark.parametrize(("period", "objective"), [("30d", 99.9), ("7d", 99.9), ("28d", 99.0)])
def test_catalog_detection_agrees_with_promtool_within_one_interval(
    tmp_path: Path, period: str, objective: float
) -> None:
    rules = alert_timing_shapes.rules_for("bzzzmon", period, tmp_path, objective)
    assert rules.catalog is not None
    stated = catalog_detection(rules.catalog, alert_timing_shapes.PLAIN)
    assert set(PAGE_TIERS) <= set(stated)
    plain = rules.files[alert_timing_shapes.PLAIN]
    for tier in PAGE_TIERS:
        files = only_tier(plain, tier, tmp_path / f"{tier}.rules.yml")
        # 8h of history fill the page tiers' windows (6h at most); an hour of total outage is
        # longer than any page tier takes at these objectives.
        timings = alert_timing.measure(
            files, BY_NAME["outage-60m"], history=8 * 60, period=period, work=tmp_path, horizon=0
        )
        measured = timings[tier].detect
        assert measured is not None, (tier, timings)
        print(
            f"{period} {objective}% {tier}: catalog {float(stated[tier]):.2f} s, measured "
            f"{measured} min"
        )
        # The evaluation interval is 1m: the measurement is whole minutes from the outage start.
        assert abs(measured * 60 - stated[tier]) <= 60, (period, objective, tier, measured, stated)
        assert not timings[tier].pre and len(timings[tier].onsets) == 1
        assert "missing" not in timings


def test_catalog_seconds_reads_the_catalog_format() -> None:
    assert catalog_seconds("2 min 51.84 s") == Fraction(17184, 100)
    assert catalog_seconds("2 d 2 h") == 2 * 86400 + 2 * 3600
    with pytest.raises(AssertionError):
        catalog_seconds("never (threshold > 100%)")
