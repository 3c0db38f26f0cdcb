"""Settings and helpers shared by the e2e tests and their fixtures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bzzzmon.stack import Stack

# P0's resolution target in the e2e plan: 10 min of rule time, 10 s of wall time at 60x.
ESCALATED_SEVERITY = "P0"
ESCALATION_TARGET = 600
# Gaps the escalation clock forgives: 8 min of rule time, more than a flap of the fault plus the
# alert's own 2m for: before it fires again (production: a tenth of the 2 h target).
ESCALATION_TOLERANCE = 480
# Guards against a hang; no test asserts on how long anything took.
TIMEOUT = 60.0


def held(stack: Stack, labels: Mapping[str, str], by: str) -> list[dict[str, Any]]:
    """The matching alerts Alertmanager holds, if every one of them is suppressed ``by``
    (``inhibitedBy`` or ``silencedBy``)."""
    found = [
        a
        for a in stack.alertmanager.alerts()
        if all(a["labels"].get(k) == v for k, v in labels.items())
    ]
    if found and all(a["status"]["state"] == "suppressed" and a["status"][by] for a in found):
        return found
    return []
