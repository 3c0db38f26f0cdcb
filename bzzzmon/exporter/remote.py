"""The serving process's side of :mod:`bzzzmon.exporter.prober`: start it, read its pages.

:class:`RemotePage` answers ``/metrics``, ``/`` and ``/healthz`` from the latest frame, with this
process's own ``process_*`` metrics added. A page whose time-dependent values should have been
re-rendered more than :data:`OVERDUE_SECONDS` ago (the prober is alive but stuck) is not served
as if it were current: ``/metrics`` answers 503, so ``up`` says what the page no longer could.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from bzzzmon.exporter.frames import Frame, health, read_frame
from bzzzmon.exporter.selfmetrics import WithProcessMetrics

OVERDUE_SECONDS = 10.0
START_SECONDS = 60.0  # until the prober's first page
log = logging.getLogger(__name__)


class RemotePage:
    def __init__(self, first: Frame, clock: Callable[[], float] = time.time) -> None:
        self.frame = first
        self._clock = clock
        self._with_process = WithProcessMetrics()

    async def render(self) -> bytes:
        if self._clock() > self.frame.valid_until + OVERDUE_SECONDS:
            raise web.HTTPServiceUnavailable(text="503 the prober is not answering\n")
        return self._with_process.join(self.frame.page)

    async def landing(self) -> str:
        return self.frame.landing

    def health(self, now: float) -> tuple[dict[str, object], bool]:
        f = self.frame
        return health(f.rounds, f.last_round_started, f.last_round_finished, f.max_result_age, now)


class ProberProcess:
    """``python -m bzzzmon.exporter.prober`` as a child; :attr:`page` follows its frames."""

    def __init__(self, process: asyncio.subprocess.Process, page: RemotePage) -> None:
        self.process = process
        self.page = page
        assert process.stdout is not None
        self._reader = asyncio.ensure_future(self._follow(process.stdout))

    @classmethod
    async def start(cls, config_path: str | Path, web_config: str | Path | None) -> ProberProcess:
        command = [sys.executable, "-m", "bzzzmon.exporter.prober", "--config", str(config_path)]
        if web_config is not None:
            command += ["--web-config", str(web_config)]
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,  # closed when this process ends: the prober stops
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        assert process.stdout is not None
        try:
            async with asyncio.timeout(START_SECONDS):
                first = await read_frame(process.stdout)
        except (asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise RuntimeError(f"the prober process did not start: {exc!r}") from None
        return cls(process, RemotePage(first))

    async def _follow(self, stdout: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError):
            while True:
                self.page.frame = await read_frame(stdout)

    def reload(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGHUP)

    async def wait(self) -> int:
        """Until the prober exits; its exit status."""
        return await self.process.wait()

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._reader.cancel()
