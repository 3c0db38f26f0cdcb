"""``bzzzmon import sloth|openslo FILE...``: another tool's SLO specs as bzzzmon spec files."""

from __future__ import annotations

from pathlib import Path

import click

from bzzzmon.cli.common import fail


def _run(tool: str, files: tuple[Path, ...], out: Path, force: bool, report: Path | None) -> None:
    from bzzzmon.imports import import_files
    from bzzzmon.imports.report import format_report
    from bzzzmon.imports.writer import write

    specs, entries = import_files(tool, list(files))  # type: ignore[arg-type]
    if report is not None and report.resolve().parent == out.resolve():
        fail("--report must not be written into --out, where bzzzmon would read it as a spec")
    try:
        written = write(specs, out, force=force)
    except FileExistsError as exc:
        fail(f"not overwriting {exc} (use --force)")
    text = format_report(entries, written)
    if report is None:
        click.echo(text, err=True, nl=False)
    else:
        report.write_text(text, encoding="utf-8")


_files = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
_out = click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the spec files (one per service); nothing is written outside it.",
)
_force = click.option("--force", is_flag=True, help="Overwrite spec files that exist.")
_report = click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report of what was mapped how to this file (default: stderr).",
)


@click.group(name="import")
def import_() -> None:
    """Write bzzzmon specs from Sloth or OpenSLO specs, with a report of what was mapped how."""


def _command(tool: str, summary: str) -> click.Command:
    @import_.command(name=tool, help=summary)
    @_files
    @_out
    @_force
    @_report
    def command(files: tuple[Path, ...], out: Path, force: bool, report: Path | None) -> None:
        _run(tool, files, out, force, report)

    return command


sloth = _command("sloth", "Sloth specs: prometheus/v1 and the PrometheusServiceLevel CRD.")
openslo = _command(
    "openslo",
    "OpenSLO v1: Service, SLI, SLO, AlertPolicy, AlertCondition, AlertNotificationTarget.",
)
