"""The Prometheus server config: promtool accepts it (not only its syntax), and a real Prometheus
loads it with the generated rules, keeps file_sd targets under the contract's job names, and
accepts every panel query of every dashboard."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.grafana import panel_queries
from bzzzmon.render.output import Files
from bzzzmon.render.prometheus_config import targets_file
from bzzzmon.verify import promtool
from tests.grafana.conftest import write_tree

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool")
needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None, reason="no prometheus")


def config(files: Files) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(files[C.PROMETHEUS_CONFIG])
    return data


def test_jobs_and_paths(plan: Plan, files: Files) -> None:
    data = config(files)
    jobs = {j["job_name"]: j for j in data["scrape_configs"]}
    parts = {"node-exporter", "cadvisor", "postgres-exporter"}  # the shipped specs' selectors
    assert set(jobs) == {"bzzz-agent", "bzzz-exporter", "alertmanager", "prometheus", *parts}
    agent = jobs["bzzz-agent"]
    assert plan.service.swarm is not None
    (swarm,) = agent["dockerswarm_sd_configs"]
    assert swarm["role"] == "tasks" and swarm["port"] == plan.service.swarm.agent_port
    keep = agent["relabel_configs"][0]
    assert keep["action"] == "keep" and plan.service.swarm.agent_service in keep["regex"]
    assert agent["file_sd_configs"][0]["files"] == ["targets/bzzz-agent*.yml"]
    assert data["rule_files"] == ["rules/*.yml"]
    assert data["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    for job in ("bzzz-agent", "bzzz-exporter", *parts):
        assert yaml.safe_load(files[targets_file(job)]) == []


@needs_promtool
def test_promtool_check_config_without_syntax_only(tmp_path: Path, files: Files) -> None:
    write_tree(tmp_path, files)
    path = tmp_path / C.PROMETHEUS_CONFIG
    done = subprocess.run(
        ["promtool", "check", "config", str(path)], capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert f"{len(promtool.rule_files(tmp_path))} rule files found" in output
    result = promtool.check_config(tmp_path)
    assert result is not None and result.ok


@needs_promtool
def test_promtool_rejects_a_broken_config(tmp_path: Path, files: Files) -> None:
    data = config(files)
    data["scrape_configs"][0]["relabel_configs"][0]["action"] = "keep-if-you-like"
    write_tree(tmp_path, {**files, C.PROMETHEUS_CONFIG: yaml.safe_dump(data)})
    result = promtool.check_config(tmp_path)
    assert result is not None and not result.ok


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _wait_for(what: str, probe: Any, proc: subprocess.Popen[bytes], limit: float = 60) -> Any:
    """Poll ``probe`` until it returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            found = probe()
        except OSError:
            found = None
        if found:
            return found
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited with {proc.returncode} waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def prometheus(tmp_path: Path, files: Files) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The generated config on a real Prometheus on 127.0.0.1, the static alternative pointing
    the bzzz-agent job at Prometheus itself."""
    port = _free_port()
    tree = tmp_path / "generated"
    targets = [{"targets": [f"127.0.0.1:{port}"], "labels": {"source": "file_sd"}}]
    write_tree(tree, {**files, targets_file("bzzz-agent"): yaml.safe_dump(targets)})
    config_path = tree / C.PROMETHEUS_CONFIG
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={config_path}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=config_path.parent,
    )
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.e2e
@needs_prometheus
def test_prometheus_loads_the_config_rules_and_static_targets(
    prometheus: tuple[str, subprocess.Popen[bytes]], files: Files
) -> None:
    base, proc = prometheus

    def agent_target() -> Any:
        active = _get(f"{base}/api/v1/targets")["data"]["activeTargets"]
        return [t for t in active if t["labels"].get("job") == "bzzz-agent"]

    (target,) = _wait_for("the file_sd bzzz-agent target", agent_target, proc)
    assert target["labels"]["instance"] == base.removeprefix("http://")
    assert target["labels"]["source"] == "file_sd"

    def groups() -> Any:
        return _get(f"{base}/api/v1/rules")["data"]["groups"]

    loaded = {g["file"] for g in _wait_for("rule groups", groups, proc)}
    expected = {p for p in files if p.startswith(C.RULES_DIR + "/")}
    assert {Path(f).name for f in loaded} == {Path(p).name for p in expected}

    for uid, title, expr in panel_queries(files):
        url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = _get(url)
        assert answer["status"] == "success", (uid, title, expr, answer)
