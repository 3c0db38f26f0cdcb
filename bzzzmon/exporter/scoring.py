"""How the exporter turns probe results into health scores (pure functions, no I/O).

1. **Status words.** ``healthy``/``pass``/``ok`` score 1, ``degraded``/``warn`` score 0.5,
   ``unhealthy``/``fail``/``failed``/``timed out`` score 0 (case-insensitive). Any other word is a
   malformed answer.
2. **Observations.** Every probe result gives one observation (a score from 0 to 1) per component
   it covers:
   - ``tcp`` and ``http_status``: 1 when the connect or the expected status succeeded, else 0;
   - ``health``: the score of ``/health``'s ``status`` (0 when the request failed);
   - ``health_checks``: one observation per check in ``/health/checks``, for the component the
     ``checks`` map assigns to its name (else the entry's own ``component`` field). A mapped check
     that is missing from a successful answer observes 0 for its component; a failed request
     observes 0 for every component the probe covers (every component the ``checks`` map names).
     A ``health_checks`` target that **refused the connection** observes nothing: no process
     listens there, which is the agent-down alert's to report, while the replicas that answer
     say how healthy the component is. A timeout, a reset or a bad answer still observes 0 (an
     agent that is up but broken is unhealthy).
   - A result older than ``max_result_age`` is **stale**: it observes 0 for every component it
     covers, whatever it said when it was fresh (even a refused one: then the exporter's loop,
     not the target, is what is not there).
3. **Component score** = the mean of its observations, over all targets (agent replicas) and
   checks. A component that some probe or check is configured to measure but that has no
   observations at all (:data:`NO_DATA_SCORE`: every agent refused, or vanished from discovery)
   scores 0, so nothing answering is never mistaken for healthy.
4. **The ``exporter`` component** scores 1 while the probe loop is current (its last round finished
   no longer than ``max_result_age`` ago) and 0 otherwise.
5. **System score** = ``sum(w * s) / sum(w)`` over components with weight ``w > 0``. Scores are
   rounded to six decimals.
6. Until the first probe round has finished, no score is reported at all (absent, not 0), so a
   restart does not page anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

STATUS_SCORES: Mapping[str, float] = {
    "healthy": 1.0,
    "pass": 1.0,
    "ok": 1.0,
    "degraded": 0.5,
    "warn": 0.5,
    "unhealthy": 0.0,
    "fail": 0.0,
    "failed": 0.0,
    "timed out": 0.0,
}


@dataclass(frozen=True, slots=True)  # one per check per target: no __dict__ each
class CheckResult:
    """One entry of ``/health/checks`` after validation."""

    name: str
    component: str
    score: float


class Observation(NamedTuple):
    """A tuple, not a dataclass: a page at 10,000 targets makes 50,000 of them."""

    component: str
    score: float


def status_score(status: object) -> float | None:
    """Score of a status word, or None when it is not one of :data:`STATUS_SCORES`."""
    if not isinstance(status, str):
        return None
    return STATUS_SCORES.get(status.strip().lower())


# A measured component that nothing observed: no replica answered at all.
NO_DATA_SCORE = 0.0


def target_absent(probe_type: str, reason: str | None) -> bool:
    """A ``health_checks`` target that refused the connection: nothing listens there (rule 2).

    Its checks are neither passed nor failed and it adds no observation; its probe still fails
    (``bzzz_probe_success`` 0, a ``refused`` failure counted)."""
    return probe_type == "health_checks" and reason == "refused"


def check_passed(score: float) -> bool:
    """A check counts as passed unless it is failing (degraded still passes)."""
    return score > 0.0


def observe(
    probe_type: str,
    covered: Iterable[str],
    success: bool,
    stale: bool,
    status: float | None,
    checks: Iterable[CheckResult],
    *,
    reason: str | None = None,
) -> list[Observation]:
    """The observations one probe result contributes (see the module docstring, rule 2)."""
    covered = tuple(covered)
    if not stale and not success and target_absent(probe_type, reason):
        return []
    if stale or not success:
        return [Observation(c, 0.0) for c in covered]
    if probe_type == "health_checks":
        out = [Observation(check.component, check.score) for check in checks]
        seen = {o.component for o in out}
        out.extend(Observation(c, 0.0) for c in covered if c not in seen)
        return out
    if probe_type == "health":
        return [Observation(c, status if status is not None else 0.0) for c in covered]
    return [Observation(c, 1.0) for c in covered]


def component_scores(
    observations: Iterable[Observation], measured: Iterable[str]
) -> dict[str, float]:
    """Mean observation per component; every ``measured`` component gets a score, and one with
    no observation at all scores :data:`NO_DATA_SCORE` (not NaN, not left out)."""
    sums: dict[str, float] = {c: 0.0 for c in measured}
    counts: dict[str, int] = {c: 0 for c in sums}
    for obs in observations:
        sums[obs.component] = sums.get(obs.component, 0.0) + obs.score
        counts[obs.component] = counts.get(obs.component, 0) + 1
    return {c: (_round(sums[c] / counts[c]) if counts[c] else NO_DATA_SCORE) for c in sorted(sums)}


def exporter_score(last_round_finished: float | None, now: float, max_result_age: float) -> float:
    """1 while the probe loop is current, else 0."""
    if last_round_finished is None:
        return 0.0
    return 1.0 if now - last_round_finished <= max_result_age else 0.0


def system_score(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of component scores over components with a positive weight; with no such
    component scored there is nothing healthy to average: :data:`NO_DATA_SCORE`."""
    total = sum(w for c, w in weights.items() if w > 0 and c in scores)
    if total <= 0:
        return NO_DATA_SCORE
    return _round(sum(w * scores[c] for c, w in weights.items() if w > 0 and c in scores) / total)


def _round(score: float) -> float:
    """Six decimals: stable output (no 0.9500000000000001) and finer than any alert threshold."""
    return round(score, 6)
