"""The exporter's metrics: a snapshot of the latest results, as Prometheus text exposition.

Nothing here probes or waits: :func:`render_page` reads a frozen :class:`ExporterState` and applies
the scoring rules of :mod:`scoring`. The text is written directly (the same bytes
prometheus_client's ``generate_latest`` writes: sorted label names, Go-style floats) rather than
through metric family objects, which cost ~15 us per sample: at 1,000 targets x 5 components that
was ~100 ms of GIL per page. Label sets of per-target series are kept in a :class:`LabelCache`
between pages, since targets rarely change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    EXPORTER_UNMEASURED_PROBES,
    FILE_NEWEST_AGE,
    FILE_NEWEST_SIZE,
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


@dataclass(frozen=True)
class Snapshot:
    """Scores and per-target success at one instant."""

    scored: bool  # False until the first round has finished
    components: dict[str, float]
    system: float
    probe_success: dict[tuple[str, str], float]  # (component, target) -> 0 or 1; unordered
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
                reason=outcome.reason,
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
        probe_success=success,
        stale=stale,
        targets={c: len(t) for c, t in sorted(targets.items())},
    )


class LabelCache:
    """``{a="x",b="y"}`` texts by label values, for one set of label names; bounded by what the
    latest page used."""

    def __init__(self, names: Sequence[str]) -> None:
        self._order = sorted(range(len(names)), key=lambda i: names[i])
        self._names = [names[i] for i in self._order]
        self._texts: dict[tuple[str, ...], str] = {}
        self._used: dict[tuple[str, ...], str] = {}

    def text(self, values: tuple[str, ...]) -> str:
        found = self._used.get(values)
        if found is None:
            found = self._texts.get(values)
            if found is None:
                pairs = (
                    f'{self._names[j]}="{_escape(values[i])}"' for j, i in enumerate(self._order)
                )
                found = "{" + ",".join(pairs) + "}"
            self._used[values] = found
        return found

    def page_done(self) -> None:
        self._texts, self._used = self._used, {}


class PageCaches:
    """The label caches of the page's large families, kept from one page to the next."""

    def __init__(self) -> None:
        self.success = LabelCache([LABEL_COMPONENT, LABEL_TARGET])
        self.failures = LabelCache([LABEL_COMPONENT, LABEL_TARGET, LABEL_REASON])
        self._keys: frozenset[tuple[str, str]] = frozenset()
        self._sorted: list[tuple[str, str]] = []

    def order(self, keys: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """``keys`` sorted; the sort is kept while the set of (component, target) stays the same."""
        current = frozenset(keys)
        if current != self._keys:
            self._keys, self._sorted = current, sorted(current)
        return self._sorted

    def page_done(self) -> None:
        self.success.page_done()
        self.failures.page_done()


def render_page(
    config: ExporterConfig, state: ExporterState, now: float, caches: PageCaches
) -> tuple[bytes, Snapshot]:
    """The exporter's own metrics as exposition text, and the snapshot they show."""
    snap = take_snapshot(config, state, now)
    out: list[str] = []
    if snap.scored:
        _family(
            out,
            SYSTEM_HEALTH_SCORE,
            "gauge",
            "Weighted mean of the component health scores (0..1).",
            [("", snap.system)],
        )
        _family(
            out,
            COMPONENT_HEALTH_SCORE,
            "gauge",
            "Health score of one BZZZ component (0..1) from the latest probe results.",
            [(_labels((LABEL_COMPONENT, c)), s) for c, s in snap.components.items()],
        )
    for name, doc, counts in (
        (
            HEALTH_CHECKS_PASSED,
            "Health checks (from /health/checks) that passed, by component and check.",
            state.checks_passed,
        ),
        (
            HEALTH_CHECKS_FAILED,
            "Health checks (from /health/checks) that failed or could not be read.",
            state.checks_failed,
        ),
    ):
        samples = [
            (_labels((LABEL_COMPONENT, c), (LABEL_CHECK, k)), v)
            for (c, k), v in sorted(counts.items())
        ]
        _family(out, name, "counter", doc, samples)
    _family(
        out,
        PROBE_SUCCESS,
        "gauge",
        "1 if the latest probe of the target succeeded and is fresh, else 0.",
        [(caches.success.text(k), snap.probe_success[k]) for k in caches.order(snap.probe_success)],
    )
    _duration_histogram(out, state)
    if any(p.type == "file" for p in config.probes):
        _file_families(out, config, state, now)
    _family(
        out,
        EXPORTER_BUILD_INFO,
        "gauge",
        "bzzzmon exporter version (always 1).",
        [(_labels((LABEL_VERSION, __version__)), 1.0)],
    )
    _family(
        out,
        EXPORTER_PROBE_FAILURES,
        "counter",
        "Failed probes by component, target and reason.",
        [(caches.failures.text(k), v) for k, v in sorted(state.probe_failures.items())],
    )
    if state.last_round_finished is not None:
        _family(
            out,
            EXPORTER_LAST_PROBE_TIMESTAMP,
            "gauge",
            "Unix time the latest probe round finished.",
            [("", state.last_round_finished)],
        )
    if state.last_round_seconds is not None:
        _family(
            out,
            EXPORTER_ROUND_DURATION,
            "gauge",
            "How long the latest probe round took, in seconds.",
            [("", round(state.last_round_seconds, 6))],
        )
    _family(
        out,
        EXPORTER_STALE_PROBES,
        "gauge",
        "Results older than max_result_age (counted as failed), by component.",
        [(_labels((LABEL_COMPONENT, c)), float(n)) for c, n in snap.stale.items()],
    )
    _family(
        out,
        EXPORTER_TARGETS,
        "gauge",
        "Targets probed for each component in the latest round.",
        [(_labels((LABEL_COMPONENT, c)), float(n)) for c, n in snap.targets.items()],
    )
    _family(
        out,
        EXPORTER_UNMEASURED_PROBES,
        "counter",
        "Timed-out probes not counted as failures: the exporter's own loop was starved.",
        [("", float(state.unmeasured))],
    )
    _family(
        out,
        EXPORTER_CONFIG_RELOADS,
        "counter",
        "Config reloads attempted (SIGHUP).",
        [("", float(state.config_reloads))],
    )
    _family(
        out,
        EXPORTER_CONFIG_LAST_RELOAD_OK,
        "gauge",
        "1 if the latest config reload succeeded (or none was attempted), else 0.",
        [("", 1.0 if state.last_reload_ok else 0.0)],
    )
    caches.page_done()
    return "".join(out).encode(), snap


_ONE, _ZERO = " 1.0\n", " 0.0\n"


def go_float(value: float) -> str:
    """A sample value as prometheus_client writes it (its ``floatToGoString``, Go's spelling:
    1.0, +Inf, NaN, 1.7e+09). Here rather than imported, so that the prober process, which
    renders but does not serve, does not load prometheus_client (1 MiB of RSS); a test
    compares the two."""
    value = float(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    dot = text.find(".")
    if value > 0 and dot > 6:  # Go switches to the exponent form sooner than Python
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return text


def _family(
    out: list[str], name: str, kind: str, doc: str, samples: Iterable[tuple[str, float]]
) -> None:
    out.append(f"# HELP {name} {_escape_help(doc)}\n# TYPE {name} {kind}\n")
    for labels, value in samples:
        text = _ONE if value == 1.0 else _ZERO if value == 0.0 else f" {go_float(value)}\n"
        out.append(name + labels + text)


def _file_families(
    out: list[str], config: ExporterConfig, state: ExporterState, now: float
) -> None:
    """Age and size of the newest file per fresh file probe result. No matching file at all is
    infinitely old (so a "backup too old" alert fires when there is none); a directory that
    cannot be read says nothing here (its probe fails with reason ``unreadable``)."""
    ages: list[tuple[str, float]] = []
    sizes: list[tuple[str, float]] = []
    for (_probe, target), r in sorted(state.results.items()):
        if r.probe_type != "file" or now - r.finished_at > config.max_result_age:
            continue
        for component in r.components:
            labels = _labels((LABEL_COMPONENT, component), (LABEL_TARGET, target))
            o = r.outcome
            if o.file_mtime is not None and o.file_size is not None:
                ages.append((labels, max(0.0, round(now - o.file_mtime, 3))))
                sizes.append((labels, float(o.file_size)))
            elif o.reason == "no_file":
                ages.append((labels, math.inf))
    doc = "Seconds since the newest regular file matching the pattern (target) was modified."
    _family(out, FILE_NEWEST_AGE, "gauge", doc, ages)
    doc = "Size in bytes of the newest regular file matching the pattern (target)."
    _family(out, FILE_NEWEST_SIZE, "gauge", doc, sizes)


def _duration_histogram(out: list[str], state: ExporterState) -> None:
    doc = "Duration of probes (each target, each round), in seconds."
    cumulative = 0
    samples: list[tuple[str, float]] = []
    for bound, count in zip(
        [*(repr(b) for b in DURATION_BUCKETS), "+Inf"], state.duration_bucket_counts, strict=True
    ):
        cumulative += count
        samples.append((_labels(("le", bound)), float(cumulative)))
    out.append(f"# HELP {PROBE_DURATION} {doc}\n# TYPE {PROBE_DURATION} histogram\n")
    out.extend(f"{PROBE_DURATION}_bucket{labels} {go_float(v)}\n" for labels, v in samples)
    out.append(f"{PROBE_DURATION}_count {go_float(float(cumulative))}\n")
    out.append(f"{PROBE_DURATION}_sum {go_float(state.duration_sum)}\n")


def _labels(*pairs: tuple[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs)) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(doc: str) -> str:
    return doc.replace("\\", r"\\").replace("\n", r"\n")
