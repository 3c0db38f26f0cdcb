"""A diff report as plain text (terminal), Markdown (a PR comment, from a Jinja2 template) or
JSON (machines)."""

from __future__ import annotations

from bzzzmon.diff.compare import Report
from bzzzmon.templates import environment

SECTIONS = (("alert", "Alerts"), ("slo", "SLOs"), ("dashboard", "Dashboards"))


def text(report: Report) -> str:
    lines = [f"bzzzmon diff {report.base} -> {report.head}"]
    if not report.changes:
        lines.append("no changes to alerts, SLOs or dashboards")
    for key, title in SECTIONS:
        changes = report.section(key)
        if not changes:
            continue
        lines.append(f"{title}:")
        marks = {"added": "+", "removed": "-", "changed": "~"}
        lines.extend(f"  {marks[c.action]} {c.text()}" for c in changes)
    return "\n".join(lines) + "\n"


def markdown(report: Report) -> str:
    template = environment().get_template("diff.md.j2")
    sections = [(title, report.section(key)) for key, title in SECTIONS]
    return template.render(report=report, sections=[s for s in sections if s[1]])


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return report.json()
    if fmt == "markdown":
        return markdown(report)
    return text(report)
