"""Every panel query of every generated dashboard returns data from the live Prometheus.

Runs last, so the session's incidents have produced the series that only exist while something
fails (ALERTS, failure counters); each query is run over the whole session as Grafana would run
it over a time range.
"""

from __future__ import annotations

import time

from bzzzmon.build import read_tree
from bzzzmon.render.grafana import panel_queries
from bzzzmon.stack import Stack


def test_every_panel_query_returns_data(stack: Stack) -> None:
    queries = panel_queries(read_tree(stack.generated))
    assert queries, "the build rendered no dashboard queries"
    uids = {uid for uid, _, _ in queries}
    assert len(uids) >= 3  # overview, the exporter and at least one SLO dashboard
    end = time.time()
    empty = [
        f"{uid} / {title}: {expr}"
        for uid, title, expr in queries
        if not stack.prometheus.query_range(expr, stack.started_at, end, 2)
    ]
    assert empty == [], "panel queries without data:\n" + "\n".join(empty)
