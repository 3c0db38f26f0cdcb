"""``bzzzmon backtest``: what the generated rules would have fired and paged on real history.

- ``rules``: the generated rule files as data, recording rules by dependency level, alerts by
  the ALERTS rounds they need, and the renaming that keeps scratch series apart from the
  source's own recorded series;
- ``prom``: the HTTP API (query_range in chunks, many at a time) and the scratch Prometheus;
- ``guards``: the long-window recording rules evaluated only where an alert can read them;
- ``engine``: backfills the recording rules level by level, evaluates every alert with Prometheus'
  ``for:`` semantics, synthesises ALERTS between rounds;
- ``routing``: every firing episode through the generated route tree and inhibitions;
- ``report``: the result as data, and its text, Markdown and JSON writers.
"""


class BacktestError(ValueError):
    """Bad input (no Prometheus, no series, no data in the range): one line, exit status 2."""
