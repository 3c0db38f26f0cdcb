"""The dashboard lint, run by every build over the rendered dashboards.

Each panel query must parse once Grafana's variables are substituted, name only metrics that exist
(the BZZZ and exporter contracts, the standard series, or a recording rule this build renders),
read counters only through rate/irate/increase, never pass a name regex matching several
metrics to a range function (Prometheus fails such a query), and take its range windows from
``$__rate_interval`` (or a deliberate window of the spec: an SLO period, a tier's long window or
a window written in an SLI's expression). Every panel has a title and a unit; every dashboard
reads back unchanged through grafana-foundation-sdk's model, and every dashboard an alert links
to exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import yaml
from grafana_foundation_sdk.models.dashboard import Dashboard

from bzzzmon import conventions as C
from bzzzmon.lint import Finding
from bzzzmon.model import Plan
from bzzzmon.promql.duration import parse_duration
from bzzzmon.promql.parse import PromQLError, selectors_of
from bzzzmon.render.dashboards import queries as Q
from bzzzmon.render.output import Files, rendered_yaml, sdk_json

COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase"})
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")
# Range windows Grafana sizes to the scrape interval and the panel's resolution.
RANGE_VARIABLES = frozenset({"$__rate_interval", "${__rate_interval}", "$__range", "${__range}"})
NO_UNIT_TYPES = frozenset({"row", "text", "dashlist", "alertlist", "news"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_RANGE = re.compile(r"\[([^\]]*)\]")


def known_metrics(plan: Plan, files: Files) -> dict[str, str]:
    """Metric name -> type: the plan's metrics (histograms as their series) and recorded rules."""
    known: dict[str, str] = {}
    for name, kind in plan.metrics.items():
        if kind == "histogram":
            for suffix in HISTOGRAM_SUFFIXES:
                known[name + suffix] = "counter"
        else:
            known[name] = kind
    for name in recorded_names(files):
        known.setdefault(name, "recording")
    return known


def recorded_names(files: Files) -> set[str]:
    """Every ``record:`` name in the rendered rule files."""
    names: set[str] = set()
    prefix = C.RULES_DIR + "/"
    for path, text in files.items():
        if not path.startswith(prefix):
            continue
        try:
            data = rendered_yaml(text)
        except yaml.YAMLError:
            continue  # the rules lint and promtool report broken rule files
        for group in (data or {}).get("groups", []) or []:
            for rule in group.get("rules", []) or []:
                if isinstance(rule, dict) and "record" in rule:
                    names.add(str(rule["record"]))
    return names


def long_windows(plan: Plan) -> set[str]:
    """Literal range windows a panel may use on purpose: SLO periods, tier long windows and the
    windows the spec's own SLI expressions are written with."""
    found: set[str] = set()
    for slo in plan.slos:
        found.add(slo.period_text)
        found.update(t.long_text for t in slo.tiers)
        found.update(_ranges(slo.sli.raw))
    return found


def _ranges(expr: str) -> Iterator[str]:
    """The range of every ``[range]`` and ``[range:step]`` outside string literals."""
    bare = _STRING.sub('""', expr)
    for match in _RANGE.finditer(bare):
        yield match.group(1).split(":", 1)[0].strip()


