"""``bzzzmon test``: run the generated and user-written rule tests and the routing tests."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bzzzmon.cli.common import EXIT_FAILED, fail, out_option, specs_option
from bzzzmon.verify.tools import ToolMissing


@click.command(name="test")
@out_option("The generated directory to test (run `bzzzmon build` first).")
@specs_option("Spec directory; user-written tests are read from its tests/ folder.")
@click.option(
    "--jobs",
    "jobs",
    default=min(8, os.cpu_count() or 1),
    show_default=True,
    type=click.IntRange(1, 64),
    help="promtool processes run at once.",
)
def test(out: Path, specs: Path, jobs: int) -> None:
    """Run generated/prometheus/tests/*.yml, specs/tests/*.yml (rule_files relative to the
    generated rules directory) and the Alertmanager routing and inhibition tests. Prints
    every failure as alert, evaluation time, expected and received labels; exits 1 on any."""
    from bzzzmon.testing import format_rule_results, run_routing_tests, run_rule_tests

    if not (out / "prometheus").is_dir():
        fail(f"{out} holds no generated output; run `bzzzmon build --out {out}` first")
    try:
        results = run_rule_tests(out, specs if specs.is_dir() else None, jobs)
    except (ToolMissing, OSError, ValueError) as exc:
        fail(str(exc))
    if results:
        click.echo(format_rule_results(results))
    failed = sum(1 for r in results if not r.ok)
    click.echo(f"rule tests: {len(results)} files, {failed} failed")

    routing = run_routing_tests(out)
    if routing.report:
        click.echo(routing.report)
    click.echo(f"routing tests: {routing.total} cases, {routing.failed} failed")
    failed += routing.failed
    if failed:
        raise SystemExit(EXIT_FAILED)
