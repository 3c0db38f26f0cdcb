"""How late the probe loop runs: a probe that timed out while the loop itself was starved
(of the CPU, by a flood or a busy machine) measured the exporter, not its target.

A ticker sleeps :data:`TICK` seconds again and again and adds up how much later than asked it
woke (:meth:`LoopLag.total`, seconds of lag since it started, including a tick still overdue).
A probe records the total when it starts; if it times out and the loop lagged by more than
:data:`UNMEASURED_SHARE` of its timeout meanwhile, its result is "not measured": the previous
result stands (and ages out as usual if the starvation persists, which the exporter's own score
then shows), and ``bzzz_exporter_probes_unmeasured_total`` counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

TICK = 0.05
# A timed-out probe whose loop lagged by more than this share of its timeout is not a failure.
UNMEASURED_SHARE = 0.2


class LoopLag:
    def __init__(self) -> None:
        self._total = 0.0
        self._due: float | None = None  # when the current tick should wake
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._tick(), name="bzzzmon-loop-lag")

    async def close(self) -> None:
        await cancel_task(self._task)
        self._task = None

    def total(self) -> float:
        """Seconds the loop has woken late in all, the tick now overdue included."""
        overdue = 0.0 if self._due is None else max(0.0, time.monotonic() - self._due)
        return self._total + overdue

    def starved(self, since: float, timeout: float) -> bool:
        """Whether the loop lagged enough since ``since`` (a :meth:`total`) to void a timeout."""
        return self.total() - since > UNMEASURED_SHARE * timeout

    async def _tick(self) -> None:
        while True:
            self._due = time.monotonic() + TICK
            await asyncio.sleep(TICK)
            self._total += max(0.0, time.monotonic() - self._due)
            self._due = None


async def cancel_task(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
