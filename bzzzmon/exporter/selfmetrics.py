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


class WithProcessMetrics:
    """A page with this process's ``process_*`` metrics appended, joined once per new page or
    second, not per scrape: 10 scrapers would otherwise hold 10 copies of a page (350 KB at
    1,000 targets) at once."""

    def __init__(self) -> None:
        self._process = ProcessMetrics()
        self._body = b""
        self._body_of: tuple[bytes, bytes] = (b"", b"")  # the two parts self._body joins

    def join(self, page: bytes) -> bytes:
        process = self._process.page()
        if page is not self._body_of[0] or process is not self._body_of[1]:
            self._body, self._body_of = page + process, (page, process)
        return self._body
