"""``bzzzmon backtest``: what the spec's alerts would have fired and paged on real history."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from bzzzmon.cli.common import fail, format_option, load_one_service, service_option, specs_option

ALIGN = 60  # the range snaps to whole minutes: the same command gives the same grid


def parse_time(text: str, option: str) -> int:
    """RFC 3339 or unix seconds."""
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        fail(f"{option} {text!r} is neither RFC 3339 (2026-11-14T00:00:00Z) nor unix seconds")


def time_range(since: str | None, start: str | None, end: str | None) -> tuple[int, int]:
    from bzzzmon.promql.duration import DurationError, parse_duration

    if since is not None and (start is not None or end is not None):
        fail("--since and --start/--end exclude each other")
    if since is None and start is None:
        since = "30d"
    last = parse_time(end, "--end") if end is not None else int(time.time())
    if since is not None:
        try:
            span = parse_duration(since)
        except DurationError as exc:
            fail(f"--since {since!r}: {exc}")
        first = last - span
    else:
        assert start is not None
        first = parse_time(start, "--start")
    first, last = first // ALIGN * ALIGN, last // ALIGN * ALIGN
    if last <= first:
        fail("the range is empty: --end must be after --start")
    return first, last


def range_options(func: click.decorators.FC) -> click.decorators.FC:
    """``--since`` or ``--start``/``--end``, shared with ``bzzzmon diff --backtest``."""
    func = click.option("--end", default=None, help="Range end (RFC 3339 or unix) [default: now].")(
        func
    )
    func = click.option("--start", default=None, help="Range start (RFC 3339 or unix).")(func)
    func = click.option(
        "--since", default=None, help="Range length up to --end or now, e.g. 30d [default: 30d]."
    )(func)
    return click.option(
        "--resolution",
        default="0s",
        show_default=True,
        help="Evaluate no finer than this (e.g. 1m): faster, each transition known to within it.",
    )(func)


def seconds_option(text: str) -> int:
    from bzzzmon.promql.duration import DurationError, parse_duration

    if text in ("0", "0s"):
        return 0
    try:
        return parse_duration(text)
    except DurationError as exc:
        fail(f"--resolution {text!r}: {exc}")


def progress(message: str) -> None:
    click.echo(f"backtest: {message}", err=True)


@click.command(name="backtest")
@click.option("--prometheus", "url", required=True, help="The Prometheus holding the history.")
@range_options
@specs_option("The spec directory whose rules are replayed.")
@service_option("replay")
@format_option()
@click.option(
    "--out", "out", default=None, type=click.Path(path_type=Path), help="Write the report here."
)
def backtest(
    url: str,
    since: str | None,
    start: str | None,
    end: str | None,
    resolution: str,
    specs: Path,
    service: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Replay every generated alert of the spec over the Prometheus' history (the real
    Prometheus evaluates every rule in a scratch TSDB, removed afterwards) and route each
    firing episode: episodes, pages per receiver, firing time, silences, budget per SLO.
    Bad input (no Prometheus, no series, no data in the range) exits 2."""
    from bzzzmon.backtest import BacktestError
    from bzzzmon.backtest.report import render
    from bzzzmon.backtest.run import backtest_plan

    first, last = time_range(since, start, end)
    step = seconds_option(resolution)
    if not specs.is_dir():
        fail(f"--specs {specs} is not a directory")
    from bzzzmon.backtest.prom import check

    try:
        check(url)  # before compiling the spec: an unreachable URL is told at once
        plan, _ = load_one_service(specs, service)
        data = backtest_plan(plan, url, first, last, progress, step)
    except BacktestError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; the scratch data was removed", 130)
    output = render(data, fmt)
    if out is None:
        click.echo(output, nl=False)
    else:
        out.write_text(output, encoding="utf-8")
