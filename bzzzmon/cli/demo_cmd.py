"""``bzzzmon demo``: the runbook's incidents, played on real Prometheus and Alertmanager."""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import click

from bzzzmon import conventions as C
from bzzzmon.cli.common import EXIT_FAILED, fail, service_option
from bzzzmon.spec.services import ServiceChoiceError
from bzzzmon.stack import Notification, Stack, StackError, StackOptions, TimeScale
from bzzzmon.stack.player import IncidentResult, background, play
from bzzzmon.stack.prepare import build_verified
from bzzzmon.stack.processes import find_binary
from bzzzmon.stack.production import production_text
from bzzzmon.stack.routing import notified_receivers
from bzzzmon.stack.runner import exit_on_signals, restore_signal_handlers
from bzzzmon.stack.scenarios import SCENARIOS, Scenario, scenario

_HEADERS = (
    "incident",
    "alert",
    "severity",
    "receivers",
    "notifications",
    "notify (prod.)",
    "resolve (prod.)",
)


def _list() -> None:
    width = max(len(s.name) for s in SCENARIOS)
    for s in SCENARIOS:
        alert = s.alert + "".join(f" {k}={v}" for k, v in s.match.items())
        click.echo(f"{s.name:<{width}}  {s.incident}: {alert} ({s.severity})")


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(_HEADERS), rule, *(line(r) for r in rows)])


