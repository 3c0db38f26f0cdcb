"""Real parts on 127.0.0.1 for the runbook's resource and PostgreSQL alerts: Debian's
node_exporter, PostgreSQL 15 with postgres_exporter, and a Prometheus loading the generated,
time-scaled rules (bzzzmon/stack/timescale.py: one minute of rule time per second), sending to
an Alertmanager with the generated routing whose receivers all post to the stack's webhook sink
(as `bzzzmon demo`'s stack runs it: bzzzmon/stack/runner.py).

PostgreSQL refuses to run as root; as root (CI) its processes run as ``nobody`` (Popen's
``user=``, no wrapper process in between, so signals reach the postmaster), in a data directory
made for them under the system temporary directory (pytest's own are root-only).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from bzzzmon.render.escalation import alert_relabeling
from bzzzmon.stack.client import PrometheusAPI
from bzzzmon.stack.configs import Timing
from bzzzmon.stack.processes import LOOPBACK, ChildProcess, StackError, find_binary, free_port
from bzzzmon.stack.runner import alertmanager_command, resend_delay_flag
from bzzzmon.stack.sink import WebhookSink
from bzzzmon.stack.timescale import TimeScale
from bzzzmon.verify.tools import find

INSTALL = "./scripts/install-parts.sh"
TIMEOUT = 90.0  # guards against hangs only


def require(name: str) -> str:
    path = find(name)
    if path is None:
        raise StackError(f"{name} is not installed; run {INSTALL}")
    return path


def postgres_bin(name: str) -> str:
    """Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<major>/bin."""
    found = find(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        raise StackError(f"PostgreSQL's {name} is not installed; run {INSTALL}")
    return found


def wait_for(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, StackError):
            value = check()
            if value:
                return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


class Postgres:
    """A throw-away cluster: trust auth on 127.0.0.1 only, WAL archived by a shell
    ``archive_command`` that fails while the file ``archive_fails`` exists."""

    def __init__(self, max_connections: int = 20) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bzzzmon-pg-"))
        self.data = self.root / "data"
        self.archive = self.root / "archive"
        self.fail_flag = self.root / "archive_fails"
        self.port = free_port()
        self.max_connections = max_connections
        self.proc: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self._as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
            os.chown(self.root, nobody.pw_uid, nobody.pw_gid)
        self.archive.mkdir()
        if self._as:
            os.chown(self.archive, self._as["user"], self._as["group"])

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/postgres?sslmode=disable"

    def start(self) -> None:
        if not self.data.exists():
            # 1 MB WAL segments (the minimum, 16 MB by default): the WAL test closes one a
            # second, and 32 MB/s into pg_wal and the archive would fill the very disk
            # node_exporter reports, crossing the disk alerts' 70% line on a disk near it.
            subprocess.run(
                [
                    postgres_bin("initdb"),
                    *("-D", str(self.data), "-A", "trust", "-U", "postgres"),
                    "--wal-segsize=1",
                ],
                check=True,
                capture_output=True,
                cwd=self.root,
                **self._as,
            )
        command = f"test ! -f {self.fail_flag} && cp %p {self.archive}/%f"
        settings = {
            "listen_addresses": LOOPBACK,
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "max_connections": str(self.max_connections),
            "archive_mode": "on",
            "archive_command": command,
            "fsync": "off",
            "shared_buffers": "16MB",
        }
        args = [postgres_bin("postgres"), "-D", str(self.data)]
        for key, value in settings.items():
            args += ["-c", f"{key}={value}"]
        log = (self.root / "postgres.log").open("ab")
        self.proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root, **self._as
        )
        log.close()
        wait_for(lambda: self.psql("select 1").strip() == "1", "PostgreSQL to accept connections")

    def _psql(self, *args: str) -> list[str]:
        return [
            require("psql"),
            "-X",
            "-h",
            LOOPBACK,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            *args,
        ]

    def psql(self, sql: str, timeout: float = 10) -> str:
        result = subprocess.run(
            self._psql("-Atq", "-c", sql),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise StackError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def hold_connections(self, count: int) -> list[subprocess.Popen[bytes]]:
        """``count`` client sessions that stay open (until killed)."""
        return [
            subprocess.Popen(
                self._psql("-q", "-c", "select pg_sleep(600)"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]

    def end_held_connections(self, sessions: list[subprocess.Popen[bytes]]) -> None:
        """Kill the clients and their server backends (a backend in pg_sleep does not notice
        its client is gone until it next writes to it)."""
        for session in sessions:
            session.kill()
            session.wait()
        self.psql(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where query = 'select pg_sleep(600)' and pid <> pg_backend_pid()"
        )

    def switch_wal(self) -> None:
        """Write a little WAL and close the segment, so the archiver has one to archive."""
        self.psql(
            "create table if not exists bzzzmon_wal (x int); insert into bzzzmon_wal values (1);"
            " select pg_switch_wal();"
        )

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients such as the exporter are disconnected)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Parts:
    """node_exporter, PostgreSQL, postgres_exporter, Alertmanager (with the webhook sink) and
    Prometheus, started in that order."""

    def __init__(self, generated: Path, rule_files: list[str], jobs: dict[str, str]) -> None:
        self.generated = generated
        self.rule_files = rule_files
        self.jobs = jobs  # selector name -> job name
        self.work = Path(tempfile.mkdtemp(prefix="bzzzmon-parts-"))
        self.children: list[ChildProcess] = []
        self.postgres = Postgres()
        self.prometheus: PrometheusAPI | None = None
        self.sink = WebhookSink()
        self.timing = Timing()
        self.started = 0.0

    def _child(self, name: str, args: Callable[[int], list[str]], ready: str) -> str:
        port = free_port()
        child = ChildProcess(name, args(port), self.work / f"{name}.log")
        self.children.append(child)
        url = f"http://{LOOPBACK}:{port}"
        child.wait_ready(url + ready, TIMEOUT)
        return f"{LOOPBACK}:{port}"

    def start(self) -> None:
        node = self._child(
            "node_exporter",
            lambda port: [
                require("prometheus-node-exporter"),
                f"--web.listen-address={LOOPBACK}:{port}",
                "--collector.disable-defaults",
                "--collector.filesystem",
            ],
            "/metrics",
        )
        self.postgres.start()
        exporter_env = f"DATA_SOURCE_NAME={self.postgres.dsn}"
        postgres_exporter = self._child(
            "postgres_exporter",
            lambda port: [
                "env",
                exporter_env,
                require("prometheus-postgres-exporter"),
                f"--web.listen-address={LOOPBACK}:{port}",
            ],
            "/metrics",
        )
        self.sink.start()
        alertmanager_work = self.work / "alertmanager"
        alertmanager_work.mkdir()
        alertmanager = self._child(
            "alertmanager",
            alertmanager_command(
                find_binary("alertmanager"),
                self.generated,
                alertmanager_work,
                self.sink.url,
                self.timing,
            ),
            "/-/ready",
        )
        rules = self.work / "rules"
        rules.mkdir()
        scale = TimeScale()
        for name in self.rule_files:
            text = (self.generated / "prometheus" / "rules" / name).read_text(encoding="utf-8")
            (rules / name).write_text(scale.rule_file(text), encoding="utf-8")
        config = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "alerting": {
                "alert_relabel_configs": alert_relabeling(),
                "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}],
            },
            "rule_files": [str(rules / "*.yml")],
            "scrape_configs": [
                {"job_name": self.jobs["node"], "static_configs": [{"targets": [node]}]},
                {
                    "job_name": self.jobs["postgres"],
                    "static_configs": [{"targets": [postgres_exporter]}],
                },
            ],
        }
        config_path = self.work / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        address = self._child(
            "prometheus",
            lambda port: [
                require("prometheus"),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={self.work / 'data'}",
                f"--web.listen-address={LOOPBACK}:{port}",
                resend_delay_flag(self.timing),
                "--log.level=warn",
            ],
            "/-/ready",
        )
        self.prometheus = PrometheusAPI(f"http://{address}")
        api = self.prometheus
        wait_for(lambda: (up := api.targets_up()) and len(up) == 2 and all(up.values()), "targets")
        wait_for(api.alertmanagers, "Prometheus to discover the Alertmanager")
        self.started = time.time()

    def alerts(self, name: str, state: str | None = None) -> list[dict[str, Any]]:
        assert self.prometheus is not None
        return [
            a
            for a in self.prometheus.alerts()
            if a["labels"].get("alertname") == name and (state is None or a["state"] == state)
        ]

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.sink.stop()
        self.postgres.remove()
        shutil.rmtree(self.work, ignore_errors=True)


@contextlib.contextmanager
def running(generated: Path, rule_files: list[str], jobs: dict[str, str]) -> Iterator[Parts]:
    parts = Parts(generated, rule_files, jobs)
    try:
        parts.start()
        yield parts
    finally:
        parts.stop()
