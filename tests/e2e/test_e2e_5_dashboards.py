"""Every panel query of every generated dashboard returns data from the live Prometheus.

Runs last, so the session's incidents have produced the series that only exist while something
fails (ALERTS, failure counters); each query is run over the whole session as Grafana would run
it over a time range.

The stack runs the simulator's agents, its cAdvisor stand-in and the exporter, nothing else: the
overview's host and PostgreSQL panels read node_exporter and postgres_exporter (its backup and
container panels are fed: the exporter's file probe looks into a directory of the stack's own,
the simulator serves cAdvisor's container metrics). Those queries must return nothing here (so
the list below cannot hide a panel the stack does feed); the host and PostgreSQL panels return
data from the real exporters in tests/runbook/, and every query is accepted by a real
Prometheus in tests/grafana/.
"""

from __future__ import annotations

import time

from bzzzmon import conventions as C
from bzzzmon.build import read_tree
from bzzzmon.model import Plan
from bzzzmon.promql.parse import SelectorUse, selectors_of
from bzzzmon.render.grafana import panel_queries
from bzzzmon.render.monitoring_parts import declared_parts
from bzzzmon.stack import Stack


def outside_the_stack(plan: Plan, expr: str) -> bool:
    """Every selector of ``expr`` reads a part the stack does not run (cAdvisor it runs)."""
    jobs = {
        plan.service.matchers(p.selector).get("job", p.default_job)
        for p in declared_parts(plan)
        if p.selector != C.SELECTOR_CADVISOR
    }

    def absent(use: SelectorUse) -> bool:
        job = next((v for k, op, v in use.matchers if k == "job" and op == "="), None)
        return job in jobs

    uses = selectors_of(expr)
    return bool(uses) and all(absent(u) for u in uses)


def test_every_panel_query_returns_data(stack: Stack) -> None:
    queries = panel_queries(read_tree(stack.generated))
    assert queries, "the build rendered no dashboard queries"
    uids = {uid for uid, _, _ in queries}
    assert len(uids) >= 3  # overview, the exporter and at least one SLO dashboard
    end = time.time()

    def has_data(expr: str) -> bool:
        return bool(stack.prometheus.query_range(expr, stack.started_at, end, 2))

    outside = [(u, t, e) for u, t, e in queries if outside_the_stack(stack.plan, e)]
    inside = [(u, t, e) for u, t, e in queries if not outside_the_stack(stack.plan, e)]
    empty = [f"{uid} / {title}: {expr}" for uid, title, expr in inside if not has_data(expr)]
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
    # The shipped overview has host and PostgreSQL panels, none fed here.
    titles = {t for _, t, _ in outside}
    assert {"Host filesystems used", "PostgreSQL up"} <= titles
    assert not titles & {"Newest backup age", "Container memory, of its limit"}
    fed = [f"{uid} / {title}: {expr}" for uid, title, expr in outside if has_data(expr)]
    assert fed == [], "the stack feeds these after all; drop them from the exemption:\n" + (
        "\n".join(fed)
    )
