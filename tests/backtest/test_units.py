"""The parts of a backtest computed in Python: ``for:``, the ALERTS rounds, the rule levels, the
renaming, relabelling and the PR summary."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from bzzzmon.backtest.compare import changes
from bzzzmon.backtest.episodes import episodes
from bzzzmon.backtest.guards import guarded, needed_times
from bzzzmon.backtest.prom import MAX_POINTS, RawSeries, Series, chunks
from bzzzmon.backtest.routing import relabel
from bzzzmon.backtest.rules import (
    PREFIX,
    Rule,
    RuleSet,
    alert_rounds,
    alerts_read,
    needed,
    recording_levels,
    renamed,
    renamer,
)
from bzzzmon.backtest.scratch_blocks import recorded_openmetrics


def _rule(for_: int) -> Rule:
    return Rule(
        group="g", interval=15, expr="x > 1", alert="A", for_=for_, labels={"severity": "P1"}
    )


def test_for_fires_once_held_and_a_missing_evaluation_resolves() -> None:
    points = [(t, 2.0 + t / 100) for t in range(0, 150, 15)] + [(180, 5.0)]
    found = episodes(_rule(60), [Series({"instance": "a"}, points)], 0, 300, 15)
    first, second = found
    assert (first.active, first.fired, first.end) == (0, 60, 150)
    assert first.peak == 2.0 + 135 / 100  # while firing
    assert first.open_start and not first.open_end
    assert first.labels == {"instance": "a", "severity": "P1", "alertname": "A"}
    # One evaluation held, shorter than for: pending only, never fired.
    assert (second.active, second.fired, second.end) == (180, None, 195)
    assert second.firing_seconds == 0


def test_for_zero_fires_at_the_first_evaluation_and_open_end_is_flagged() -> None:
    (only,) = episodes(_rule(0), [Series({}, [(285, 3.0), (300, 4.0)])], 0, 300, 15)
    assert (only.fired, only.end, only.open_end, only.open_start) == (285, 315, True, False)


def test_chunks_stay_on_the_grid_below_the_point_limit() -> None:
    parts = list(chunks(0, 15 * 25_000, 15))
    assert parts[0] == (0, 15 * (MAX_POINTS - 1))
    assert all(b[0] == a[1] + 15 for a, b in pairwise(parts))
    assert parts[-1][1] == 15 * 25_000
    assert all((last - first) // 15 + 1 <= MAX_POINTS for first, last in parts)


def _tier(name: str, expr: str) -> Rule:
    return Rule("alerts", 15, expr, alert="Burn", labels={"tier": name, "slo": "s"})


def test_alerts_reading_alerts_wait_for_the_round_of_what_they_read() -> None:
    fast = _tier("page-fast", "r1 > 1")
    slow = _tier(
        "page-slow",
        'r2 > 1 unless on (slo) max_over_time(ALERTS{alertname="Burn", tier=~"page-fast"}[30m])',
    )
    ticket = _tier(
        "ticket",
        "r3 > 1 unless on (slo) "
        'max_over_time(ALERTS{alertname="Burn", tier=~"page-fast|page-slow"}[2h])',
    )
    other = Rule("x", 15, 'max_over_time(ALERTS{alertname="Other"}[5m])', alert="Hold")
    rounds = alert_rounds(RuleSet((), (ticket, slow, fast, other), ()))
    assert [[r.labels.get("tier", r.name) for r in batch] for batch in rounds] == [
        ["page-fast", "Hold"],  # no alert is named Other: Hold reads nothing replayed
        ["page-slow"],
        ["ticket"],
    ]


def test_recording_levels_and_renaming() -> None:
    rules = RuleSet(
        (
            Rule("g", 15, "sum(rate(raw_total[5m]))", record="a:rate5m"),
            Rule("g", 15, "sum_over_time(a:rate5m[1h])", record="b:sum1h"),
            Rule("g", 15, "b:sum1h / a:rate5m", record="c:ratio"),
        ),
        (),
        (),
    )
    assert [[r.name for r in level] for level in recording_levels(rules)] == [
        ["a:rate5m"],
        ["b:sum1h"],
        ["c:ratio"],
    ]
    pattern = renamer(rules.recorded | {"ALERTS"})
    text = 'b:sum1h / a:rate5m and ALERTS{alertname="ALERTS"} and avg_over_time(x[5m:])'
    assert renamed(text, pattern, 15) == (
        f'{PREFIX}b:sum1h / {PREFIX}a:rate5m and {PREFIX}ALERTS{{alertname="ALERTS"}}'
        " and avg_over_time(x[5m:15s])"
    )


def test_only_what_an_alert_or_a_budget_reads_is_recorded() -> None:
    rules = RuleSet(
        (
            Rule("g", 15, "sum(rate(raw_total[5m]))", record="a:rate5m", labels={"slo": "s"}),
            Rule("g", 15, "sum(rate(raw_total[5m]))", record="a:rate5m", labels={"slo": "t"}),
            Rule("g", 15, 'sum_over_time(a:rate5m{slo="s"}[1h])', record="b:sum1h"),
            Rule("g", 15, "vector(0.99)", record="info:objective", labels={"slo": "s"}),
            Rule("g", 15, 'a:rate5m{slo="t"} / 2', record="d:dashboard"),
            Rule("g", 15, "sum(rate(raw_total[5m]))", record="e:budget"),
        ),
        (Rule("g", 15, "b:sum1h > 1", alert="A"),),
        (),
    )
    kept = [(r.name, r.labels.get("slo")) for r in needed(rules, frozenset({"e:budget"}))]
    # Through b:sum1h only slo="s" of a:rate5m is read; what only dashboards read is dropped.
    assert kept == [("a:rate5m", "s"), ("b:sum1h", None), ("e:budget", None)]


def test_only_alerts_a_later_round_reads_are_written_as_alerts() -> None:
    later = [_tier("page-slow", 'r2 > 1 unless max_over_time(ALERTS{alertname="Burn"}[30m])')]
    read = alerts_read(later)
    assert read({"alertname": "Burn", "tier": "page-fast", "slo": "s"})
    assert not read({"alertname": "BZZZAgentDown", "instance": "a"})
    assert not alerts_read([_tier("page-fast", "r1 > 1")])({"alertname": "Burn"})


def test_recorded_samples_are_written_as_prometheus_formats_them(tmp_path: Path) -> None:
    values = [[0, "0.1"], [15, "NaN"], [30, "+Inf"], [45, "1e-05"]]
    found = [
        ("r:a", {"slo": "s"}, [RawSeries({"x": 'q"'}, values)]),
        ("r:a", {"slo": "t"}, [RawSeries({}, values[:1])]),
        ("r:b", {}, []),
    ]
    path = tmp_path / "out.om"
    assert recorded_openmetrics(iter(found), path)
    assert path.read_text() == (
        "# TYPE r:a gauge\n"
        'r:a{slo="s",x="q\\""} 0.1 0\n'
        'r:a{slo="s",x="q\\""} NaN 15\n'
        'r:a{slo="s",x="q\\""} +Inf 30\n'
        'r:a{slo="s",x="q\\""} 1e-05 45\n'
        'r:a{slo="t"} 0.1 0\n'
        "# EOF\n"
    )
    assert not recorded_openmetrics([("r:b", {}, [])], path)


def test_an_escalation_goes_out_under_the_alert_it_escalates() -> None:
    config = [
        {
            "source_labels": ["escalation", "escalated_alert"],
            "regex": "true;(.+)",
            "target_label": "alertname",
            "replacement": "$1",
        }
    ]
    escalated = {
        "alertname": "BZZZP1ResolutionTargetMissed",
        "escalation": "true",
        "escalated_alert": "X",
    }
    assert relabel(escalated, config)["alertname"] == "X"
    plain = {"alertname": "Y"}
    assert relabel(plain, config) == plain


def _summary(pages: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "range": {"seconds": 30 * 86400},
        "alerts": [
            {"alertname": n, "page_count": len(t), "page_times": t, "pages": {"r": len(t)}}
            for n, t in pages.items()
        ],
    }


def test_the_pr_summary_counts_pages_and_the_first_page_shift() -> None:
    base = _summary(
        {"A": ["2026-11-14T03:02:00Z", "2026-11-20T00:00:00Z"], "Same": ["2026-11-01T00:00:00Z"]}
    )
    head = _summary({"A": ["2026-11-14T03:00:00Z"], "Same": ["2026-11-01T00:00:00Z"]})
    (only,) = changes(base, head)
    assert only["text"] == (
        "A: 1 page(s) instead of 2 over 30d; first page 2m earlier in the incident of 2026-11-14"
    )


def test_a_long_window_is_guarded_by_the_other_operands_of_its_alerts() -> None:
    long_ = Rule("g", 15, "sum_over_time(r[3d]) / 2", record="long", labels={"slo": "s"})
    short = Rule("g", 15, "sum_over_time(r[6h]) / 2", record="short", labels={"slo": "s"})
    rival = Rule("g", 15, "sum_over_time(r[1d])", record="rival")
    ticket = Rule(
        "a",
        15,
        'long{slo="s"} > 1 and short > 1 unless max_over_time(ALERTS{tier="x"}[6h])',
        alert="T",
    )
    both = Rule("a", 15, "rival > 1 and long > 2", alert="B")
    (only,) = guarded([long_, short], [ticket], frozenset())
    assert only.rule is long_ and only.guards == ((ticket, ("short{} > 1",)),)
    # Read by a recording rule, or a name the budgets read: evaluated everywhere.
    reader = Rule("g", 15, "long * 2", record="twice")
    assert guarded([long_, short, reader], [ticket], frozenset()) == []
    assert guarded([long_, short], [ticket], frozenset({"long"})) == []
    # Read with an offset, or in the unless side: not guarded.
    shifted = Rule("a", 15, "long offset 5m > 1 and short > 1", alert="O")
    assert guarded([long_, short], [shifted], frozenset()) == []
    unless = Rule("a", 15, "short > 1 unless long > 1", alert="U")
    assert guarded([long_, short], [unless], frozenset()) == []
    at = Rule("a", 15, "long > 1 and short @ start() > 1", alert="At")
    assert guarded([long_, short], [at], frozenset()) == []
    # Two long windows guarding each other: the shorter one is evaluated everywhere.
    (kept,) = guarded([long_, short, rival], [both], frozenset())
    assert kept.rule is long_ and kept.guards == ((both, ("rival{} > 1",)),)


def test_a_guarded_rule_is_evaluated_within_the_lookback_before_each_held_time() -> None:
    # Held at 600 and 615 (one reader), 1000 (another): the samples a 5m lookback reads.
    runs = needed_times([[600, 615], [1000]], 15, 0, 10_000)
    assert runs == [(300, 615), (705, 990)]  # 990: the last evaluation at or before 1000
    assert needed_times([[100]], 60, 0, 10_000) == [(0, 60)]
    assert needed_times([], 15, 0, 100) == []
