"""``bzzzmon diff``: a semantic diff of the spec against a base (git ref or directory)."""

from __future__ import annotations

from pathlib import Path

import click

from bzzzmon.cli.common import fail, specs_option


@click.command(name="diff")
@click.option(
    "--base",
    "base",
    default=None,
    help="Git ref or spec directory to compare against "
    "[default: the merge base of HEAD with origin/main or main].",
)
@specs_option("The current spec directory.")
@click.option(
    "--format",
    "fmt",
    default="text",
    show_default=True,
    type=click.Choice(["text", "markdown", "json"]),
    help="text for a terminal, markdown for a PR comment, json for machines.",
)
def diff(base: str | None, specs: Path, fmt: str) -> None:
    """Alerts added, removed or changed (expression, threshold, for, severity, labels,
    receivers), SLO changes and what they mean, dashboards and panels added or removed.
    A diff is not a failure: exit 0; bad input exits 2."""
    from bzzzmon.diff import compare
    from bzzzmon.diff.format import render
    from bzzzmon.diff.source import BaseError, compile_base, compile_dir, default_base

    if not specs.is_dir():
        fail(f"--specs {specs} is not a directory")
    try:
        chosen = base if base is not None else default_base(specs.resolve().parent)
        old, name = compile_base(chosen, specs)
        new = compile_dir(specs)
    except BaseError as exc:
        fail(str(exc))
    report = compare(old, new, name, str(specs))
    click.echo(render(report, fmt), nl=False)
