"""The exporter's web app: ``/metrics``, ``/healthz`` and a landing page ``/``.

No route takes a target from the request: the exporter only ever probes what its config lists.
Basic auth (when configured) guards every route except ``/healthz``, which reveals nothing but
whether the probe loop is current, so an orchestrator's liveness check needs no password.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bzzzmon import __version__
from bzzzmon.exporter.collector import ExporterCollector, take_snapshot
from bzzzmon.exporter.service import ExporterService

# A rendered /metrics page is reused for this long unless a round finished or the config
# reloaded meanwhile: concurrent scrapers then share one rendering instead of queueing.
RENDER_REUSE_SECONDS = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class MetricsPage:
    def __init__(self, service: ExporterService) -> None:
        self._service = service
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ExporterCollector(service, service.clock))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._cached: bytes = b""
        self._cached_key: tuple[int, int] | None = None
        self._cached_at = 0.0

    def render(self) -> bytes:
        state = self._service.state
        key = (state.rounds, state.config_reloads)
        now = time.monotonic()
        if key != self._cached_key or now - self._cached_at > RENDER_REUSE_SECONDS:
            self._cached = generate_latest(self.registry)
            self._cached_key, self._cached_at = key, now
        return self._cached


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
        return web.Response(body=page.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

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
