"""The alert catalog's detection times (docs/alerts.md, from the closed-form model in
``bzzzmon.slo.windows.detection_time``) against the measurement: ``bzzzmon build`` of a ratio SLO,
a total outage played through the real ``promtool test rules`` by the alert-timing bench
(``bench/alert_timing.py``, 1,000 requests a minute, 1m evaluation). Each page tier must fire
within one evaluation interval of the time the catalog states."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from bench import alert_timing, alert_timing_shapes
from bench.alert_timing_scenarios import BY_NAME

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


@pytest.mark.parametrize(("period", "objective"), [("30d", 99.9), ("28d", 99.0)])
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
        # The evaluation interval is 1m: the measurement is whole minutes from the outage start.
        assert abs(measured * 60 - stated[tier]) <= 60, (period, objective, tier, measured, stated)
        assert not timings[tier].pre and len(timings[tier].onsets) == 1
        assert "missing" not in timings


def test_catalog_seconds_reads_the_catalog_format() -> None:
    assert catalog_seconds("2 min 51.84 s") == Fraction(17184, 100)
    assert catalog_seconds("2 d 2 h") == 2 * 86400 + 2 * 3600
    with pytest.raises(AssertionError):
        catalog_seconds("never (threshold > 100%)")
