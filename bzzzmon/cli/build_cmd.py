"""``bzzzmon build``: compile specs/ into generated/."""

from __future__ import annotations

from pathlib import Path

import click

from bzzzmon.cli.common import EXIT_FAILED, fail, out_option, specs_option
from bzzzmon.verify.tools import ToolMissing


@click.command()
@specs_option("Directory of spec files.")
@out_option("Output directory, replaced as a whole.")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and name the files when --out is not what the spec yields.",
)
@click.option("--no-verify", is_flag=True, help="Skip promtool/amtool verification.")
@click.option(
    "--require-tools",
    is_flag=True,
    envvar="BZZZMON_REQUIRE_TOOLS",
    help="Fail when promtool or amtool is missing instead of skipping verification "
    "(also set by BZZZMON_REQUIRE_TOOLS=1; CI sets it).",
)
def build(specs: Path, out: Path, check: bool, no_verify: bool, require_tools: bool) -> None:
    """Compile the spec into Prometheus rules and tests, Alertmanager routing, Grafana
    dashboards, the Prometheus and exporter configs and the alert catalog."""
    # Here, not at the top: `bzzzmon build --help` should not load every renderer.
    from bzzzmon.build import BuildError
    from bzzzmon.build import build as run_build

    try:
        result = run_build(
            specs, out, check=check, verify=not no_verify, require_tools=require_tools
        )
    except (BuildError, ToolMissing) as exc:
        fail(str(exc))
    for finding in result.findings:
        click.echo(finding.format(), err=True)
    if result.errors:
        fail(f"{len(result.errors)} lint error(s); nothing was written.", EXIT_FAILED)
    for failure in result.failures:
        click.echo(f"$ {' '.join(failure.command)}\n{failure.output}", err=True)
    if result.failures:
        fail("verification failed; nothing was written.", EXIT_FAILED)
    for name in result.skipped:
        click.echo(f"bzzzmon: warning: {name} skipped: tool not found", err=True)
    verified = ""
    if result.verified:
        verified = f" (verified with {', '.join(result.tools)}: {', '.join(result.verified)})"
    if check:
        if result.stale:
            click.echo(f"{out} is stale; run `bzzzmon build` and commit the result:", err=True)
            for line in result.stale:
                click.echo(f"  {line}", err=True)
            raise SystemExit(EXIT_FAILED)
        click.echo(f"{out} is up to date with {specs} ({len(result.files)} files){verified}")
        return
    click.echo(f"wrote {len(result.files)} files to {out}{verified}")
