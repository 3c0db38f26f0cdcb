"""Prometheus scrapes the exporter with the TLS and basic auth its web config enables: the real
`bzzzmon exporter` with an exporter-toolkit web config, and a real Prometheus loading the generated
prometheus.yml (the spec's ``exporter_web`` files pointed at this test's files)."""

from __future__ import annotations

import ssl
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.build import render_all
from bzzzmon.spec.plan import load_plan
from bzzzmon.stack.client import PrometheusAPI, get_json
from bzzzmon.stack.processes import ChildProcess, find_binary, free_port
from tests.runbook.parts import wait_for
from tests.shipped import copy_bzzz_alone
from tests.tls_certs import self_signed

REPO = Path(__file__).resolve().parents[2]
# The shipped spec's exporter_web.server_name. The certificate is for it only, not for 127.0.0.1:
# Prometheus must verify it against server_name, as it does with Swarm targets (addresses).
SERVER_NAME = "bzzz-exporter"
PASSWORD = "scrape-s3cret"


def _healthy(url: str) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only "is it listening" here; Prometheus verifies
    with urllib.request.urlopen(url, timeout=2, context=context) as response:
        return response.status in (200, 503)


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """The generated tree (spec secrets pointed at files here) and a TLS + basic-auth exporter
    serving on 127.0.0.1, its address in the exporter job's file_sd targets."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    cert_file, _ = self_signed(secrets, SERVER_NAME)
    (secrets / "password").write_text(PASSWORD + "\n", encoding="utf-8")
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    web = secrets / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        f"basic_auth_users:\n  prometheus: '{hashed}'\n",
        encoding="utf-8",
    )
    specs = copy_bzzz_alone(tmp_path)
    service = specs / "service.yaml"
    text = service.read_text(encoding="utf-8")
    for shipped, here in (
        ("/run/secrets/bzzz_exporter_ca", cert_file),
        ("/run/secrets/bzzz_exporter_scrape_password", secrets / "password"),
    ):
        assert shipped in text
        text = text.replace(shipped, str(here))
    service.write_text(text, encoding="utf-8")
    tree = tmp_path / "generated"
    port = free_port()
    files = render_all(load_plan(specs))
    files["prometheus/targets/bzzz-exporter.yml"] = yaml.safe_dump(
        [{"targets": [f"127.0.0.1:{port}"]}]
    )
    for rel, content in files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(content, encoding="utf-8")
    exporter = ChildProcess(
        "exporter",
        [
            sys.executable,
            "-m",
            "bzzzmon",
            "exporter",
            "--config",
            str(tree / C.EXPORTER_CONFIG),
            "--listen",
            f"127.0.0.1:{port}",
            "--web-config",
            str(web),
        ],
        tmp_path / "exporter.log",
    )
    try:
        wait_for(lambda: _healthy(f"https://127.0.0.1:{port}/healthz"), "the exporter")
        yield tree, port
    finally:
        exporter.stop()


def _without_auth(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of the exporter's job named 'no-auth', its basic auth removed."""
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "bzzz-exporter")
    bare = {k: v for k, v in job.items() if k != "basic_auth"} | {"job_name": "no-auth"}
    return config | {"scrape_configs": [*config["scrape_configs"], bare]}


@pytest.mark.e2e
def test_prometheus_scrapes_the_exporter_over_tls_with_basic_auth(
    tmp_path: Path, generated: tuple[Path, int]
) -> None:
    tree, port = generated
    config_path = tree / C.PROMETHEUS_CONFIG
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "bzzz-exporter")
    assert job["scheme"] == "https" and job["tls_config"]["server_name"] == SERVER_NAME
    assert PASSWORD not in config_path.read_text(encoding="utf-8")
    config_path.write_text(yaml.safe_dump(_without_auth(config)), encoding="utf-8")
    web_port = free_port()
    prometheus = ChildProcess(
        "prometheus",
        [
            find_binary("prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
            "--web.enable-lifecycle",
        ],
        tmp_path / "prometheus.log",
        cwd=config_path.parent,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        prometheus.wait_ready(f"{base}/-/ready", timeout=60)

        def scraped() -> dict[str, dict[str, Any]] | None:
            active = get_json(f"{base}/api/v1/targets")["data"]["activeTargets"]
            found = {
                t["labels"]["job"]: t
                for t in active
                if t["labels"]["job"] in ("bzzz-exporter", "no-auth")
            }
            done = len(found) == 2 and all(t["health"] != "unknown" for t in found.values())
            return found if done else None

        targets = wait_for(scraped, "both exporter jobs scraped once")
        assert targets["bzzz-exporter"]["health"] == "up", targets["bzzz-exporter"]["lastError"]
        assert targets["bzzz-exporter"]["scrapeUrl"].startswith(f"https://127.0.0.1:{port}/")
        # The same job without the basic auth is refused: the credentials are what let it in.
        assert targets["no-auth"]["health"] == "down"
        assert "401" in targets["no-auth"]["lastError"]
        up = PrometheusAPI(base).query('up{job="bzzz-exporter"}')
        assert [s["value"][1] for s in up] == ["1"]
    finally:
        prometheus.stop()
