"""Settings shared by the e2e tests and their fixtures."""

from __future__ import annotations

# P0's resolution target in the e2e plan: 10 min of rule time, 10 s of wall time at 60x.
ESCALATED_SEVERITY = "P0"
ESCALATION_TARGET = 600
# Guards against a hang; no test asserts on how long anything took.
TIMEOUT = 60.0
