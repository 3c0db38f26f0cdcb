"""``process_*`` and ``python_info`` of the serving process, as prometheus_client writes them."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

# process_* and python_info are read at most this often (listing /proc/self/fd is not free).
PROCESS_METRICS_SECONDS = 1.0


class ProcessMetrics:
    """``process_*`` and ``python_info`` of this process, read at most once a second."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._page = b""
        self._at = -PROCESS_METRICS_SECONDS

    def page(self) -> bytes:
        if time.monotonic() - self._at > PROCESS_METRICS_SECONDS:
            self._page = generate_latest(self.registry)
            self._at = time.monotonic()
        return self._page
