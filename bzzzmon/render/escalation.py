"""Placeholder: escalation alerting rules, filled in by the Alertmanager routing issue."""

from __future__ import annotations

from bzzzmon.model import Plan
from bzzzmon.render.output import Files


def render(plan: Plan) -> Files:
    return {}
