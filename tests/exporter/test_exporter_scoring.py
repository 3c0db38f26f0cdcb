"""The scoring rules (bzzzmon.exporter.scoring) as pure functions."""

from __future__ import annotations

import pytest

from bzzzmon.exporter.scoring import (
    CheckResult,
    Observation,
    component_scores,
    exporter_score,
    observe,
    status_score,
    system_score,
)


@pytest.mark.parametrize(
    ("word", "score"),
    [
        ("healthy", 1.0),
        ("PASS", 1.0),
        ("degraded", 0.5),
        ("warn", 0.5),
        ("unhealthy", 0.0),
        ("fail", 0.0),
        ("failed", 0.0),
        ("timed out", 0.0),
        ("sideways", None),
        (3, None),
    ],
)
def test_status_words(word: object, score: float | None) -> None:
    assert status_score(word) == score


def test_failed_or_stale_results_observe_zero_for_every_covered_component() -> None:
    covered = ("dht", "pubsub")
    for success, stale in ((False, False), (True, True)):
        got = observe("health_checks", covered, success, stale, None, ())
        assert got == [Observation("dht", 0.0), Observation("pubsub", 0.0)]


def test_missing_mapped_check_observes_zero() -> None:
    checks = (CheckResult("dht-health", "dht", 0.5),)
    got = observe("health_checks", ("dht", "pubsub"), True, False, None, checks)
    assert got == [Observation("dht", 0.5), Observation("pubsub", 0.0)]


def test_health_and_tcp_observations() -> None:
    assert observe("health", ("slurp",), True, False, 0.5, ()) == [Observation("slurp", 0.5)]
    assert observe("tcp", ("dht",), True, False, None, ()) == [Observation("dht", 1.0)]


def test_component_score_is_the_mean_and_unseen_is_zero() -> None:
    observations = [Observation("dht", 1.0), Observation("dht", 0.5), Observation("dht", 0.0)]
    assert component_scores(observations, ["dht", "ucxi"]) == {"dht": 0.5, "ucxi": 0.0}


def test_system_score_is_weighted_and_ignores_zero_weights() -> None:
    scores = {"a": 1.0, "b": 0.0, "exporter": 0.0}
    weights = {"a": 0.75, "b": 0.25, "exporter": 0.0}
    assert system_score(scores, weights) == 0.75
    assert system_score({"a": 1 / 3}, {"a": 1.0}) == 0.333333


def test_exporter_score_tracks_loop_freshness() -> None:
    assert exporter_score(None, 100.0, 60.0) == 0.0
    assert exporter_score(50.0, 100.0, 60.0) == 1.0
    assert exporter_score(30.0, 100.0, 60.0) == 0.0
