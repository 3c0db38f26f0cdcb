"""The exporter's memory: the latest result per (probe, target) and the counters.

Only the probe loop writes here (all on the event loop thread); the collector reads a consistent
view at scrape time. Counters live here rather than in the config, so a reload keeps them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bzzzmon.exporter.probes import ProbeOutcome
from bzzzmon.exporter.scoring import check_passed, target_absent

# Buckets of bzzz_probe_duration_seconds.
DURATION_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
# Distinct (component, check) counter series; beyond this, unmapped names from agents are dropped.
MAX_CHECK_SERIES = 256

ResultKey = tuple[str, str]  # (probe name, target)


@dataclass(frozen=True, slots=True)  # one per target: no __dict__ each
class TargetResult:
    probe: str
    probe_type: str
    target: str
    components: tuple[str, ...]
    outcome: ProbeOutcome
    finished_at: float  # wall-clock seconds
    mapped_checks: tuple[tuple[str, str], ...] = ()  # (check, component) expected in the answer


class ExporterState:
    def __init__(self) -> None:
        self.results: dict[ResultKey, TargetResult] = {}
        self.checks_passed: Counter[tuple[str, str]] = Counter()
        self.checks_failed: Counter[tuple[str, str]] = Counter()
        self.probe_failures: Counter[tuple[str, str, str]] = Counter()  # component, target, reason
        self.duration_bucket_counts = [0] * (len(DURATION_BUCKETS) + 1)  # last one is +Inf
        self.duration_sum = 0.0
        self.config_reloads = 0
        self.last_reload_ok = True
        self.last_round_started: float | None = None
        self.last_round_finished: float | None = None
        self.last_round_seconds: float | None = None
        self.rounds = 0
        self.unmeasured = 0  # timed-out probes voided because the probe loop was starved
        self.version = 0  # bumped on every change, so a rendered page knows it is current
        self._stale_counted: set[ResultKey] = set()
        self._check_series: set[tuple[str, str]] = set()

    def frozen_copy(self) -> ExporterState:
        """A copy whose containers the probe loop will not touch (for rendering in a thread)."""
        copy = ExporterState()
        copy.__dict__.update(self.__dict__)
        copy.results = dict(self.results)
        copy.checks_passed = Counter(self.checks_passed)
        copy.checks_failed = Counter(self.checks_failed)
        copy.probe_failures = Counter(self.probe_failures)
        copy.duration_bucket_counts = list(self.duration_bucket_counts)
        copy._stale_counted = set()
        copy._check_series = set()
        return copy

    def record(self, result: TargetResult) -> None:
        """Store a fresh result and count what it says."""
        self.version += 1
        key = (result.probe, result.target)
        self.results[key] = result
        self._stale_counted.discard(key)
        outcome = result.outcome
        self._observe_duration(outcome.duration)
        if not outcome.success and outcome.reason is not None:
            for component in result.components:
                self.probe_failures[(component, result.target, outcome.reason)] += 1
        if result.probe_type != "health_checks":
            return
        if target_absent(result.probe_type, outcome.reason):
            return  # nothing listens: its checks are neither passed nor failed (scoring, rule 2)
        if outcome.success:
            seen = set()
            for check in outcome.checks:
                seen.add(check.name)
                self._count_check(check.component, check.name, check_passed(check.score))
            for check_name, component in result.mapped_checks:
                if check_name not in seen:
                    self._count_check(component, check_name, False)
        else:
            for check_name, component in result.mapped_checks:
                self._count_check(component, check_name, False)

    def count_stale(self, now: float, max_age: float) -> None:
        """Count each result once as a ``stale`` failure when it passes ``max_age``."""
        for key, result in self.results.items():
            if key not in self._stale_counted and now - result.finished_at > max_age:
                self._stale_counted.add(key)
                self.version += 1
                for component in result.components:
                    self.probe_failures[(component, result.target, "stale")] += 1

    def retain(self, keys: Iterable[ResultKey]) -> None:
        """Forget results (and per-target series) of targets that are no longer probed."""
        self.version += 1
        keep = set(keys)
        self.results = {k: v for k, v in self.results.items() if k in keep}
        self._stale_counted &= keep
        targets = {target for _probe, target in keep}
        for series in [s for s in self.probe_failures if s[1] not in targets]:
            del self.probe_failures[series]

    def _count_check(self, component: str, check: str, passed: bool) -> None:
        key = (component, check)
        if key not in self._check_series:
            if len(self._check_series) >= MAX_CHECK_SERIES:
                return
            self._check_series.add(key)
        if passed:
            self.checks_passed[key] += 1
            self.checks_failed[key] += 0  # both series exist once a check was seen
        else:
            self.checks_failed[key] += 1
            self.checks_passed[key] += 0

    def _observe_duration(self, seconds: float) -> None:
        self.duration_sum += seconds
        for i, bound in enumerate(DURATION_BUCKETS):
            if seconds <= bound:
                self.duration_bucket_counts[i] += 1
                return
        self.duration_bucket_counts[-1] += 1
