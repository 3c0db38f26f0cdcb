"""Helpers for the Alertmanager tests: render a spec's Alertmanager outputs, run a real
Alertmanager 0.25 on 127.0.0.1, and run the bzzzmon CLI."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx
import yaml

from bzzzmon.model import Plan
from bzzzmon.render import alertmanager, escalation
from bzzzmon.spec.plan import load_plan

ROOT = Path(__file__).resolve().parents[2]
TEST_SPECS = Path(__file__).resolve().parent / "specs"

# A spec's plan and the directory its Alertmanager outputs were rendered to (the fixtures').
Rendered = tuple[Plan, Path]


def render_alerting(spec: Path | Plan, out: Path) -> Plan:
    """Write the Alertmanager config, templates, routing tests and escalation rules of a spec
    (a one-service directory, or a plan already loaded)."""
    plan = spec if isinstance(spec, Plan) else load_plan(spec)
    for module in (alertmanager, escalation):
        for rel, text in module.render(plan).items():
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return plan


def load_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def bzzzmon(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bzzzmon", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RunningAlertmanager:
    """A real Alertmanager on 127.0.0.1 with no cluster port; stopped on exit."""

    def __init__(self, workdir: Path, config: dict[str, object] | Path | None = None) -> None:
        self.workdir = workdir
        self.config = config or {
            "route": {"receiver": "blackhole"},
            "receivers": [{"name": "blackhole"}],
        }
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RunningAlertmanager:
        binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        assert binary, "prometheus-alertmanager is not installed"
        self.workdir.mkdir(parents=True, exist_ok=True)
        if isinstance(self.config, Path):
            config = self.config
        else:
            config = self.workdir / "alertmanager.yml"
            config.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "alertmanager.log").open("wb"),
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        # Readiness, not timing, is what is waited for; the deadline only bounds a broken start.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = (self.workdir / "alertmanager.log").read_text(errors="replace")
                raise RuntimeError(f"alertmanager exited early:\n{log}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("alertmanager did not become ready")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
