"""The webhook sink: every receiver of the stack's Alertmanager posts here, and it remembers.

Each notification is split into one :class:`Notification` per alert it carries, with the
receiver's name (from the URL path, cross-checked with the payload's ``receiver``), the alert's
labels and status, and when it arrived.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bzzzmon.sim.loop_thread import LoopThread
from bzzzmon.stack.processes import LOOPBACK, StackError


@dataclass(frozen=True)
class Notification:
    receiver: str
    status: str  # firing | resolved (of this alert)
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    received: float  # time.time() when the sink got it
    call: int = 0  # which webhook call carried it (1, 2, ...): one call is one notification

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(self.labels.get(k) == v for k, v in labels.items())


class WebhookSink:
    """An aiohttp server on 127.0.0.1 in its own thread; thread-safe reads and waits."""

    def __init__(self) -> None:
        self._notifications: list[Notification] = []
        self._calls = 0
        self._changed = threading.Condition()
        self._serving = LoopThread("bzzzmon-sink")
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Called (in the sink's thread) with the alerts of each webhook call as it arrives.
        self.listeners: list[Callable[[list[Notification]], None]] = []

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/notify"

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> WebhookSink:
        try:
            self._serving.start(self._serve, self._close)
        except BaseException as exc:  # whatever stopped it, as the stack's own error
            raise StackError(f"webhook sink could not start: {exc}") from None
        return self

    def stop(self) -> None:
        self._serving.stop()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/notify/{receiver}", self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        receiver = urllib.parse.unquote(request.match_info["receiver"])
        try:
            payload: Any = await request.json()
        except ValueError:
            return web.Response(status=400, text="expected JSON\n")
        if payload.get("receiver") not in (None, receiver):
            return web.Response(status=400, text="receiver does not match the URL\n")
        now = time.time()
        with self._changed:
            self._calls += 1
            call = self._calls
        found = [
            Notification(
                receiver=receiver,
                status=str(alert.get("status", payload.get("status", ""))),
                labels=dict(alert.get("labels") or {}),
                annotations=dict(alert.get("annotations") or {}),
                starts_at=str(alert.get("startsAt", "")),
                ends_at=str(alert.get("endsAt", "")),
                received=now,
                call=call,
            )
            for alert in payload.get("alerts") or []
        ]
        with self._changed:
            self._notifications.extend(found)
            self._changed.notify_all()
        for listener in list(self.listeners):
            listener(found)
        return web.Response(text="ok\n")

    # --- reading -------------------------------------------------------------------------------
    def notifications(
        self,
        labels: Mapping[str, str] | None = None,
        status: str | None = None,
        since: float = 0.0,
    ) -> list[Notification]:
        """Notifications of alerts carrying ``labels``, of ``status``, received at ``since`` or
        later (a ``time.time()``), in arrival order."""
        with self._changed:
            found = list(self._notifications)
        return [
            n
            for n in found
            if (labels is None or n.matches(labels))
            and (status is None or n.status == status)
            and n.received >= since
        ]

    def receivers(
        self, labels: Mapping[str, str], status: str | None = "firing", since: float = 0.0
    ) -> set[str]:
        return {n.receiver for n in self.notifications(labels, status, since)}
