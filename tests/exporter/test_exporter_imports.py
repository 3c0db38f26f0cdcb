"""What each of the exporter's two processes loads: the prober renders and probes but never
serves, so the web app and prometheus_client stay out of it (each interpreter's imports are
most of its memory; bench/README.md, exporter section)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from prometheus_client.utils import floatToGoString

from bzzzmon.exporter.collector import go_float

LOADED = "import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"


def loaded_by(module: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", LOADED.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


def test_the_prober_loads_neither_the_web_app_nor_prometheus_client() -> None:
    modules = loaded_by("bzzzmon.exporter.prober")
    assert "aiohttp.client" in modules and "bzzzmon.exporter.scheduler" in modules
    unwanted = {"aiohttp.web", "bzzzmon.exporter.server", "bzzzmon.exporter.connections"}
    assert not modules & unwanted
    assert not {m for m in modules if m.split(".")[0] in ("prometheus_client", "click")}


def test_the_serving_process_loads_the_web_app_but_not_the_rest_of_bzzzmon() -> None:
    modules = loaded_by("bzzzmon.cli.exporter_cmd")
    assert {"aiohttp.web", "bzzzmon.exporter.server", "prometheus_client"} <= modules
    packages = {m.split(".")[1] for m in modules if m.startswith("bzzzmon.") and "." in m}
    assert packages <= {"cli", "conventions", "exporter", "filepattern", "spec"}
    assert not {m for m in modules if m.startswith("bzzzmon.spec.") and m != "bzzzmon.spec.errors"}


FLOATS = [0.0, -0.0, 1.0, 0.5, 1e-05, 0.1 + 0.2, 123456.0, 1234567.0, 1.7e9, 1e22, -3.5]
SPECIAL = [-1234567.0, math.inf, -math.inf, math.nan, 2.0**53, 5e-324]


@pytest.mark.parametrize("value", [*FLOATS, *SPECIAL])
def test_go_float_writes_what_prometheus_client_writes(value: float) -> None:
    assert go_float(value) == floatToGoString(value)
