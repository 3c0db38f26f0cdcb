"""Connection hygiene for the exporter's HTTP server.

aiohttp's defaults keep an idle or half-sent connection for an hour and accept connections until
the process runs out of file descriptors, at which point the probes (which need sockets too)
fail. Here:

- a connection that has not sent a complete request within ``HEADER_TIMEOUT`` seconds, or sits
  idle that long after an answer, is closed (aiohttp's keep-alive timer, which runs from the
  moment a connection is accepted and fires only while no request is being handled);
- at most ``cap`` connections are open; a new one beyond that closes the oldest connection that
  is not handling a request and never carried an authorised one (a stalled one, or a flooder's),
  else the oldest idle one, so a flood of stalled connections can neither lock out a scraper nor
  push out its kept-alive connection; when every connection is busy the new one is closed;
- :func:`raise_open_file_limit` lifts the soft RLIMIT_NOFILE to the hard limit at start, and
  :func:`connection_cap` keeps room below it for the probes.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import ssl
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 512
FD_RESERVE = 64  # log files, DNS sockets, the listening socket, the interpreter's own files
# asyncio accepts up to ``backlog`` connections per loop iteration, and the gate sees a
# connection (and a closed one frees its descriptor) a few iterations later, so up to about
# ACCEPT_IN_FLIGHT * ACCEPT_BATCH descriptors can be open beyond the cap for a moment.
ACCEPT_BATCH = 32
ACCEPT_IN_FLIGHT = 4
log = logging.getLogger(__name__)


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, hard, exc)
    return soft


def connection_cap(concurrency: int, open_files: int | None = None) -> int:
    """Connections the server may hold, leaving ``concurrency`` probe sockets and a reserve."""
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if open_files == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(
        8,
        min(
            MAX_CONNECTIONS, open_files - concurrency - FD_RESERVE - ACCEPT_IN_FLIGHT * ACCEPT_BATCH
        ),
    )


class ConnectionGate:
    """Counts the server's connections, oldest first, and which of them handle a request."""

    def __init__(self, cap: int, header_timeout: float = HEADER_TIMEOUT) -> None:
        self.cap = cap
        self.header_timeout = header_timeout
        self.evicted = 0
        self.refused = 0
        self._open: OrderedDict[web.RequestHandler, None] = OrderedDict()
        self._busy: set[web.RequestHandler] = set()
        self._trusted: set[web.RequestHandler] = set()  # served an authorised request

    def __len__(self) -> int:
        return len(self._open)

    def opened(self, handler: web.RequestHandler) -> None:
        self._open[handler] = None
        if len(self._open) <= self.cap:
            return
        idle = [h for h in self._open if h not in self._busy and h is not handler]
        # Stalled and unauthorised connections go first: a scraper's kept-alive connection last.
        victim = next((h for h in idle if h not in self._trusted), idle[0] if idle else None)
        if victim is None:
            self.refused += 1
            victim = handler
        else:
            self.evicted += 1
        self._open.pop(victim, None)
        victim.force_close()

    def closed(self, handler: web.RequestHandler) -> None:
        self._open.pop(handler, None)
        self._busy.discard(handler)
        self._trusted.discard(handler)

    def trust(self, handler: object) -> None:
        """The connection carried an authorised request: evict it only after all others."""
        if isinstance(handler, web.RequestHandler) and handler in self._open:
            self._trusted.add(handler)

    @contextmanager
    def busy(self, handler: object) -> Iterator[None]:
        """Marks the connection of a request being handled, so it is not evicted meanwhile."""
        if not isinstance(handler, web.RequestHandler):
            yield
            return
        self._busy.add(handler)
        try:
            yield
        finally:
            self._busy.discard(handler)


class _GatedHandler(web.RequestHandler):
    def __init__(self, manager: web.Server, gate: ConnectionGate, loop: asyncio.AbstractEventLoop):
        # access_log=None turns access logging off (aiohttp's own runners pass it the same way).
        super().__init__(
            manager,
            loop=loop,
            keepalive_timeout=gate.header_timeout,
            access_log=None,  # type: ignore[arg-type]
        )
        self._gate = gate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._gate.opened(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._gate.closed(self)
        super().connection_lost(exc)


async def listen(
    runner: web.AppRunner,
    gate: ConnectionGate,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
) -> asyncio.Server:
    """Accept connections for ``runner``'s app through ``gate`` (instead of a ``TCPSite``)."""
    server = runner.server
    assert server is not None, "call runner.setup() first"
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _GatedHandler(server, gate, loop),
        host,
        port,
        ssl=ssl_context,
        backlog=ACCEPT_BATCH,
        reuse_address=True,
    )
