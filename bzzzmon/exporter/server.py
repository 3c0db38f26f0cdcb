"""The exporter's web app: ``/metrics``, ``/healthz`` and a landing page ``/``.

No route takes a target from the request: the exporter only ever probes what its config lists.
Basic auth (when configured) guards every route except ``/healthz``, which reveals nothing but
whether the probe loop is current, so an orchestrator's liveness check needs no password.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bzzzmon import __version__
from bzzzmon.exporter.collector import ExporterCollector, take_snapshot
from bzzzmon.exporter.config import ExporterConfig
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.state import ExporterState

# While results keep changing (during a round), a rendered page is reused for this long, so
# concurrent scrapers share one rendering instead of queueing for their own.
RENDER_REUSE_SECONDS = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)


class MetricsPage:
    """Renders /metrics from a frozen copy of the state, in a worker thread, one at a time.

    - The copy is taken on the event loop (a few container copies), so rendering never races the
      probe loop and never blocks it.
    - A page is current while no result changed and no result has aged past ``max_result_age``
      since it was rendered; a page is also rendered right after each round, so a scrape between
      rounds (Prometheus' usual case) is answered from memory without rendering.
    - While results change, a page is reused for up to ``RENDER_REUSE_SECONDS``, and scrapes that
      arrive while a rendering is in flight get the previous page of the same round at once.
    - Once a round has finished, no scrape gets a page from before it.
    """

    def __init__(self, service: ExporterService) -> None:
        self._service = service
        self._config: ExporterConfig = service.config
        self._state: ExporterState = service.state
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ExporterCollector(self, service.clock))
        # process_* and python_info: read at most once a second, whatever the rounds do.
        self.process_registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.process_registry)
        PlatformCollector(registry=self.process_registry)
        self._process_page = b""
        self._process_at = -RENDER_REUSE_SECONDS
        self._cached: bytes = b""
        self._cached_key: tuple[int, int] | None = None  # (rounds, config reloads)
        self._cached_version = -1
        self._cached_at = 0.0
        self._valid_until = 0.0  # wall clock: when the first result of the page turns stale
        self._rendering: asyncio.Future[bytes] | None = None
        service.scheduler.round_listeners.append(self._start_rendering)

    # The collector reads these: the frozen config and state of the rendering in progress.
    @property
    def config(self) -> ExporterConfig:
        return self._config

    @property
    def state(self) -> ExporterState:
        return self._state

    async def render(self) -> bytes:
        return await self._exporter_page() + self._process_metrics()

    def _process_metrics(self) -> bytes:
        # Counting open fds lists /proc/self/fd, which is long while a round has 64 probes open.
        if time.monotonic() - self._process_at > RENDER_REUSE_SECONDS:
            self._process_page = generate_latest(self.process_registry)
            self._process_at = time.monotonic()
        return self._process_page

    async def _exporter_page(self) -> bytes:
        for _attempt in range(3):
            if self._usable():
                return self._cached
            rendering = self._start_rendering()
            await asyncio.shield(rendering)
        return self._cached

    def _usable(self) -> bool:
        state = self._service.state
        if self._cached_key is None or self._service.clock() >= self._valid_until:
            return False
        if self._cached_version == state.version:
            return True
        if self._cached_key != (state.rounds, state.config_reloads):
            return False
        recent = time.monotonic() - self._cached_at <= RENDER_REUSE_SECONDS
        return recent or self._rendering is not None

    def _start_rendering(self) -> asyncio.Future[bytes]:
        if self._rendering is None:
            self._rendering = asyncio.ensure_future(self._render())
            self._rendering.add_done_callback(_log_failure)
        return self._rendering

    async def _render(self) -> bytes:
        try:
            service = self._service
            state = service.state
            key, version = (state.rounds, state.config_reloads), state.version
            self._config, self._state = service.config, state.frozen_copy()
            valid_until = _first_stale_time(self._config, self._state)
            page = await asyncio.to_thread(generate_latest, self.registry)
            self._cached, self._cached_key, self._cached_version = page, key, version
            self._cached_at, self._valid_until = time.monotonic(), valid_until
            return page
        finally:
            self._rendering = None
            state = self._service.state
            if self._cached_key != (state.rounds, state.config_reloads):
                self._start_rendering()  # a round ended meanwhile: render its results too


def _first_stale_time(config: ExporterConfig, state: ExporterState) -> float:
    """When the page's time-dependent values (staleness, the exporter's own score) next change."""
    times = [r.finished_at for r in state.results.values()]
    if state.last_round_finished is not None:
        times.append(state.last_round_finished)
    return (min(times) + config.max_result_age) if times else float("inf")


def _log_failure(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("rendering /metrics failed", exc_info=future.exception())


def build_app(service: ExporterService) -> web.Application:
    page = MetricsPage(service)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        guarded = request.path != "/healthz" and service.web.auth_required
        if guarded and not await service.auth.allowed(request.headers.get("Authorization")):
            raise web.HTTPUnauthorized(
                headers={"WWW-Authenticate": 'Basic realm="bzzzmon exporter"'},
                text="401 Unauthorized\n",
            )
        response = await handler(request)
        response.headers.update(service.web.headers)
        return response

    async def metrics(_request: web.Request) -> web.Response:
        body = await page.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        state, config = service.state, service.config
        now = service.clock()
        last = state.last_round_finished
        started = state.last_round_started
        current = (last is not None and now - last <= config.max_result_age) or (
            last is None and started is not None and now - started <= config.max_result_age
        )
        body = {
            "status": "ok" if current else "stale",
            "rounds": state.rounds,
            "last_round_age_seconds": None if last is None else round(now - last, 3),
        }
        return web.json_response(body, status=200 if current else 503, dumps=_dumps)

    async def landing(_request: web.Request) -> web.Response:
        return web.Response(text=_landing_html(service), content_type="text/html")

    app = web.Application(middlewares=[guard])
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", landing)
    return app


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _landing_html(service: ExporterService) -> str:
    config, state = service.config, service.state
    snap = take_snapshot(config, state, service.clock())
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
