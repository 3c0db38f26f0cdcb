"""``bzzzmon diff``: a semantic diff of the spec against a base (git ref or directory)."""

from __future__ import annotations

from pathlib import Path

import click

from bzzzmon.cli.backtest_cmd import range_options, seconds_option, time_range
from bzzzmon.cli.common import fail, format_option, service_option, specs_option


@click.command(name="diff")
@click.option(
    "--base",
    "base",
    default=None,
    help="Git ref or spec directory to compare against "
    "[default: the merge base of HEAD with origin/main or main].",
)
@specs_option("The current spec directory.")
@service_option("compare")
@format_option()
@click.option(
    "--backtest",
    "backtest_url",
    default=None,
    help="Also backtest base and head on this Prometheus' history and compare their pages.",
)
@range_options
def diff(
    base: str | None,
    specs: Path,
    service: str | None,
    fmt: str,
    backtest_url: str | None,
    since: str | None,
    start: str | None,
    end: str | None,
    resolution: str,
) -> None:
    """Alerts added, removed or changed (expression, threshold, for, severity, labels,
    receivers), SLO changes and what they mean, dashboards and panels added or removed;
    with --backtest, what each side would have paged on real history.
    A diff is not a failure: exit 0; bad input exits 2."""
    from bzzzmon.diff import compare
    from bzzzmon.diff.format import render
    from bzzzmon.diff.source import BaseError, compile_base, compile_dir, default_base

    if not specs.is_dir():
        fail(f"--specs {specs} is not a directory")
    try:
        chosen = base if base is not None else default_base(specs.resolve().parent)
        # The current side first: it says which service is meant when --service is not given.
        new = compile_dir(specs, service)
        if service is None and new.plan is not None:
            service = new.plan.service.name
        old, name = compile_base(chosen, specs, service)
    except BaseError as exc:
        fail(str(exc))
    report = compare(old, new, name, str(specs))
    if backtest_url is None:
        click.echo(render(report, fmt), nl=False)
        return
    first, last = time_range(since, start, end)
    step = seconds_option(resolution)
    from bzzzmon.backtest import BacktestError
    from bzzzmon.backtest import compare as backtest_compare
    from bzzzmon.backtest.run import backtest_plan, empty_summary
    from bzzzmon.cli.backtest_cmd import progress

    try:
        sides = [
            backtest_plan(side.plan, backtest_url, first, last, progress, step)
            if side.plan is not None
            else empty_summary(backtest_url, first, last)
            for side in (old, new)
        ]
    except BacktestError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; the scratch data was removed", 130)
    paged = backtest_compare.render(sides[0], sides[1], fmt)
    if fmt == "json":
        click.echo('{"diff": ' + render(report, fmt).rstrip() + ', "backtest": ' + paged + "}")
    else:
        click.echo(render(report, fmt) + "\n" + paged, nl=False)
