"""Classic-histogram ``le`` across versions: what a real Prometheus of each pinned suite stores
for a scraped bucket bound, and that ``bzzzmon.promql.le.with_le`` selects the bucket on all."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bzzzmon.promql.le import go_float, le_matcher, le_spellings, openmetrics_float, with_le
from bzzzmon.promql.parse import parse
from bzzzmon.stack.processes import LOOPBACK, ChildProcess, free_port
from bzzzmon.verify.discovery import Tool, version_key

# strconv.FormatFloat(x, 'g', -1, 64) and Prometheus 3's formatOpenMetricsFloat, by hand.
GO = {
    "1": ("1", "1.0"),
    "0": ("0", "0.0"),
    "0.5": ("0.5", "0.5"),
    "100": ("100", "100.0"),
    "123456": ("123456", "123456.0"),
    "1000000": ("1e+06", "1e+06"),
    "1234567": ("1.234567e+06", "1.234567e+06"),
    "0.0001": ("0.0001", "0.0001"),
    "0.00001": ("1e-05", "1e-05"),
    "2.50": ("2.5", "2.5"),
}


@pytest.mark.parametrize("text", GO)
def test_float_spellings_are_go_s(text: str) -> None:
    assert (go_float(Decimal(text)), openmetrics_float(Decimal(text))) == GO[text]


def test_a_bound_every_version_spells_alike_gets_an_equality_matcher() -> None:
    assert le_matcher(Decimal("0.5")) == 'le="0.5"'
    assert le_matcher(Decimal("0.25")) == 'le="0.25"'


def test_an_integer_bound_matches_both_spellings_and_nothing_else() -> None:
    assert le_spellings(Decimal("1")) == ["1", "1.0"]
    assert le_matcher(Decimal("1")) == 'le=~"1|1\\\\.0"'
    assert le_matcher(Decimal("1000000")) == 'le=~"1000000|1e\\\\+06"'


def test_the_selector_parses_as_promql() -> None:
    selector = with_le('x_seconds_bucket{job="a"}', Decimal("1"))
    assert selector == 'x_seconds_bucket{job="a", le=~"1|1\\\\.0"}'
    parse(f"sum(rate({selector}[5m]))")


BOUNDS = ("0.5", "1", "100")
EXPOSITION = (
    "# HELP bzzz_le_probe_seconds A histogram with integer and fractional bounds.\n"
    "# TYPE bzzz_le_probe_seconds histogram\n"
    + "".join(f'bzzz_le_probe_seconds_bucket{{le="{b}"}} {i + 1}\n' for i, b in enumerate(BOUNDS))
    + 'bzzz_le_probe_seconds_bucket{le="+Inf"} 4\n'
    "bzzz_le_probe_seconds_sum 7\n"
    "bzzz_le_probe_seconds_count 4\n"
)


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = EXPOSITION.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    server = ThreadingHTTPServer((LOOPBACK, 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{LOOPBACK}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _query(url: str, expr: str) -> list[dict[str, object]]:
    query = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=10) as response:
        result: list[dict[str, object]] = json.load(response)["data"]["result"]
    return result


def _scraped(url: str, timeout: float = 30) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _query(url, "bzzz_le_probe_seconds_bucket")
        if len(found) == len(BOUNDS) + 1:
            return found
        time.sleep(0.2)
    raise AssertionError(f"Prometheus at {url} scraped no histogram in {timeout:g}s")


def test_each_version_stores_le_as_documented_and_with_le_selects_the_bucket(
    suite: dict[str, Tool], target: str, tmp_path: Path
) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs: [{{job_name: probe, static_configs: [{{targets: ['{target}']}}]}}]\n",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    prometheus = suite["prometheus"]
    child = ChildProcess(
        "prometheus",
        [
            prometheus.path,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
        ],
        tmp_path / "prometheus.log",
    )
    try:
        child.wait_ready(f"{url}/-/ready", 60)
        stored = {str(s["metric"]["le"]) for s in _scraped(url)}  # type: ignore[index]
        normalises = version_key(prometheus.version) >= (3,)
        if normalises:
            assert stored == {"0.5", "1.0", "100.0", "+Inf"}
        else:
            assert stored == {"0.5", "1", "100", "+Inf"}
        for value, bound in enumerate(BOUNDS, start=1):
            exact = _query(url, f'bzzz_le_probe_seconds_bucket{{le="{bound}"}}')
            assert len(exact) == (0 if normalises and "." not in bound else 1), bound
            (found,) = _query(url, with_le("bzzz_le_probe_seconds_bucket", Decimal(bound)))
            assert found["value"][1] == str(value)  # type: ignore[index]
    finally:
        child.stop()
