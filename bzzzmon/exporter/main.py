"""Run the exporter: load the configs, start probing and serving, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bzzzmon.exporter import logs
from bzzzmon.exporter.config import load_config
from bzzzmon.exporter.connections import connection_cap, raise_open_file_limit
from bzzzmon.exporter.remote import ProberProcess
from bzzzmon.exporter.server import Serving
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.webconfig import load_web_config

DEFAULT_LISTEN = "127.0.0.1:9109"
log = logging.getLogger(__name__)


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9109``, or ``:9109`` for every interface) -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {listen!r}: expected host:port, e.g. 127.0.0.1:9109 or :9109")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)


def run(
    config_path: str | Path, listen: str = DEFAULT_LISTEN, web_config: str | Path | None = None
) -> None:
    """Serve until SIGINT/SIGTERM. Raises ConfigError or ValueError on bad input (the CLI turns
    them into one line and exit status 2)."""
    host, port = parse_listen(listen)
    config = load_config(config_path)
    web_settings = load_web_config(web_config)
    service = ExporterService(
        config, config_path=config_path, web=web_settings, web_config_path=web_config
    )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.install(logging.getLogger().handlers)
    open_files = raise_open_file_limit()
    cap = connection_cap(config.concurrency, open_files)
    status = asyncio.run(serve(service, host, port, cap))
    if status:
        raise SystemExit(status)


async def serve(service: ExporterService, host: str, port: int, cap: int) -> int:
    """Serve while the prober process probes (see :mod:`bzzzmon.exporter.prober`); returns the
    exit status: 0 when stopped by a signal, 1 when the prober died."""
    assert service.config_path is not None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    service.bind(loop)
    service.logs_reloads = False
    prober = await ProberProcess.start(service.config_path, service.web_config_path)
    serving = Serving(service, cap, pages=prober.page)
    reloading = asyncio.Lock()

    async def reload() -> None:
        async with reloading:  # the web config first: once the page shows the reload, it holds
            await service.reload()
            prober.reload()

    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload()))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    died = asyncio.ensure_future(prober.wait())
    died.add_done_callback(lambda _done: stop.set())
    try:
        await serving.start(host, port)
        scheme = "https" if service.web.ssl_context else "http"
        log.info("serving on %s://%s:%d/metrics (at most %d connections)", scheme, host, port, cap)
        await stop.wait()
    finally:
        await serving.stop()
        if not died.done():
            died.cancel()
            await prober.stop()
        await service.close()
    if died.done() and not died.cancelled():
        log.error("the prober process exited with status %s", died.result())
        return 1
    return 0
