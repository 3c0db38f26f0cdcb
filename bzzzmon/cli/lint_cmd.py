"""``bzzzmon lint``: the build's checks, without building, plus runbook anchors on request."""

from __future__ import annotations

from pathlib import Path

import click

from bzzzmon.cli.common import EXIT_FAILED, fail, specs_option


@click.command(name="lint")
@specs_option("Directory of spec files.")
@click.option(
    "--runbook",
    "runbook",
    default=None,
    type=click.Path(path_type=Path),
    help="Runbook file (Markdown, or plain text) whose headings every runbook_url anchor "
    "must match.",
)
def lint(specs: Path, runbook: Path | None) -> None:
    """Check alert names, severities, annotations, metrics against the contracts, rate() on
    counters, recording-rule names, group sizes and SLO settings. Errors exit 1."""
    from bzzzmon.build import CHECKS, Check, render_and_check
    from bzzzmon.lint import rules_lint
    from bzzzmon.render.output import forget_rendered
    from bzzzmon.spec.services import load_services

    services = load_services(specs)  # a bad spec is reported by the command group
    checks: list[Check] = list(CHECKS)
    if runbook is not None:
        try:
            runbook_text = runbook.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read --runbook {runbook}: {exc.strerror or exc}")
        markdown = runbook.suffix.lower() in (".md", ".markdown")
        checks.append(
            lambda plan, files: rules_lint.check_runbook(plan, files, runbook_text, markdown)
        )
    try:
        findings = render_and_check(services, checks).findings
    finally:
        forget_rendered()
    findings.sort()
    for finding in findings:
        click.echo(finding.format())
    errors = sum(1 for f in findings if f.level == "error")
    warnings = len(findings) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors:
        raise SystemExit(EXIT_FAILED)
