"""What a delay seen on the stack would be in production.

The stack runs every rule duration ``factor`` times faster (``timescale``) and shortens
Alertmanager's waits to a few seconds (``configs.Timing``). A notification's delay therefore
splits into the rule part - from the fault switching on (off, for a resolution) to the moment
Prometheus says the alert fired (``startsAt``; ``endsAt`` when resolved) - which scales by
``factor``, and Alertmanager's wait, which in production is the route's ``group_wait`` for a new
alert's first notification and ``group_interval`` for a resolution
(``alertmanager.routes.timings`` of the alert's severity; the most urgent one's for the
catch-all). The sum is an estimate: it assumes a new group, and scrape and evaluation offsets
(seconds in production) are left out.
"""

from __future__ import annotations

from datetime import datetime

from bzzzmon import conventions as C
from bzzzmon.model import Plan
from bzzzmon.promql.duration import humanize_duration
from bzzzmon.render.alertmanager.routes import timings
from bzzzmon.stack.sink import Notification


def _moment(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def production_delay(plan: Plan, factor: int, n: Notification, since: float) -> int:
    """Seconds after ``since`` (the fault switching on, or off for a resolution) at which
    production would deliver ``n``."""
    firing = n.status == "firing"
    moment = _moment(n.starts_at if firing else n.ends_at) or n.received
    by_name = {s.name: s for s in plan.severities}
    severity = by_name.get(n.labels.get(C.LABEL_SEVERITY, "")) or plan.severities[0]
    wait = timings(severity)
    return round(max(0.0, moment - since) * factor) + (
        wait.group_wait if firing else wait.group_interval
    )


def production_text(plan: Plan, factor: int, n: Notification, since: float) -> str:
    return humanize_duration(production_delay(plan, factor, n, since))
