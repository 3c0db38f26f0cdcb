"""/metrics and the landing page rendered once per probe round (:class:`MetricsPage`).

Apart from the web app so that the prober process, which renders but does not serve, imports
neither ``aiohttp.web`` nor the process collectors (a few MiB of RSS per process).
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable

from bzzzmon import __version__
from bzzzmon.exporter.collector import PageCaches, Snapshot, render_page
from bzzzmon.exporter.config import ExporterConfig
from bzzzmon.exporter.frames import Frame, health
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.state import ExporterState

log = logging.getLogger(__name__)


class MetricsPage:
    """/metrics as bytes rendered once per probe round, served from memory.

    - A page is rendered after every round and after every config reload, from a frozen copy of
      the state (taken on the event loop, so rendering in the render thread never races the
      probe loop), and when one of its time-dependent values (a result turning stale, the
      exporter's own score) changes.
    - Every other scrape is answered with the bytes in memory: its cost does not grow with the
      number of targets, and scrapers never queue for a rendering of their own.
    - The probe loop awaits the rendering of its round before it calls the round finished, so
      a scrape never waits for a round's rendering: until the new page is ready it gets the
      previous round's, a consistent snapshot. Only a page with no round yet, one from before a
      config reload, or one whose time-dependent values have changed is rendered on demand.
    """

    def __init__(
        self, service: ExporterService, finish: Callable[[bytes], bytes] = lambda page: page
    ) -> None:
        self._service = service
        self._caches = PageCaches()
        self._finish = finish  # what render() adds (process metrics); the prober hands frames
        self._cached: bytes = b""
        self._landing = ""
        self._cached_key: tuple[int, int] | None = None  # (rounds, config reloads)
        self._valid_until = 0.0  # wall clock: when a time-dependent value of the page changes
        self._frame = Frame(b"", "", 0, None, None, 0.0, 0.0)  # the page, to hand over
        self._rendering: asyncio.Future[bytes] | None = None
        # Rounds end on the probe loop; this page lives on the web app's loop (maybe another).
        loop = asyncio.get_running_loop()

        async def round_finished() -> None:
            if loop.is_closed():  # the web app may stop before the probe loop does
                return
            if loop is asyncio.get_running_loop():
                await self._render_round()
                return
            rendered = asyncio.run_coroutine_threadsafe(self._render_round(), loop)
            await asyncio.wrap_future(rendered)

        service.scheduler.round_listeners.append(round_finished)

    async def render(self) -> bytes:
        await self._ensure_current()
        return self._finish(self._cached)

    async def landing(self) -> str:
        """The landing page, built with the metrics page from the same snapshot."""
        await self._ensure_current()
        return self._landing

    def health(self, now: float) -> tuple[dict[str, object], bool]:
        state = self._service.state
        return health(
            state.rounds,
            state.last_round_started,
            state.last_round_finished,
            self._service.config.max_result_age,
            now,
        )

    async def frame(self) -> Frame:
        """The page as the prober process hands it over (without the process metrics, which
        the serving process adds for itself)."""
        await self._ensure_current()
        return self._frame

    async def _ensure_current(self) -> None:
        """On demand: only when no page would be right (see the class docstring)."""
        for _attempt in range(3):
            if self._current():
                return
            await asyncio.shield(self._start_rendering())

    async def _render_round(self) -> None:
        """Until the page shows the round that just finished (or a later one)."""
        rounds = self._service.state.rounds
        for _attempt in range(3):
            if self._cached_key is not None and self._cached_key[0] >= rounds:
                return
            await asyncio.shield(self._start_rendering())

    def _current(self) -> bool:
        key = self._cached_key
        return (
            key is not None
            and key[1] == self._service.state.config_reloads
            and self._service.clock() < self._valid_until
        )

    def _render_both(
        self, config: ExporterConfig, state: ExporterState, now: float
    ) -> tuple[bytes, str]:
        page, snapshot = render_page(config, state, now, self._caches)
        return page, _landing_html(config, state, snapshot)

    def _start_rendering(self) -> asyncio.Future[bytes]:
        if self._rendering is None:
            self._rendering = asyncio.ensure_future(self._render())
            self._rendering.add_done_callback(_log_failure)
        return self._rendering

    async def _render(self) -> bytes:
        try:
            service = self._service
            config, frozen, now = await service.frozen()
            key = (frozen.rounds, frozen.config_reloads)
            loop = asyncio.get_running_loop()
            page, landing = await loop.run_in_executor(
                service.render_pool, self._render_both, config, frozen, now
            )
            self._cached, self._landing, self._cached_key = page, landing, key
            self._valid_until = _next_change(config, frozen, now)
            self._frame = Frame(
                page,
                landing,
                frozen.rounds,
                frozen.last_round_started,
                frozen.last_round_finished,
                config.max_result_age,
                self._valid_until,
            )
            return page
        finally:
            self._rendering = None


def _next_change(config: ExporterConfig, state: ExporterState, now: float) -> float:
    """When a time-dependent value of a page rendered at ``now`` next changes: a result or the
    latest round passing ``max_result_age`` (only changes still ahead count, so a stalled probe
    loop does not make every scrape render)."""
    times = [r.finished_at for r in state.results.values()]
    if state.last_round_finished is not None:
        times.append(state.last_round_finished)
    ahead = [t + config.max_result_age for t in times if t + config.max_result_age >= now]
    return min(ahead) if ahead else float("inf")


def _log_failure(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("rendering /metrics failed", exc_info=future.exception())


def _landing_html(config: ExporterConfig, state: ExporterState, snap: Snapshot) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{s:.3f}</td></tr>" for c, s in snap.components.items()
    )
    results = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(r.probe),
            html.escape(r.target),
            "ok" if r.outcome.success else html.escape(r.outcome.reason or "failed"),
            html.escape(r.outcome.detail),
        )
        for _key, r in sorted(state.results.items())[:200]
    )
    system = f"{snap.system:.3f}" if snap.scored else "(no round finished yet)"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>bzzzmon exporter</title></head>
<body>
<h1>bzzzmon exporter {html.escape(__version__)}</h1>
<p>Service <b>{html.escape(config.service)}</b>; system health score <b>{system}</b>;
{state.rounds} probe rounds.</p>
<p><a href="/metrics">/metrics</a> &middot; <a href="/healthz">/healthz</a></p>
<h2>Components</h2><table border="1"><tr><th>component</th><th>score</th></tr>{rows}</table>
<h2>Latest results</h2>
<table border="1"><tr><th>probe</th><th>target</th><th>result</th><th>detail</th></tr>
{results}</table>
</body></html>
"""
