"""The prometheus_client Collector: at scrape time, a snapshot of the latest results as metrics.

Nothing here probes or waits: ``collect`` reads :class:`ExporterState` (written only by the probe
loop on the same event loop thread) and applies the scoring rules of :mod:`scoring`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from bzzzmon import __version__
from bzzzmon.conventions import (
    COMPONENT_HEALTH_SCORE,
    EXPORTER_BUILD_INFO,
    EXPORTER_CONFIG_LAST_RELOAD_OK,
    EXPORTER_CONFIG_RELOADS,
    EXPORTER_LAST_PROBE_TIMESTAMP,
    EXPORTER_PROBE_FAILURES,
    EXPORTER_ROUND_DURATION,
    EXPORTER_SELF_COMPONENT,
    EXPORTER_STALE_PROBES,
    EXPORTER_TARGETS,
    HEALTH_CHECKS_FAILED,
    HEALTH_CHECKS_PASSED,
    LABEL_CHECK,
    LABEL_COMPONENT,
    LABEL_REASON,
    LABEL_TARGET,
    LABEL_VERSION,
    PROBE_DURATION,
    PROBE_SUCCESS,
    SYSTEM_HEALTH_SCORE,
)
from bzzzmon.exporter.config import ExporterConfig
from bzzzmon.exporter.scoring import (
    Observation,
    component_scores,
    exporter_score,
    observe,
    system_score,
)
from bzzzmon.exporter.state import DURATION_BUCKETS, ExporterState


class ExporterView(Protocol):
    """What the collector reads: the config in force and the state."""

    @property
    def config(self) -> ExporterConfig: ...

    @property
    def state(self) -> ExporterState: ...


@dataclass(frozen=True)
class Snapshot:
    """Scores and per-target success at one instant."""

    scored: bool  # False until the first round has finished
    components: dict[str, float]
    system: float
    probe_success: dict[tuple[str, str], float]  # (component, target) -> 0 or 1
    stale: dict[str, int]  # component -> stale results
    targets: dict[str, int]  # component -> targets probed


def take_snapshot(config: ExporterConfig, state: ExporterState, now: float) -> Snapshot:
    observations: list[Observation] = []
    success: dict[tuple[str, str], float] = {}
    measured = {c for p in config.probes for c in config.covered_components(p)}
    stale = dict.fromkeys(sorted(measured), 0)
    targets: dict[str, set[str]] = {c: set() for c in sorted(measured)}
    for result in state.results.values():
        is_stale = now - result.finished_at > config.max_result_age
        outcome = result.outcome
        observations.extend(
            observe(
                result.probe_type,
                result.components,
                outcome.success,
                is_stale,
                outcome.status,
                outcome.checks,
            )
        )
        ok = 1.0 if outcome.success and not is_stale else 0.0
        for component in result.components:
            key = (component, result.target)
            # Several probes may cover one (component, target): it succeeds only if all do.
            success[key] = min(ok, success.get(key, 1.0))
            targets.setdefault(component, set()).add(result.target)
            if is_stale:
                stale[component] = stale.get(component, 0) + 1
    known = set(config.component_names())
    scores = component_scores((o for o in observations if o.component in known), measured)
    scores[EXPORTER_SELF_COMPONENT] = exporter_score(
        state.last_round_finished, now, config.max_result_age
    )
    scores = {c: scores[c] for c in sorted(scores) if c in known}
    weights = {c.name: c.weight for c in config.components}
    return Snapshot(
        scored=state.last_round_finished is not None,
        components=scores,
        system=system_score(scores, weights),
        probe_success=dict(sorted(success.items())),
        stale=stale,
        targets={c: len(t) for c, t in sorted(targets.items())},
    )


class ExporterCollector(Collector):
    def __init__(self, view: ExporterView, clock: Callable[[], float] = time.time) -> None:
        self._view = view
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        config, state = self._view.config, self._view.state
        snap = take_snapshot(config, state, self._clock())
        if snap.scored:
            yield _gauge(
                SYSTEM_HEALTH_SCORE,
                "Weighted mean of the component health scores (0..1).",
                [],
                [([], snap.system)],
            )
            yield _gauge(
                COMPONENT_HEALTH_SCORE,
                "Health score of one BZZZ component (0..1) from the latest probe results.",
                [LABEL_COMPONENT],
                [([c], s) for c, s in snap.components.items()],
            )
        yield _counter(
            HEALTH_CHECKS_PASSED,
            "Health checks (from /health/checks) that passed, by component and check.",
            [LABEL_COMPONENT, LABEL_CHECK],
            [(list(k), v) for k, v in sorted(state.checks_passed.items())],
        )
        yield _counter(
            HEALTH_CHECKS_FAILED,
            "Health checks (from /health/checks) that failed or could not be read.",
            [LABEL_COMPONENT, LABEL_CHECK],
            [(list(k), v) for k, v in sorted(state.checks_failed.items())],
        )
        yield _gauge(
            PROBE_SUCCESS,
            "1 if the latest probe of the target succeeded and is fresh, else 0.",
            [LABEL_COMPONENT, LABEL_TARGET],
            [(list(k), v) for k, v in snap.probe_success.items()],
        )
        yield _duration_histogram(state)
        yield _gauge(
            EXPORTER_BUILD_INFO,
            "bzzzmon exporter version (always 1).",
            [LABEL_VERSION],
            [([__version__], 1.0)],
        )
        yield _counter(
            EXPORTER_PROBE_FAILURES,
            "Failed probes by component, target and reason.",
            [LABEL_COMPONENT, LABEL_TARGET, LABEL_REASON],
            [(list(k), v) for k, v in sorted(state.probe_failures.items())],
        )
        if state.last_round_finished is not None:
            yield _gauge(
                EXPORTER_LAST_PROBE_TIMESTAMP,
                "Unix time the latest probe round finished.",
                [],
                [([], state.last_round_finished)],
            )
        if state.last_round_seconds is not None:
            yield _gauge(
                EXPORTER_ROUND_DURATION,
                "How long the latest probe round took, in seconds.",
                [],
                [([], round(state.last_round_seconds, 6))],
            )
        yield _gauge(
            EXPORTER_STALE_PROBES,
            "Results older than max_result_age (counted as failed), by component.",
            [LABEL_COMPONENT],
            [([c], float(n)) for c, n in snap.stale.items()],
        )
        yield _gauge(
            EXPORTER_TARGETS,
            "Targets probed for each component in the latest round.",
            [LABEL_COMPONENT],
            [([c], float(n)) for c, n in snap.targets.items()],
        )
        yield _counter(
            EXPORTER_CONFIG_RELOADS,
            "Config reloads attempted (SIGHUP).",
            [],
            [([], float(state.config_reloads))],
        )
        yield _gauge(
            EXPORTER_CONFIG_LAST_RELOAD_OK,
            "1 if the latest config reload succeeded (or none was attempted), else 0.",
            [],
            [([], 1.0 if state.last_reload_ok else 0.0)],
        )


Samples = list[tuple[list[str], float]]


def _gauge(name: str, doc: str, labels: list[str], samples: Samples) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def _counter(name: str, doc: str, labels: list[str], samples: Samples) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def _duration_histogram(state: ExporterState) -> HistogramMetricFamily:
    buckets: list[tuple[str, float]] = []
    cumulative = 0
    for bound, count in zip(
        [*(repr(b) for b in DURATION_BUCKETS), "+Inf"], state.duration_bucket_counts, strict=True
    ):
        cumulative += count
        buckets.append((bound, float(cumulative)))
    family = HistogramMetricFamily(
        PROBE_DURATION, "Duration of probes (each target, each round), in seconds.", labels=[]
    )
    family.add_metric([], buckets, state.duration_sum)
    return family
