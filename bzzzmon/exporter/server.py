"""The exporter's web app: ``/metrics``, ``/healthz`` and a landing page ``/``.

No route takes a target from the request: the exporter only ever probes what its config lists.
Basic auth (when configured) guards every route except ``/healthz``, which reveals nothing but
whether the probe loop is current, so an orchestrator's liveness check needs no password.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bzzzmon.exporter.auth import Verdict
from bzzzmon.exporter.connections import HEADER_TIMEOUT, MAX_CONNECTIONS, ConnectionGate, listen
from bzzzmon.exporter.page import MetricsPage
from bzzzmon.exporter.selfmetrics import WithProcessMetrics
from bzzzmon.exporter.service import ExporterService

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Bytes of /metrics handed to the connection at a time (aiohttp drains above 64 KiB).
PAGE_CHUNK = 64 * 1024


class Pages(Protocol):
    """Where the app's pages come from: rendered in this process (:class:`MetricsPage`) or
    handed over by the prober process (:class:`bzzzmon.exporter.remote.RemotePage`)."""

    async def render(self) -> bytes: ...

    async def landing(self) -> str: ...

    def health(self, now: float) -> tuple[dict[str, object], bool]: ...


def build_app(
    service: ExporterService, gate: ConnectionGate | None = None, pages: Pages | None = None
) -> web.Application:
    page = MetricsPage(service, WithProcessMetrics().join) if pages is None else pages
    gate = ConnectionGate(MAX_CONNECTIONS) if gate is None else gate

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        with gate.busy(request.protocol):
            try:
                await _authorise(service, request)
                response = await handler(request)
            except web.HTTPException as exc:  # 401, 404, 405, 429: the configured headers too
                exc.headers.update(service.web.headers)
                raise
            gate.trust(request.protocol)
            response.headers.update(service.web.headers)
            return response

    async def metrics(request: web.Request) -> web.StreamResponse:
        return await _send_page(request, await page.render(), service.web.headers)

    async def healthz(_request: web.Request) -> web.Response:
        body, current = page.health(service.clock())
        return web.json_response(body, status=200 if current else 503, dumps=_dumps)

    async def landing(_request: web.Request) -> web.Response:
        return web.Response(text=await page.landing(), content_type="text/html")

    app = web.Application(middlewares=[guard])
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/", landing)
    return app


async def _authorise(service: ExporterService, request: web.Request) -> None:
    if request.path == "/healthz" or not service.web.auth_required:
        return
    verdict = await service.auth.check(request.headers.get("Authorization"))
    if verdict is Verdict.BUSY:
        raise web.HTTPTooManyRequests(headers={"Retry-After": "1"}, text="429 Too Many Requests\n")
    if verdict is not Verdict.ALLOWED:
        raise web.HTTPUnauthorized(
            headers={"WWW-Authenticate": 'Basic realm="bzzzmon exporter"'},
            text="401 Unauthorized\n",
        )


class Serving:
    """The web app listening on ``host:port`` through a :class:`ConnectionGate`."""

    def __init__(
        self,
        service: ExporterService,
        cap: int = MAX_CONNECTIONS,
        header_timeout: float = HEADER_TIMEOUT,
        pages: Pages | None = None,
    ) -> None:
        self.service = service
        self.gate = ConnectionGate(cap, header_timeout)
        self.runner = web.AppRunner(
            build_app(service, self.gate, pages), handle_signals=False, shutdown_timeout=1.0
        )
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with port 0)."""
        await self.runner.setup()
        context = self.service.web.ssl_context
        self._server = await listen(self.runner, self.gate, host, port, context)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.runner.cleanup()


async def _send_page(
    request: web.Request, body: bytes, headers: Mapping[str, str]
) -> web.StreamResponse:
    """The page as it is, in PAGE_CHUNK pieces, each once the one before has left.

    A ``web.Response`` joins headers and body into a new copy of the page (aiohttp does on Python
    < 3.12.9), and whatever the socket does not take at once asyncio copies into the
    connection's buffer: 10 scrapers held ~2 copies of the page each. Here no copy is made, and
    a slow reader holds at most a chunk or two in its buffer. The configured headers go with the
    status line (the guard adds them to other responses after the handler)."""
    response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE_LATEST, **headers})
    response.content_length = len(body)
    await response.prepare(request)
    view = memoryview(body)
    for start in range(0, len(body), PAGE_CHUNK):
        await response.write(view[start : start + PAGE_CHUNK])
    await response.write_eof()
    return response


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True)
