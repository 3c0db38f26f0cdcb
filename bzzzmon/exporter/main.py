"""Run the exporter: load the configs, start probing and serving, reload on SIGHUP."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from bzzzmon.exporter import logs
from bzzzmon.exporter.config import load_config
from bzzzmon.exporter.connections import connection_cap, raise_open_file_limit
from bzzzmon.exporter.server import ServerThread
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
    asyncio.run(serve(service, host, port, connection_cap(config.concurrency, open_files)))


async def serve(service: ExporterService, host: str, port: int, cap: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    serving = ServerThread(service, cap)
    service.bind(loop)
    await serving.start(host, port)
    await service.start()
    loop.add_signal_handler(signal.SIGHUP, service.request_reload)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheme = "https" if service.web.ssl_context else "http"
    log.info("serving on %s://%s:%d/metrics (at most %d connections)", scheme, host, port, cap)
    try:
        await stop.wait()
    finally:
        await serving.stop()
        await service.close()
