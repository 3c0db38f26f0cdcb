"""One running exporter: config in force, state, probe loop, web settings, worker pools, reload."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bzzzmon.exporter.auth import AUTH_WORKERS, BasicAuth, lower_priority
from bzzzmon.exporter.config import ConfigError, ExporterConfig, load_config
from bzzzmon.exporter.scheduler import ProbeScheduler
from bzzzmon.exporter.state import ExporterState
from bzzzmon.exporter.webconfig import WebConfig, load_web_config

log = logging.getLogger(__name__)
# Threads resolving names (the event loop's default executor, which asyncio and aiohttp use for
# getaddrinfo); nothing else runs there, so no other work can delay a probe's DNS lookup.
RESOLVER_WORKERS = 8


class ExporterService:
    def __init__(
        self,
        config: ExporterConfig,
        *,
        config_path: str | Path | None = None,
        web: WebConfig | None = None,
        web_config_path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config_path = config_path
        self.web_config_path = web_config_path
        self.state = ExporterState()
        self.scheduler = ProbeScheduler(config, self.state, clock)
        self.web = web or WebConfig()
        # One pool per kind of work, so a flood of one kind cannot starve another.
        self.resolver_pool = ThreadPoolExecutor(RESOLVER_WORKERS, "bzzz-resolve")
        self.auth_pool = ThreadPoolExecutor(AUTH_WORKERS, "bzzz-auth", lower_priority)
        self.render_pool = ThreadPoolExecutor(1, "bzzz-render")
        self.reload_pool = ThreadPoolExecutor(1, "bzzz-reload")
        self.auth = BasicAuth(self.web.users, self.web.dummy_hash, self.auth_pool)
        self.clock = clock
        self._reloading: asyncio.Task[bool] | None = None
        # Whether reloads are logged: the serving process of a two-process exporter reloads for
        # its web settings only and leaves the report to the prober, which checks the same files.
        self.logs_reloads = True
        self._loop: asyncio.AbstractEventLoop | None = None  # the probe loop's

    @property
    def config(self) -> ExporterConfig:
        return self.scheduler.config

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """``loop`` is the probe loop; make the resolver pool its default executor."""
        self._loop = loop
        loop.set_default_executor(self.resolver_pool)

    async def frozen(self) -> tuple[ExporterConfig, ExporterState, float]:
        """The config, a frozen copy of the state and the time, taken on the probe loop (the web
        app may run on a loop of its own in another thread: only the probe loop may iterate the
        state's containers)."""

        def take() -> tuple[ExporterConfig, ExporterState, float]:
            return self.config, self.state.frozen_copy(), self.clock()

        loop = self._loop
        if loop is None or loop is asyncio.get_running_loop():
            return take()
        future: concurrent.futures.Future[tuple[ExporterConfig, ExporterState, float]]
        future = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(take())
            except Exception as exc:  # reported to the waiting renderer
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return await asyncio.wrap_future(future)

    async def start(self) -> None:
        self.bind(asyncio.get_running_loop())
        await self.scheduler.start()

    async def close(self) -> None:
        await self.scheduler.close()
        for pool in (self.auth_pool, self.render_pool, self.reload_pool):
            pool.shutdown(wait=False, cancel_futures=True)

    def request_reload(self) -> None:
        """SIGHUP: reload in the background; a reload asked for during one runs after it."""
        previous = self._reloading

        async def reload_after() -> bool:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            return await self.reload()

        self._reloading = asyncio.ensure_future(reload_after())

    async def reload(self) -> bool:
        """Re-read the config (and web config) files; keep the old ones if either is invalid.

        The files are read and checked in a worker thread (making the dummy hash runs bcrypt), so
        the event loop keeps probing and serving meanwhile. Counters and the latest results
        survive: they live in :attr:`state`, not in the config.
        """
        loop = asyncio.get_running_loop()
        try:
            config, web = await loop.run_in_executor(self.reload_pool, self._load)
        except ConfigError as exc:
            return self._reload_failed(str(exc))
        except Exception as exc:  # a bug in a loader: keep serving the config in force
            return self._reload_failed(f"{type(exc).__name__}: {exc}")
        try:
            self._load_certificate(web)
        except (OSError, ssl.SSLError) as exc:
            return self._reload_failed(f"cannot load the new certificate: {exc}")
        self.state.config_reloads += 1
        self.state.version += 1
        self.scheduler.update_config(config)
        self._apply_web(web)
        self.state.last_reload_ok = True
        if self.logs_reloads:
            log.info("config reloaded from %s", self.config_path)
        return True

    def _load(self) -> tuple[ExporterConfig, WebConfig]:
        config = load_config(self.config_path) if self.config_path else self.config
        web = load_web_config(self.web_config_path) if self.web_config_path else self.web
        return config, web

    def _reload_failed(self, reason: str) -> bool:
        self.state.config_reloads += 1
        self.state.version += 1
        self.state.last_reload_ok = False
        if self.logs_reloads:
            log.error("config reload failed, keeping the previous config: %s", reason)
        return False

    def _load_certificate(self, web: WebConfig) -> None:
        live = self.web.ssl_context
        if (live is None) != (web.ssl_context is None):
            log.warning("turning TLS on or off needs a restart; TLS settings unchanged")
        elif live is not None and web.cert_file and web.key_file:
            # The listening socket keeps its SSLContext; load the new certificate into it.
            live.load_cert_chain(web.cert_file, web.key_file)

    def _apply_web(self, web: WebConfig) -> None:
        self.web = WebConfig(
            ssl_context=self.web.ssl_context,
            users=web.users,
            headers=web.headers,
            cert_file=web.cert_file,
            key_file=web.key_file,
            dummy_hash=web.dummy_hash,
        )
        self.auth.update(web.users, web.dummy_hash)
