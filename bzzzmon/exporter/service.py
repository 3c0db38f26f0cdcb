"""One running exporter: config in force, state, probe loop, web settings, and reload."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from bzzzmon.exporter.config import ConfigError, ExporterConfig, load_config
from bzzzmon.exporter.scheduler import ProbeScheduler
from bzzzmon.exporter.state import ExporterState
from bzzzmon.exporter.webconfig import BasicAuth, WebConfig, load_web_config

log = logging.getLogger(__name__)


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
        self.auth = BasicAuth(self.web.users)
        self.clock = clock

    @property
    def config(self) -> ExporterConfig:
        return self.scheduler.config

    async def start(self) -> None:
        await self.scheduler.start()

    async def close(self) -> None:
        await self.scheduler.close()

    def reload(self) -> bool:
        """Re-read the config (and web config) files; keep the old ones if either is invalid.

        Counters and the latest results survive: they live in :attr:`state`, not in the config.
        """
        self.state.config_reloads += 1
        self.state.version += 1
        try:
            config = load_config(self.config_path) if self.config_path else self.config
            web = load_web_config(self.web_config_path) if self.web_config_path else self.web
        except ConfigError as exc:
            self.state.last_reload_ok = False
            log.error("config reload failed, keeping the previous config: %s", exc)
            return False
        self.scheduler.update_config(config)
        self._apply_web(web)
        self.state.last_reload_ok = True
        log.info("config reloaded from %s", self.config_path)
        return True

    def _apply_web(self, web: WebConfig) -> None:
        live = self.web.ssl_context
        if (live is None) != (web.ssl_context is None):
            log.warning("turning TLS on or off needs a restart; TLS settings unchanged")
        elif live is not None and web.cert_file and web.key_file:
            # The listening socket keeps its SSLContext; load the new certificate into it.
            live.load_cert_chain(web.cert_file, web.key_file)
        self.web = WebConfig(
            ssl_context=live,
            users=web.users,
            headers=web.headers,
            cert_file=web.cert_file,
            key_file=web.key_file,
        )
        self.auth = BasicAuth(web.users)
