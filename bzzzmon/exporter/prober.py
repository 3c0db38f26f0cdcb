"""The prober process: the probe loop and the rendering, handing each page to the server.

``bzzzmon exporter`` runs as two processes. Sharing one interpreter, the HTTP server waited for
the GIL behind probing and rendering, and on a busy machine a scrape took 10-20x what a bare
server needed (bench/README.md). Here the server process only answers with the bytes it was
handed, and this process probes, renders and writes every new page to its stdout as a
:class:`~bzzzmon.exporter.frames.Frame`.

- SIGHUP reloads the config (the server process signals it after its own reload); SIGTERM, or
  the end of stdin (the server process is gone), stops it.
- A new page is written after every round, after a reload, and when a time-dependent value of
  the page changes (a result going stale); the state is checked every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import BinaryIO

from bzzzmon.exporter import logs
from bzzzmon.exporter.config import load_config
from bzzzmon.exporter.frames import Frame
from bzzzmon.exporter.page import MetricsPage
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.webconfig import load_web_config

POLL_SECONDS = 0.2
log = logging.getLogger(__name__)


async def run_prober(service: ExporterService, out: BinaryIO) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    service.bind(loop)
    page = MetricsPage(service)
    await service.start()
    loop.add_signal_handler(signal.SIGHUP, service.request_reload)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.ensure_future(_until_stdin_closes(stop))
    published: Frame | None = None
    try:
        while not stop.is_set():
            frame = await page.frame()
            if frame is not published:
                # Written from the render thread: a slow reader must not stall the probe loop.
                await loop.run_in_executor(service.render_pool, _write, out, frame.encode())
                published = frame
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
    except BrokenPipeError:
        log.info("the server process is gone; the prober stops")
    finally:
        watcher.cancel()
        await service.close()


def _write(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()


async def _until_stdin_closes(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass
    stop.set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bzzzmon-exporter-prober")
    parser.add_argument("--config", required=True)
    parser.add_argument("--web-config")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install(logging.getLogger().handlers)
    # The server process checked both files just before starting this one.
    service = ExporterService(
        load_config(args.config),
        config_path=args.config,
        web=load_web_config(args.web_config),
        web_config_path=args.web_config,
    )
    asyncio.run(run_prober(service, sys.stdout.buffer))


if __name__ == "__main__":
    main()
