"""Placeholder: filled in by the issue that owns this check."""

from __future__ import annotations

from bzzzmon.lint import Finding
from bzzzmon.model import Plan
from bzzzmon.render.output import Files


def check(plan: Plan, files: Files) -> list[Finding]:
    return []
