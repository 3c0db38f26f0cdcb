"""Who must be notified of an alert: the spec's routing, walked as Alertmanager walks it."""

from __future__ import annotations

from collections.abc import Mapping

from bzzzmon.model import Plan
from bzzzmon.render.alertmanager import receivers_for


def notified_receivers(plan: Plan, labels: Mapping[str, str]) -> list[str]:
    """The spec receivers an alert with ``labels`` reaches, sorted. Routes ending at a receiver
    without integrations (the null receiver) notify nobody, in production as in the stack."""
    known = {r.name for r in plan.receivers}
    return sorted({r for r in receivers_for(plan, dict(labels)) if r in known})
