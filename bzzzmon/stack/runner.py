"""The stack: simulator, exporter, Prometheus and Alertmanager on 127.0.0.1, plus the sink.

The simulator serves more than the agents: the DHT bootstrap nodes the generated exporter.yml
probes (a listener each), the agents' containers under cAdvisor's names (when the spec reads
cAdvisor) and the backup dumps in the stack's own directory.

    with Stack(plan, generated_dir) as stack:
        stack.sim.set_fault("no_admin")
        stack.wait_until(lambda: stack.sink.receivers({"alertname": "BZZZNoAdminElected"}), ...)

Everything it starts is stopped by :meth:`Stack.stop`: on leaving the ``with`` block, on an
exception while starting, at interpreter exit (atexit), on SIGTERM/SIGHUP (turned into
SystemExit so the ``with`` block unwinds) and on Ctrl-C (KeyboardInterrupt does the same).
Children die with the parent even when it is killed outright (see processes.py; the thread that
starts the stack must outlive it, as the main thread does).
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.render.output import load_generated_yaml
from bzzzmon.sim import Simulator
from bzzzmon.stack import configs
from bzzzmon.stack.client import AlertmanagerAPI, PrometheusAPI
from bzzzmon.stack.configs import Timing
from bzzzmon.stack.processes import LOOPBACK, ChildProcess, StackError, find_binary, free_port
from bzzzmon.stack.sink import WebhookSink
from bzzzmon.stack.timescale import TimeScale

T = TypeVar("T")
_START_ATTEMPTS = 3  # a free port can be taken between probing it and the child binding it


def _leave(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_on_signals() -> dict[int, Any]:
    """Turn SIGTERM and SIGHUP into SystemExit, so ``with``/``finally`` blocks clean up as on
    Ctrl-C; returns the previous handlers. Only the main thread may do this (else no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _leave) for signum in (signal.SIGTERM, signal.SIGHUP)}


def restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signum, handler)


