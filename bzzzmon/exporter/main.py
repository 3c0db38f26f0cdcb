"""Run the exporter: load the configs, start probing and serving, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from aiohttp import web

from bzzzmon.exporter.config import load_config
from bzzzmon.exporter.server import build_app
from bzzzmon.exporter.service import ExporterService
from bzzzmon.exporter.webconfig import load_web_config

DEFAULT_LISTEN = "127.0.0.1:9109"
log = logging.getLogger(__name__)


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9109``, or ``:9109`` for every interface) -> (host, port)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
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
    asyncio.run(serve(service, host, port))


async def serve(service: ExporterService, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    runner = web.AppRunner(
        build_app(service), access_log=None, handle_signals=False, shutdown_timeout=1.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=service.web.ssl_context)
    await site.start()
    await service.start()
    loop.add_signal_handler(signal.SIGHUP, service.reload)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheme = "https" if service.web.ssl_context else "http"
    log.info("serving on %s://%s:%d/metrics", scheme, host, port)
    try:
        await stop.wait()
    finally:
        await service.close()
        await runner.cleanup()
