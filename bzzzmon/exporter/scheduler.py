"""The background probe loop: a round every ``probe_interval``, bounded concurrency, jitter.

Each round resolves the DNS targets afresh (so every Swarm task replica is probed), starts each
target at a fixed offset within ``jitter * probe_interval`` (derived from a hash of probe and
target, so targets are spread out but keep their slot from round to round) and runs at most
``concurrency`` probes at once. Results land in :class:`ExporterState` as they finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Awaitable, Callable

import aiohttp

from bzzzmon.exporter.config import ExporterConfig, ProbeConfig
from bzzzmon.exporter.fileprobe import file_pool, probe_file
from bzzzmon.exporter.lag import LoopLag, cancel_task
from bzzzmon.exporter.probes import (
    ProbeFailed,
    ProbeOutcome,
    new_session,
    resolve_a_records,
    run_probe,
)
from bzzzmon.exporter.state import ExporterState, ResultKey, TargetResult

log = logging.getLogger(__name__)
# Seconds the probe loop waits for the page of a round before it probes on without it.
ROUND_LISTENER_TIMEOUT = 30.0


def jitter_offset(probe: str, target: str, spread: float) -> float:
    """Stable start offset of a target within a round, in ``[0, spread)`` seconds."""
    if spread <= 0:
        return 0.0
    return (zlib.crc32(f"{probe}\0{target}".encode()) / 2**32) * spread


class ProbeScheduler:
    def __init__(
        self,
        config: ExporterConfig,
        state: ExporterState,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self.state = state
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._round_lock = asyncio.Lock()
        self.lag = LoopLag()
        self.file_pool = file_pool()
        self._wake = asyncio.Event()
        self._tuples_of: ExporterConfig | None = None  # the config self._tuples were made for
        self._tuples: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = {}
        # Awaited after every round, before it counts as finished (the web page renders /metrics
        # here, so no scrape waits for a rendering); bounded by ROUND_LISTENER_TIMEOUT.
        self.round_listeners: list[Callable[[], Awaitable[None]]] = []

    @property
    def config(self) -> ExporterConfig:
        return self._config

    def update_config(self, config: ExporterConfig) -> None:
        """Use ``config`` from the next round on; wakes the loop so it starts right away."""
        self._config = config
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self.lag.start()
            self._task = asyncio.create_task(self._loop(), name="bzzzmon-probe-loop")

    async def close(self) -> None:
        await cancel_task(self._task)
        self._task = None
        await self.lag.close()
        self.file_pool.shutdown(wait=False, cancel_futures=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run_round(self) -> None:
        """Probe every configured target once (rounds never overlap)."""
        async with self._round_lock:
            config = self._config
            state = self.state
            state.last_round_started = self._clock()
            round_started = time.monotonic()
            state.count_stale(self._clock(), config.max_result_age)
            jobs, unresolved = await self._targets(config)
            await self._probe_all(config, jobs)
            state.retain([(probe.name, target) for probe, target in jobs] + unresolved)
            state.last_round_finished = self._clock()
            state.last_round_seconds = time.monotonic() - round_started
            state.rounds += 1
            state.version += 1
        for listener in self.round_listeners:
            try:
                async with asyncio.timeout(ROUND_LISTENER_TIMEOUT):
                    await listener()
            except Exception:  # a page that failed to render must not stop probing
                log.exception("after-round work failed")

    async def _loop(self) -> None:
        while True:
            started = time.monotonic()
            self._wake.clear()
            try:
                await self.run_round()
            except Exception:  # a bug must not stop probing; the exporter score shows staleness
                log.exception("probe round failed")
            delay = self._config.probe_interval - (time.monotonic() - started)
            if delay > 0 and not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)

    async def _targets(
        self, config: ExporterConfig
    ) -> tuple[list[tuple[ProbeConfig, str]], list[ResultKey]]:
        """Every (probe, target) to probe this round, and the keys of DNS names that did not
        resolve (recorded right here as failed results under the name itself)."""
        jobs: list[tuple[ProbeConfig, str]] = []
        unresolved: list[ResultKey] = []
        for probe in config.probes:
            jobs.extend((probe, target) for target in probe.static_targets + probe.files)
            resolved = await asyncio.gather(
                *(self._resolve(d.name, d.port, config.probe_timeout) for d in probe.dns_targets)
            )
            for dns, addresses in zip(probe.dns_targets, resolved, strict=True):
                if isinstance(addresses, ProbeFailed):
                    target = f"{dns.name}:{dns.port}"
                    outcome = ProbeOutcome(False, addresses.reason, addresses.detail, 0.0)
                    self.state.record(self._result(config, probe, target, outcome))
                    unresolved.append((probe.name, target))
                else:
                    jobs.extend((probe, target) for target in addresses)
        # A target listed twice (statically and through DNS) is probed once.
        unique = {(probe.name, target): (probe, target) for probe, target in jobs}
        return list(unique.values()), unresolved

    @staticmethod
    async def _resolve(name: str, port: int, timeout: float) -> list[str] | ProbeFailed:
        try:
            return await resolve_a_records(name, port, timeout)
        except ProbeFailed as exc:
            return exc

    async def _probe_all(self, config: ExporterConfig, jobs: list[tuple[ProbeConfig, str]]) -> None:
        """Every job, at most ``concurrency`` at once, none before its jitter offset.

        ``concurrency`` workers take the jobs in the order of their offsets, which starts each
        job when a task per job waiting for a semaphore would (the later of its offset and a
        free slot) without 10,000 waiting tasks, coroutines and futures at 10,000 targets.
        """
        spread = config.jitter * config.probe_interval
        started = time.monotonic()
        timed = [
            (jitter_offset(probe.name, target, spread), probe, target) for probe, target in jobs
        ]
        queue = iter(sorted(timed, key=lambda job: job[0]))  # stable: config order for ties

        async def worker() -> None:
            for offset, probe, target in queue:
                delay = started + offset - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._probe(config, probe, target)

        await asyncio.gather(*(worker() for _ in range(min(config.concurrency, len(jobs)))))

    async def _probe(self, config: ExporterConfig, probe: ProbeConfig, target: str) -> None:
        lag_before = self.lag.total()
        if probe.type == "file":
            outcome = await probe_file(self.file_pool, target, config.probe_timeout)
        else:
            outcome = await run_probe(
                self._get_session(),
                probe,
                target,
                config.probe_timeout,
                config.max_body_bytes,
                config.checks,
                frozenset(config.component_names()),
            )
        if outcome.reason == "timeout" and self.lag.starved(lag_before, config.probe_timeout):
            self.state.unmeasured += 1  # the loop was starved, not the target slow: see lag.py
            self.state.version += 1
            return
        self.state.record(self._result(config, probe, target, outcome))

    def _result(
        self, config: ExporterConfig, probe: ProbeConfig, target: str, outcome: ProbeOutcome
    ) -> TargetResult:
        components, mapped = self._probe_tuples(config, probe)
        return TargetResult(
            probe=probe.name,
            probe_type=probe.type,
            target=target,
            components=components,
            outcome=outcome,
            finished_at=self._clock(),
            mapped_checks=mapped,
        )

    def _probe_tuples(
        self, config: ExporterConfig, probe: ProbeConfig
    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """A probe's components and mapped checks, made once per config and shared by all its
        targets' results (not 6 tuples per target)."""
        if self._tuples_of is not config:
            self._tuples_of, self._tuples = config, {}
        if probe.name not in self._tuples:
            mapped = tuple(config.checks.items()) if probe.type == "health_checks" else ()
            self._tuples[probe.name] = (config.covered_components(probe), mapped)
        return self._tuples[probe.name]

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = new_session(0)  # concurrency is bounded by the round's semaphore
        return self._session


__all__ = ["ProbeScheduler", "ResultKey", "jitter_offset"]