def alertmanager_command(
    binary: str, generated: Path, workdir: Path, sink: str, timing: Timing
) -> Callable[[int], list[str]]:
    """Write the stack's alertmanager.yml (the generated one, every receiver a webhook to
    ``sink``) into ``workdir``; returns the command line for a port. The stack and
    tests/runbook's real exporters both run their Alertmanager so."""
    generated_path = generated / C.ALERTMANAGER_CONFIG
    if not generated_path.exists():
        raise StackError(f"{generated_path} is missing: the build produced no routing")
    data = configs.alertmanager_config(
        configs.load_yaml(generated_path),
        config_dir=generated_path.parent.resolve(),
        sink=sink,
        timing=timing,
    )
    config = configs.write_yaml(workdir / "alertmanager.yml", data)
    storage = workdir / "data"
    storage.mkdir(parents=True, exist_ok=True)

    def args(port: int) -> list[str]:
        return [
            binary,
            f"--config.file={config}",
            f"--storage.path={storage}",
            f"--web.listen-address={LOOPBACK}:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

    return args


def resend_delay_flag(timing: Timing) -> str:
    """Firing alerts are re-sent this often: an alert sent while the notifier was still
    discovering Alertmanager (after start or reload) is not lost for the default minute.
    Alertmanager keeps alerts for 4x this long between sends."""
    return f"--rules.alert.resend-delay={configs.duration(timing.resend_delay)}"


class StackTimeout(StackError):
    """A condition the caller waited for did not come true in time."""


@dataclass(frozen=True)
class StackOptions:
    agents: int = 3
    time_scale: TimeScale = field(default_factory=TimeScale)
    timing: Timing = field(default_factory=Timing)
    ready_timeout: float = 60.0
    sim_tick: float = 0.1
    keep_workdir: bool = False  # leave configs and logs behind for debugging
    # The exporter runs as deployed: the `bzzzmon exporter` command, in a process of its own.
    exporter_command: tuple[str, ...] = (sys.executable, "-m", "bzzzmon", "exporter")


class Stack:
    def __init__(
        self,
        plan: Plan,
        generated: Path,
        options: StackOptions | None = None,
        paths: C.ServicePaths | None = None,
    ) -> None:
        """``paths``: where ``plan``'s own files are in ``generated`` (the one-service layout
        unless given: a build of several services has them in its subfolders)."""
        self.plan = plan
        self.generated = Path(generated)
        self.paths = paths or C.service_paths()
        self.options = options or StackOptions()
        self.workdir: Path | None = None
        self.sim: Simulator | None = None
        self.sink = WebhookSink()
        self.children: list[ChildProcess] = []
        self.prometheus_url = ""
        self.alertmanager_url = ""
        self.exporter_url = ""
        # Files the exporter's file probes read (a fresh backup each; the simulator's faults
        # backup_too_old and backup_empty spoil them).
        self.backups: list[Path] = []
        self.started_at = 0.0
        self._previous_handlers: dict[int, Any] = {}
        self._stopped = True

    # --- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> Stack:
        prometheus = find_binary("prometheus")
        alertmanager = find_binary("alertmanager")
        self._stopped = False
        atexit.register(self.stop)
        self._install_signal_handlers()
        try:
            self.workdir = Path(tempfile.mkdtemp(prefix="bzzzmon-stack-"))
            self.sink.start()
            exporter = configs.load_yaml(self.generated / self.paths.exporter_config)
            self.sim = Simulator(
                agents=self.options.agents,
                host=LOOPBACK,
                base_port=0,
                control_port=None,
                tick=self.options.sim_tick,
                bootstrap_nodes=configs.tcp_targets(exporter),
                cadvisor_port=0 if C.SELECTOR_CADVISOR in self.plan.service.selectors else None,
                backup_patterns=configs.file_patterns(exporter, self._dir("backups")),
            ).start()
            self.backups = self.sim.backups.files
            self._start_exporter(exporter)
            self._start_alertmanager(alertmanager)
            self._start_prometheus(prometheus)
            self.started_at = time.time()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything that was started, newest first; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop()
        self.children.clear()
        if self.sim is not None:
            with contextlib.suppress(Exception):
                self.sim.stop()
        with contextlib.suppress(Exception):
            self.sink.stop()
        self._restore_signal_handlers()
        atexit.unregister(self.stop)
        if self.workdir is not None and not self.options.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _install_signal_handlers(self) -> None:
        self._previous_handlers = exit_on_signals()

    def _restore_signal_handlers(self) -> None:
        restore_signal_handlers(self._previous_handlers)
        self._previous_handlers = {}

    # --- parts ---------------------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        assert self.workdir is not None
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _start_child(
        self,
        name: str,
        make_args: Callable[[int], list[str]],
        ready_path: str,
        port: int | None = None,
    ) -> tuple[ChildProcess, str]:
        """Start a child on a free port (retrying when the port was taken meanwhile), or on
        ``port`` (once: another child already knows its URL)."""
        logs = self._dir("logs")
        attempts = _START_ATTEMPTS if port is None else 1
        for attempt in range(attempts):
            chosen = free_port() if port is None else port
            url = f"http://{LOOPBACK}:{chosen}"
            child = ChildProcess(name, make_args(chosen), logs / f"{name}.log")
            self.children.append(child)
            try:
                child.wait_ready(url + ready_path, self.options.ready_timeout)
                return child, url
            except StackError:
                child.stop()
                self.children.remove(child)
                if child.running() or attempt == attempts - 1:
                    raise
                if "address already in use" not in child.log_tail().lower():
                    raise
        raise AssertionError("unreachable")

    def _start_exporter(self, generated: Any) -> None:
        """``generated``: the parsed generated exporter.yml."""
        assert self.sim is not None
        data = configs.exporter_config(
            generated,
            agents=self.sim.agent_targets,
            timing=self.options.timing,
            files=self._dir("backups"),
            bootstrap=self.sim.bootstrap_targets,
        )
        config = configs.write_yaml(self._dir("exporter") / "exporter.yml", data)

        def args(port: int) -> list[str]:
            return [
                *self.options.exporter_command,
                "--config",
                str(config),
                "--listen",
                f"{LOOPBACK}:{port}",
            ]

        _, self.exporter_url = self._start_child("exporter", args, "/healthz")

    def _start_alertmanager(self, binary: str) -> None:
        args = alertmanager_command(
            binary, self.generated, self._dir("alertmanager"), self.sink.url, self.options.timing
        )
        _, self.alertmanager_url = self._start_child("alertmanager", args, "/-/ready")

    def _start_prometheus(self, binary: str) -> None:
        """Start scraping first and load the rules once every target has been scraped.

        Rules evaluated before the first scrape see no data at all (``absent()`` is true, ``sum
        ... or vector(0)`` is 0) and, with ``for:`` scaled down to seconds, would fire before
        Prometheus' discovery hands over the targets (about 5 s); in production ``for:`` hides
        that cold start. Loading the rules by a reload after the first scrapes keeps such
        artifacts out of the notifications the tests and the demo look at.
        """
        assert self.sim is not None
        rules, groups = self._write_rules("prometheus/rules")
        storage = self._dir("prometheus/data")
        config_path = self._dir("prometheus") / "prometheus.yml"

        def write_config(rule_glob: str | None) -> None:
            configs.write_yaml(config_path, self.prometheus_config(rule_glob))

        def args(port: int) -> list[str]:
            write_config(None)
            return [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={storage}",
                f"--web.listen-address={LOOPBACK}:{port}",
                f"--web.external-url=http://{LOOPBACK}:{port}/",
                resend_delay_flag(self.options.timing),
                "--log.level=warn",
            ]

        child, self.prometheus_url = self._start_child("prometheus", args, "/-/ready")
        self._wait_for_targets("Prometheus")
        write_config(str(rules / "*.yml"))
        child.proc.send_signal(signal.SIGHUP)
        self._wait_for_rule_groups(groups, "Prometheus", child)
        self.wait_until(
            lambda: self.prometheus.alertmanagers(),
            timeout=self.options.ready_timeout,
            what="Prometheus to discover the Alertmanager",
        )

    def prometheus_config(self, rule_glob: str | None) -> dict[str, Any]:
        """The stack's prometheus.yml: every part the simulator serves and the exporter."""
        assert self.sim is not None
        return configs.prometheus_config(
            self.plan,
            agents=self.sim.agent_targets,
            exporter=self.exporter_url.removeprefix("http://"),
            alertmanager=self.alertmanager_url.removeprefix("http://"),
            rule_glob=rule_glob,
            timing=self.options.timing,
            cadvisor=self.sim.cadvisor_target,
            target_names={v: k for k, v in self.sim.bootstrap_targets.items()},
        )

    def _write_rules(self, into: str) -> tuple[Path, int]:
        """The generated rule files, time-scaled, in the work directory ``into``; returns the
        directory and how many rule groups the files hold."""
        rules = self._dir(into)
        groups = 0
        for source in sorted((self.generated / self.paths.rules_dir).glob("*.yml")):
            text = source.read_text(encoding="utf-8")
            (rules / source.name).write_text(
                self.options.time_scale.rule_file(text), encoding="utf-8"
            )
            # The rewrite keeps every group, so count them in the (already parsed) source.
            groups += len((load_generated_yaml(text) or {}).get("groups") or [])
        return rules, groups

    def _wait_for_targets(self, engine: str) -> None:
        """Until ``engine`` (at prometheus_url) has scraped every agent, the exporter and the
        cAdvisor stand-in."""
        assert self.sim is not None
        api = self.prometheus
        expected = len(self.sim.agent_targets) + 1 + (self.sim.cadvisor_target is not None)
        self.wait_until(
            lambda: len(up := api.targets_up()) == expected and all(up.values()),
            timeout=self.options.ready_timeout,
            what=f"{engine} to scrape every agent, the exporter and cAdvisor",
        )

    def _wait_for_rule_groups(self, groups: int, engine: str, child: ChildProcess) -> None:
        """Until the rules API at prometheus_url lists ``groups`` rule groups."""
        api = self.prometheus
        self.wait_until(
            lambda: len(api.rule_groups()) == groups,
            timeout=self.options.ready_timeout,
            what=f"{engine} to load {groups} rule groups (see {child.log})",
        )

    # --- using it ------------------------------------------------------------------------------
    @property
    def prometheus(self) -> PrometheusAPI:
        return PrometheusAPI(self.prometheus_url)

    @property
    def alertmanager(self) -> AlertmanagerAPI:
        return AlertmanagerAPI(self.alertmanager_url)

    def check_running(self) -> None:
        """Raise StackError naming the first child that died (with its last log lines)."""
        for child in self.children:
            if not child.running():
                raise StackError(
                    f"{child.name} exited with status {child.proc.returncode}; "
                    f"last lines of its log:\n{child.log_tail()}"
                )

    def wait_until(
        self,
        condition: Callable[[], T | None],
        *,
        timeout: float,
        what: str,
        poll: float = 0.25,
        on_poll: Callable[[float], None] | None = None,
    ) -> T:
        """Poll ``condition`` until it returns something truthy; return that.

        The timeout only guards against hanging: conditions are what the caller asserts.
        """
        start = time.monotonic()
        while True:
            self.check_running()
            result = condition()
            if result:
                return result
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                raise StackTimeout(f"timed out after {timeout:g}s waiting for {what}")
            if on_poll is not None:
                on_poll(elapsed)
            time.sleep(poll)
