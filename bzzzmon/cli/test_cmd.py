"""``bzzzmon test``: run the generated and user-written rule tests and the routing tests."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import click

from bzzzmon.cli.common import EXIT_FAILED, fail, out_option, specs_option
from bzzzmon.verify.tools import ToolMissing, require


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@click.command(name="test")
@out_option("The generated directory to test (run `bzzzmon build` first).")
@specs_option("Spec directory; user-written tests are read from its tests/ folder.")
@click.option(
    "--jobs",
    "jobs",
    default=_cores(),
    show_default="the cores this process may use",
    type=click.IntRange(1, 64),
    help="promtool processes run at once.",
)
@click.option(
    "--changed",
    "changed",
    is_flag=False,
    flag_value="HEAD",
    default=None,
    metavar="[REF]",
    help="Run only the test files that differ from the git ref REF (HEAD when none is given) "
    "or read a rule file that does; the routing tests only when alertmanager/ differs.",
)
def test(out: Path, specs: Path, jobs: int, changed: str | None) -> None:
    """Run generated/prometheus/tests/*.yml, specs/tests/*.yml (rule_files relative to the
    generated rules directory) and the Alertmanager routing and inhibition tests. Prints a line
    per test file as it finishes, every failure as alert, evaluation time, expected and received
    labels, then the totals and the slowest files; exits 1 on any failure."""
    from bzzzmon.verify.rule_testing import (
        format_result,
        run_routing_tests,
        run_tests,
        select,
        summary,
    )

    if not (out / "prometheus").is_dir():
        fail(f"{out} holds no generated output; run `bzzzmon build --out {out}` first")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bzzzmon-test-") as tmp:
        try:
            require("promtool")
            chosen = select(out, specs if specs.is_dir() else None, Path(tmp), changed)
        except (ToolMissing, OSError, ValueError) as exc:  # a bad test file, git's refusal
            fail(str(exc))
        if changed is not None:
            click.echo(f"--changed {changed}: {len(chosen.tests)} of {chosen.total} test files")
        results = []
        for result in run_tests(chosen.tests, jobs):
            click.echo(format_result(result))
            results.append(result)
    click.echo(summary(results, time.monotonic() - start, jobs))
    failed = sum(1 for r in results if not r.ok)

    if chosen.routing_changed(out):
        routing = run_routing_tests(out)
        if routing.report:
            click.echo(routing.report)
        click.echo(f"routing tests: {routing.total} cases, {routing.failed} failed")
        failed += routing.failed
    else:
        click.echo(f"routing tests: skipped (alertmanager/ is as in {changed})")
    if failed:
        raise SystemExit(EXIT_FAILED)