class _Progress:
    """One status line while waiting (rewritten in place on a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.shown = ""

    def wait(self, alert: str, state: str, elapsed: float) -> None:
        text = f"    ... {alert} is {state} in Prometheus ({elapsed:.0f}s)"
        if self.tty:
            click.echo("\r" + text.ljust(len(self.shown)), nl=False)
            self.shown = text
        elif state not in self.shown:
            click.echo(text)
            self.shown = text

    def say(self, text: str) -> None:
        if self.tty and self.shown:
            click.echo("\r" + " " * len(self.shown) + "\r", nl=False)
        self.shown = ""
        click.echo(text)


def _calls(notes: Sequence[Notification]) -> list[list[Notification]]:
    """Notifications grouped by the webhook call that carried them, in arrival order."""
    calls: dict[int, list[Notification]] = {}
    for n in notes:
        calls.setdefault(n.call, []).append(n)
    return list(calls.values())


def _call_line(
    stack: Stack, incident: Scenario, call: list[Notification], on: float, off: float | None
) -> str:
    """One webhook call: its receiver, each alert it carries (by name and status), and when."""
    counts: dict[tuple[str, str], int] = {}
    for alert in call:
        key = (alert.status, alert.alertname)
        counts[key] = counts.get(key, 0) + 1
    alerts = "; ".join(
        f"{status} {name}" + (f" x{c}" if c > 1 else "") for (status, name), c in counts.items()
    )
    firing = [n for n in call if n.status == "firing"]
    n = (firing or call)[0]
    escalation = " escalation" if n.labels.get(C.LABEL_ESCALATION) == "true" else ""
    collateral = "" if any(a.alertname == incident.alert for a in call) else "  [collateral]"
    since = on if firing or off is None else off
    prod = production_text(stack.plan, stack.options.time_scale.factor, n, since)
    after = "fault on" if since == on else "fault off"
    return (
        f"    -> {n.receiver:<18} {alerts} ({n.labels.get(C.LABEL_SEVERITY, '?')}{escalation})"
        f"  +{n.received - since:.1f}s, in production ~{prod} after {after}{collateral}"
    )


def _summary(stack: Stack, s: Scenario, result: IncidentResult) -> list[str]:
    factor = stack.options.time_scale.factor
    firing = [n for n in result.notifications if n.status == "firing"]
    calls = _calls(firing)  # calls that told of something firing
    collateral = sum(all(n.alertname != s.alert for n in c) for c in calls)
    expected = notified_receivers(stack.plan, result.labels)
    mine = [n for n in firing if n.matches(s.alert_labels)]
    receivers = ", ".join(result.receivers) + (
        f" (routing says {', '.join(expected)})" if list(result.receivers) != expected else ""
    )
    resolved = [
        n for n in result.notifications if n.status == "resolved" and n.matches(s.alert_labels)
    ]
    notify = production_text(stack.plan, factor, mine[0], result.fault_on)
    reset = production_text(stack.plan, factor, resolved[-1], result.fault_off) if resolved else "-"
    return [
        s.incident,
        s.alert,
        result.severity,
        receivers,
        f"{len(calls)}" + (f" ({collateral} collateral)" if collateral else ""),
        f"{result.time_to_notify:.1f}s (~{notify})",
        f"{result.time_to_resolve:.1f}s (~{reset})",
    ]


def _play_all(stack: Stack, chosen: Sequence[Scenario], timeout: float) -> int:
    progress = _Progress()
    current: list[Scenario] = []
    started = [0.0]
    stopped: list[float | None] = [None]
    faulted = [False]
    quiet = background(stack.plan)

    def notified(batch: list[Notification]) -> None:
        """One line per webhook call of the current incident, collateral ones included."""
        shown = [n for n in batch if n.alertname not in quiet]
        if current and shown:
            progress.say(_call_line(stack, current[0], shown, started[0], stopped[0]))

    stack.sink.listeners.append(notified)
    rows: list[list[str]] = []
    failed = 0
    for number, s in enumerate(chosen, 1):
        click.echo(f"\n[{number}/{len(chosen)}] {s.incident} (runbook {s.runbook})")
        current[:] = [s]
        started[0], stopped[0], faulted[0] = time.time(), None, False

        def step(text: str) -> None:
            # Delays count from the fault, not from the quiet wait before it (play's fault_on).
            if text.startswith("fault on") and not faulted[0]:
                started[0], faulted[0] = time.time(), True
            if text.startswith("fault off") and stopped[0] is None:
                stopped[0] = time.time()
            progress.say(f"    {text}")

        try:
            result: IncidentResult | None = play(
                stack,
                s,
                expected_receivers=lambda labels: notified_receivers(stack.plan, labels),
                on_step=step,
                on_wait=functools.partial(progress.wait, s.alert),
                timeout=timeout,
            )
        except StackError as exc:
            progress.say(f"    FAILED: {exc}")
            stack.check_running()  # a part that died ends the demo; a late alert does not
            result = None
        assert stack.sim is not None
        stack.sim.clear_faults()
        if result is None:
            failed += 1
            rows.append([s.incident, s.alert, s.severity, "-", "-", "not notified", "-"])
            continue
        for labels in result.standing:
            progress.say(f"    still firing from before: {labels.get('alertname')} {dict(labels)}")
        for labels in result.unsettled:
            progress.say(f"    still notifiable: {labels.get('alertname')} {dict(labels)}")
        failed += list(result.receivers) != notified_receivers(stack.plan, result.labels)
        rows.append(_summary(stack, s, result))
    current.clear()
    click.echo("\n" + _table(rows))
    scale = stack.options.time_scale.factor
    click.echo(
        f"\nWall-clock seconds on the stack, where rule durations (for:, windows) run {scale}x "
        f"faster and Alertmanager waits {stack.options.timing.group_wait:g}s before a first "
        f"notification; ~ is the production equivalent: the rule part times {scale} plus the "
        f"route's own group_wait (group_interval for a resolution). Notifications counts the "
        f"webhook calls each incident caused, every receiver included."
    )
    return failed


@click.command(name="demo")
@click.option(
    "--specs",
    default="specs",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of spec files to build and run.",
)
@service_option("run")
@click.option("--scenario", "name", default=None, help="Play only this incident (see --list).")
@click.option("--list", "list_only", is_flag=True, help="List the incidents and exit.")
@click.option(
    "--time-scale",
    type=click.IntRange(1, 3600),
    default=60,
    show_default=True,
    help="Run rule durations this many times faster (60: a minute per second).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 3600),
    default=120,
    show_default=True,
    help="Seconds to wait for each notification before giving up.",
)
def demo(
    specs: Path,
    service: str | None,
    name: str | None,
    list_only: bool,
    time_scale: int,
    timeout: float,
) -> None:
    """Build the spec and run it for real on 127.0.0.1 (simulated BZZZ agents, the exporter,
    Prometheus, Alertmanager and a webhook sink standing in for every receiver), then play the
    runbook's incidents one after another and show who was notified, and when."""
    if list_only:
        _list()
        return
    try:
        chosen = [scenario(name)] if name else list(SCENARIOS)
    except KeyError as exc:
        fail(str(exc.args[0]))
    try:
        find_binary("prometheus")
        find_binary("alertmanager")
    except StackError as exc:
        fail(str(exc))
    previous = exit_on_signals()  # SIGTERM/SIGHUP unwind like Ctrl-C: temp files go too
    try:
        failed = _run(specs, service, chosen, time_scale, timeout)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; everything the demo started is stopped", err=True)
        raise SystemExit(130) from None
    finally:
        restore_signal_handlers(previous)
    if failed:
        raise SystemExit(EXIT_FAILED)


def _run(
    specs: Path, service: str | None, chosen: Sequence[Scenario], time_scale: int, timeout: float
) -> int:
    with tempfile.TemporaryDirectory(prefix="bzzzmon-demo-") as tmp:
        click.echo(f"building {specs} ...")
        try:
            plan, paths = build_verified(specs, Path(tmp) / "generated", service)
        except StackError as exc:
            fail(str(exc), EXIT_FAILED)
        except ServiceChoiceError as exc:
            fail(str(exc))
        click.echo("starting the simulator, exporter, Alertmanager and Prometheus on 127.0.0.1 ...")
        options = StackOptions(time_scale=TimeScale(factor=time_scale))
        try:
            with Stack(plan, Path(tmp) / "generated", options, paths) as stack:
                click.echo(f"  Prometheus   {stack.prometheus_url}")
                click.echo(f"  Alertmanager {stack.alertmanager_url}")
                click.echo(f"  exporter     {stack.exporter_url}/metrics")
                return _play_all(stack, chosen, timeout)
        except StackError as exc:
            fail(str(exc), EXIT_FAILED)
