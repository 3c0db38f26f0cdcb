"""A live feeder for the cost runs: serves the workload's counters on 127.0.0.1, continuing them
from their backfilled values at the SLO's traffic rate, so that the short windows of every shape
see fresh raw samples while the long ones read the backfilled blocks."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from bench.workload import METRIC, Workload, expected_rates, slo_name


class Feeder:
    def __init__(self, w: Workload, finals_file: Path) -> None:
        finals: dict[str, list[list[int]]] = json.loads(finals_file.read_text())
        self.names = [slo_name(i) for i in range(w.n_slos)]
        self.instances = w.instances()
        # values[s, j, 0] = bad, values[s, j, 1] = good
        self.values = np.array([finals[n] for n in self.names], dtype=np.float64)
        now = np.array([int(time.time())], dtype=np.int64)
        per_min = np.zeros((w.n_slos, w.m_instances))
        err = np.zeros(w.n_slos)
        for i in range(w.n_slos):
            lam, e = expected_rates(w, i, now)
            per_min[i] = lam[0]
            err[i] = e[0]
        self.bad_per_s = per_min * err[:, None] / 60.0
        self.good_per_s = per_min * (1 - err[:, None]) / 60.0
        self.last = time.time()
        self.lock = threading.Lock()

    def render(self) -> bytes:
        with self.lock:
            now = time.time()
            dt = now - self.last
            self.last = now
            self.values[:, :, 0] += self.bad_per_s * dt
            self.values[:, :, 1] += self.good_per_s * dt
            vals = np.floor(self.values).astype(np.int64).tolist()
        lines = ["# TYPE bench_requests_total counter"]
        for s, name in enumerate(self.names):
            for j, inst in enumerate(self.instances):
                base = f'{METRIC}{{slo="{name}",instance="{inst}",code='
                lines.append(f'{base}"500"}} {vals[s][j][0]}')
                lines.append(f'{base}"200"}} {vals[s][j][1]}')
        return ("\n".join(lines) + "\n").encode()


@contextlib.contextmanager
def serving(feeder: Feeder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = feeder.render()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