class _Checker:
    def __init__(self, plan: Plan, files: Files) -> None:
        self.plan = plan
        self.known = known_metrics(plan, files)
        self.windows = long_windows(plan)
        self.findings: list[Finding] = []

    def add(self, where: str, rule: str, message: str, key: str = "", hint: str = "") -> None:
        # Dashboards are bzzzmon's output: a finding names the panel and, where the spec shapes
        # what is wrong (a metric, a window), the key to set.
        self.findings.append(Finding("error", where, rule, message, "", key, hint or _RENDERER))

    def dashboard(self, path: str, board: dict[str, Any], text: str = "") -> None:
        """``text``: the file ``board`` was read from, if any."""
        uid = str(board.get("uid", ""))
        if not uid:
            self.add(path, "dashboard-uid", "dashboard has no uid")
        if not _reads_back(board, text):
            self.add(
                f"dashboard {uid or path}",
                "dashboard-model",
                "grafana-foundation-sdk's dashboard model does not read the dashboard back "
                "unchanged (a field it does not know, e.g. misspelt)",
            )
        for row in board.get("panels", []):
            if row.get("type") == "row" and not row.get("collapsed") and row.get("panels"):
                self.add(
                    f"dashboard {uid or path} panel {row.get('id', '?')} {row.get('title')!r}",
                    "row-panels",
                    "an expanded row holds panels; Grafana only shows panels that follow it",
                )
        variables = Q.variable_names(board)
        for panel in Q.panels(board):
            self.panel(uid or path, panel, variables)

    def panel(self, uid: str, panel: dict[str, Any], variables: frozenset[str]) -> None:
        title = str(panel.get("title", "") or "").strip()
        where = f"dashboard {uid} panel {panel.get('id', '?')} {title!r}"
        kind = panel.get("type")
        if not title:
            self.add(where, "panel-title", "panel has no title")
        if kind in NO_UNIT_TYPES:
            return
        unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not unit:
            self.add(where, "panel-unit", "panel has no unit (fieldConfig.defaults.unit)")
        targets = panel.get("targets") or []
        if not targets:
            self.add(where, "panel-query", "panel has no query")
        for target in targets:
            expr = target.get("expr")
            ref = target.get("refId") or "?"
            if not isinstance(expr, str) or not expr.strip():
                self.add(where, "panel-query", f"query {ref} has no expression")
                continue
            self.query(f"{where} query {ref}", expr, variables)

    def query(self, where: str, expr: str, variables: frozenset[str]) -> None:
        for window in _ranges(expr):
            if window in RANGE_VARIABLES or window in self.windows:
                continue
            self.add(
                where,
                "panel-range",
                f"range window [{window}] should be [$__rate_interval] (or a deliberate long "
                f"window of the spec: {', '.join(sorted(self.windows, key=parse_duration))})",
            )
        try:
            text = Q.substitute(expr, variables)
        except Q.UnknownVariable as exc:
            self.add(where, "panel-variable", f"unknown variable ${exc} in {expr!r}")
            return
        try:
            uses = selectors_of(text)
        except PromQLError as exc:
            self.add(where, "panel-parse", f"query does not parse: {exc}: {expr!r}")
            return
        for use in uses:
            self.selector(where, use.name, use.name_regex, use.range_function)

    def selector(self, where: str, name: str | None, regex: str | None, under: str | None) -> None:
        if name is not None:
            names = [name] if name in self.known else []
            shown = name
        elif regex is not None:
            try:
                pattern = re.compile(regex)
            except re.error:
                self.add(where, "panel-metric", f"metric name regex {regex!r} is invalid")
                return
            names = sorted(n for n in self.known if pattern.fullmatch(n))
            shown = f"=~{regex!r}"
        else:
            self.add(where, "panel-metric", "a selector names no metric")
            return
        if not names:
            self.add(
                where,
                "panel-metric",
                f"metric {shown} is not declared: add it to metrics: (it is in no exporter "
                "contract and no recording rule this build produces)",
                "metrics",
                f"metrics: {{{name or 'name'}: counter}} (or gauge, histogram)",
            )
            return
        if regex is not None and len(names) > 1 and under is not None:
            # rate() and friends drop the name: the series of two metrics collide and Prometheus
            # fails the query ("vector cannot contain metrics with the same labelset").
            self.add(
                where,
                "panel-name-regex",
                f"metric name regex {regex!r} matches {', '.join(names)} inside {under}(); "
                "use one selector per metric",
            )
        counters = [n for n in names if self.known[n] == "counter"]
        if counters and under not in COUNTER_FUNCTIONS:
            self.add(
                where,
                "panel-counter",
                f"counter {', '.join(counters)} is read {'by ' + under if under else 'raw'}; "
                "counters belong inside rate() or increase()",
            )


_RENDERER = "the dashboards are generated from the spec: this is a bzzzmon bug, please report it"


def _reads_back(board: dict[str, Any], text: str) -> bool:
    """Does the SDK's model of ``board`` give ``board`` back? Text as bzzzmon writes it means
    the same data, so a dashboard rendered by this build is compared without decoding again."""
    try:
        again = sdk_json(Dashboard.from_json(board), indent=True)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    if text and again.decode("utf-8") + "\n" == text:
        return True
    return bool(orjson.loads(again) == board)


def _links(plan: Plan, uids: set[str]) -> Iterator[Finding]:
    """Every dashboard an SLO's alerts or an alert links to is rendered."""
    linked = [
        (slo.origin, f"slo {slo.name}", slo.dashboard_uid, "dashboard_url of its alerts")
        for slo in plan.slos
    ]
    linked += [
        (alert.origin, f"alert {alert.name}", alert.dashboard_uid, "its dashboard_url")
        for alert in plan.alerts
    ]
    for origin, what, uid, link in linked:
        if uid not in uids:
            yield Finding(
                "error",
                str(origin),
                "dashboard-link",
                f"dashboard {uid} ({link}) is not rendered",
                what,
                "alerts[].dashboard",
                "dashboard: overview, exporter or slo:<name of an SLO>",
            )


def check(plan: Plan, files: Files) -> list[Finding]:
    checker = _Checker(plan, files)
    uids: set[str] = set()
    for path in Q.dashboard_paths(files):
        try:
            board = orjson.loads(files[path])
        except ValueError as exc:
            checker.add(path, "dashboard-json", f"not valid JSON: {exc}")
            continue
        uid = str(board.get("uid", ""))
        if uid in uids:
            checker.add(path, "dashboard-uid", f"uid {uid} is used by another dashboard")
        uids.add(uid)
        checker.dashboard(path, board, files[path])
    if any(p.startswith(C.GRAFANA_DASHBOARDS_DIR + "/") for p in files):
        checker.findings.extend(_links(plan, uids))
    return sorted(checker.findings)
