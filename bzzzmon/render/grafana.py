"""Placeholder: filled in by the issue that owns this output."""

from __future__ import annotations

from bzzzmon.model import Plan
from bzzzmon.render.output import Files


def render(plan: Plan) -> Files:
    return {}
