"""Pages as the prober process hands them to the serving process: one frame per rendering.

A frame is three big-endian lengths, then a JSON header (the round counters ``/healthz`` reads
and until when the page is right), the ``/metrics`` bytes and the landing page.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

_LENGTHS = struct.Struct(">III")
# A page bigger than this is a broken prober, not a page (10,000 targets make ~3.5 MB).
MAX_FRAME_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Frame:
    page: bytes
    landing: str
    rounds: int
    last_round_started: float | None
    last_round_finished: float | None
    max_result_age: float
    valid_until: float  # wall clock: when a time-dependent value of the page changes

    def encode(self) -> bytes:
        header = json.dumps(
            {
                "rounds": self.rounds,
                "last_round_started": self.last_round_started,
                "last_round_finished": self.last_round_finished,
                "max_result_age": self.max_result_age,
                # JSON has no infinity: a page valid for ever says null.
                "valid_until": None if math.isinf(self.valid_until) else self.valid_until,
            }
        ).encode()
        landing = self.landing.encode()
        lengths = _LENGTHS.pack(len(header), len(self.page), len(landing))
        return lengths + header + self.page + landing


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    """The next frame; raises ``asyncio.IncompleteReadError`` at the end of the stream."""
    lengths = _LENGTHS.unpack(await reader.readexactly(_LENGTHS.size))
    if sum(lengths) > MAX_FRAME_BYTES:
        raise ValueError(f"a frame of {sum(lengths)} bytes from the prober")
    header: dict[str, Any] = json.loads(await reader.readexactly(lengths[0]))
    page = await reader.readexactly(lengths[1])
    landing = (await reader.readexactly(lengths[2])).decode()
    valid_until = header["valid_until"]
    return Frame(
        page=page,
        landing=landing,
        rounds=int(header["rounds"]),
        last_round_started=header["last_round_started"],
        last_round_finished=header["last_round_finished"],
        max_result_age=float(header["max_result_age"]),
        valid_until=math.inf if valid_until is None else float(valid_until),
    )


def health(
    rounds: int,
    last_round_started: float | None,
    last_round_finished: float | None,
    max_result_age: float,
    now: float,
) -> tuple[dict[str, object], bool]:
    """``/healthz``'s body, and whether the probe loop is current."""
    last, started = last_round_finished, last_round_started
    current = (last is not None and now - last <= max_result_age) or (
        last is None and started is not None and now - started <= max_result_age
    )
    body: dict[str, object] = {
        "status": "ok" if current else "stale",
        "rounds": rounds,
        "last_round_age_seconds": None if last is None else round(now - last, 3),
    }
    return body, current
