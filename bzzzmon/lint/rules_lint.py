"""Lint of the generated Prometheus rules and the spec behind them.

Errors fail the build; warnings print. Every finding names the spec file and line of the alert or
SLO it is about where one is known, else the generated rule file.

Errors: alert names (CamelCase, service prefix), severities (P0-P3), required annotations, runbook
anchors that match no heading (only when a runbook is given), metrics that neither a contract, the
spec's ``metrics`` section nor a recording rule defines, rate()/increase() of something that is
not a counter.
Warnings: relative dashboard links (no ``service.grafana_url``), counters read without
rate()/increase(), recording-rule names not of the form
level:metric:operations, oversized rule groups, integer latency thresholds (Prometheus 3 writes
``le="1"`` as ``le="1.0"``), burn tiers with a factor below 1, alerts with no generated test
that no hand-written test in ``specs/tests/`` shows firing either.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.lint import Finding
from bzzzmon.lint.runbook import anchor_of, anchors
from bzzzmon.model import Origin, Plan
from bzzzmon.promql.parse import PromQLError, SelectorUse, selectors_of
from bzzzmon.promql.regex_names import finite_names
from bzzzmon.render.output import Files, rendered_yaml
from bzzzmon.render.rules import slo_rules_file
from bzzzmon.spec.names import camel

REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
MAX_GROUP_RULES = 50
RATE_FUNCTIONS = {"rate", "irate", "increase"}
# Functions that may read a counter's raw value without being wrong.
COUNTER_SAFE_FUNCTIONS = RATE_FUNCTIONS | {
    "absent",
    "absent_over_time",
    "present_over_time",
    "resets",
    "changes",
    "timestamp",
}
_NOTE_ALERT = re.compile(r"^(?:alert )?([A-Za-z_][A-Za-z0-9_]*)(?: tier ([\w-]+))?")
_RECORD_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_]+$")


@dataclass(frozen=True)
class RuleRef:
    file: str
    group: str
    rule: dict[str, Any]


def metric_types(plan: Plan) -> dict[str, str]:
    """Every metric the plan may use (``plan.metrics``: the contracts, the standard series and
    the spec's own ``metrics`` section), histogram series expanded, with its type."""
    types: dict[str, str] = {}
    for name, kind in plan.metrics.items():
        if kind == "histogram":
            types[f"{name}_bucket"] = "counter"
            types[f"{name}_count"] = "counter"
            types[f"{name}_sum"] = "counter"
        else:
            types[name] = kind
    return types


def expand_regex(regex: str) -> list[str] | None:
    """The names a ``__name__=~`` regex selects when they are a short finite set (as the SLI
    builder expands them); None when it is open-ended (the lint then cannot check it)."""
    return finite_names(regex)


def rule_refs(files: Files) -> Iterator[RuleRef]:
    prefix = C.RULES_DIR + "/"
    for path, text in sorted(files.items()):
        if not path.startswith(prefix) or not path.endswith(".yml"):
            continue
        doc = rendered_yaml(text) or {}
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                yield RuleRef(path, str(group.get("name", "")), rule)


@dataclass(frozen=True)
class _Source:
    """The spec item a generated rule comes from: where it is written and its keys' prefix."""

    origin: Origin
    subject: str
    path: str  # the spec key of the item, "alerts[]" or "slos[]"


class _Lint:
    def __init__(self, plan: Plan, files: Files) -> None:
        self.plan = plan
        self.files = files
        self.findings: list[Finding] = []
        self._seen: set[Finding] = set()  # the findings, for the membership test of add()
        self._uses: dict[str, tuple[SelectorUse, ...] | PromQLError] = {}
        self.sources: dict[str, _Source] = {}
        for alert in plan.alerts:
            self.sources[alert.name] = _Source(alert.origin, f"alert {alert.name}", "alerts[]")
        for slo in plan.slos:
            for name in (slo.alert_name, slo.missing_data.name, slo.budget_exhausted.name):
                self.sources.setdefault(name, _Source(slo.origin, f"slo {slo.name}", "slos[]"))
        self.slo_files = {slo_rules_file(slo): slo for slo in plan.slos}
        self.refs = list(rule_refs(files))
        self.types = metric_types(plan)
        self.recorded = {str(r.rule["record"]) for r in self.refs if "record" in r.rule}

    def add(
        self,
        level: str,
        where: tuple[str, str],
        rule: str,
        message: str,
        key: str = "",
        hint: str = "",
    ) -> None:
        assert level in ("error", "warning")
        finding = Finding(level, where[0], rule, message, where[1], key, hint)  # type: ignore[arg-type]
        if finding not in self._seen:  # the tiers of one alert share a spec line
            self._seen.add(finding)
            self.findings.append(finding)

    def uses(self, ref: RuleRef) -> tuple[SelectorUse, ...]:
        """The selectors of ``ref``'s expression, parsed once for both passes that read them
        (selectors_of's own cache is bounded, and 3,000 SLOs' expressions overran it)."""
        expr = str(ref.rule.get("expr", ""))
        found = self._uses.get(expr)
        if found is None:
            try:
                found = selectors_of(expr)
            except PromQLError as exc:
                found = exc
            self._uses[expr] = found
        if isinstance(found, PromQLError):
            raise found
        return found

    def source(self, ref: RuleRef) -> _Source | None:
        if "alert" in ref.rule:
            return self.sources.get(str(ref.rule["alert"]))
        slo = self.slo_files.get(ref.file)
        return None if slo is None else _Source(slo.origin, f"slo {slo.name}", "slos[]")

    def where(self, ref: RuleRef) -> tuple[str, str]:
        """(position, subject): the spec item the rule comes from, else the generated file."""
        source = self.source(ref)
        what = (
            f"alert {ref.rule['alert']}"
            if "alert" in ref.rule
            else f"record {ref.rule.get('record')}"
        )
        if source is None:
            return ref.file, what
        if "alert" in ref.rule and source.subject == what:
            return str(source.origin), what
        return str(source.origin), f"{source.subject} {what}"

    def key(self, ref: RuleRef, field: str, alerts: str, slos: str | None = None) -> str:
        """The spec key behind ``ref``'s ``field``: ``alerts[].<alerts>`` for a threshold alert,
        ``slos[].<slos>`` for an SLO's rules; ``field`` of the generated rule otherwise."""
        source = self.source(ref)
        if source is None:
            return ""
        if source.path == "alerts[]":
            return f"alerts[].{alerts}"
        return f"slos[].{slos or alerts}"

    # --- alerts --------------------------------------------------------------------------------
    def alerts(self) -> None:
        prefix = self.plan.service.alert_prefix or self.plan.service.name.upper()
        name_re = re.compile(rf"^{re.escape(prefix)}(?:[A-Z0-9][a-z0-9]*)+$")
        no_runbook: list[str] = []
        for ref in self.refs:
            if "alert" not in ref.rule:
                continue
            name = str(ref.rule["alert"])
            if not name_re.match(name):
                self._alert_name(ref, name, prefix)
            severity = (ref.rule.get("labels") or {}).get(C.LABEL_SEVERITY)
            if severity not in C.SEVERITIES:
                key = self.key(ref, "severity", "severity", "alerting.tiers[].severity")
                self.add(
                    "error",
                    self.where(ref),
                    "severity",
                    f"severity {severity!r} is not one of {', '.join(C.SEVERITIES)}"
                    + (f"; set {key}" if key else ""),
                    key,
                    "P0 pages now, P3 waits for a digest; see severities: for what each means",
                )
            annotations = ref.rule.get("annotations") or {}
            for field in REQUIRED_ANNOTATIONS:
                if field == "runbook_url" and not self.plan.service.runbook_url:
                    no_runbook.append(name)  # empty, or a bare '#anchor' nobody can open
                    continue
                if str(annotations.get(field) or "").strip():
                    continue
                key = self.key(ref, field, field, "description")
                self.add(
                    "error",
                    self.where(ref),
                    "annotations",
                    f"annotation '{field}' is missing" + (f"; set {key}" if key else ""),
                    key,
                    "every alert says what is wrong and where to look, for whoever it wakes",
                )
        if no_runbook:
            self._no_runbook(sorted(set(no_runbook)))

    def _alert_name(self, ref: RuleRef, name: str, prefix: str) -> None:
        where = self.where(ref)
        rest = name[len(prefix) :] if name.lower().startswith(prefix.lower()) else name
        suggestion = f"{prefix}{camel(rest) or 'Name'}"
        name_key = self.key(ref, "name", "name", "alerting.name")
        if not name.startswith(prefix):
            self.add(
                "error",
                where,
                "alert-name",
                f"alert name '{name}' does not start with the alert prefix '{prefix}' "
                "(service.alert_prefix)",
                "service.alert_prefix",
                f"rename it {suggestion}"
                + (f" ({name_key})" if name_key else "")
                + ", or set service.alert_prefix to the prefix your alert names share",
            )
            return
        self.add(
            "error",
            where,
            "alert-name",
            f"alert name '{name}' is not CamelCase after the prefix '{prefix}'"
            + (f"; set {name_key}" if name_key else ""),
            name_key,
            f"e.g. {suggestion}",
        )

    def _no_runbook(self, names: list[str]) -> None:
        """One finding for the whole service: its runbook_url is what every alert's link needs."""
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.add(
            "error",
            (str(self.plan.key_origin("service.runbook_url")), "service"),
            "annotations",
            f"service.runbook_url is not set: {len(names)} alert(s) have no runbook_url "
            f"annotation ({shown})",
            "service.runbook_url",
            "set service.runbook_url to the runbook's URL; an alert's or SLO's runbook: "
            "'#anchor' points into it",
        )

    def runbook(self, text: str, markdown: bool) -> None:
        known = anchors(text, markdown)
        seen: set[tuple[str, str]] = set()
        for ref in self.refs:
            if "alert" not in ref.rule:
                continue
            url = str((ref.rule.get("annotations") or {}).get("runbook_url") or "")
            anchor = anchor_of(url)
            once = (str(ref.rule["alert"]), anchor or "")
            if anchor is None or once in seen:
                continue
            seen.add(once)
            if anchor.lower() not in known:
                key = self.key(ref, "runbook", "runbook", "alerting.runbook")
                close = difflib.get_close_matches(anchor.lower(), sorted(known), n=1)
                self.add(
                    "error",
                    self.where(ref),
                    "runbook-anchor",
                    f"runbook anchor '#{anchor}' matches no heading of the runbook"
                    + (f"; set {key}" if key else ""),
                    key,
                    f"did you mean '#{close[0]}'?"
                    if close
                    else "an anchor is a heading's slug: lowercase, spaces as '-'",
                )

    # --- metrics -------------------------------------------------------------------------------
    def _names(self, use: SelectorUse) -> list[str] | None:
        if use.name is not None:
            return [use.name]
        if use.name_regex is not None:
            return expand_regex(use.name_regex)
        return None

    def metrics(self) -> None:
        for ref in self.refs:
            try:
                uses = self.uses(ref)
            except PromQLError as exc:
                key = self.key(ref, "expr", "expr", "sli")
                self.add(
                    "error",
                    self.where(ref),
                    "promql",
                    f"invalid PromQL: {exc}" + (f"; set {key}" if key else ""),
                    key,
                    "check it with `promtool promql format` or in Prometheus' query page",
                )
                continue
            reported: set[tuple[str, str]] = set()
            for use in uses:
                for name in self._names(use) or []:
                    for level, rule, message, key, hint in self._metric(ref, name, use):
                        if (name, rule) not in reported:
                            reported.add((name, rule))
                            self.add(level, self.where(ref), rule, message, key, hint)

    def _metric(
        self, ref: RuleRef, name: str, use: SelectorUse
    ) -> list[tuple[str, str, str, str, str]]:
        """(level, rule, message, key, hint) of each problem with reading ``name`` as ``use``."""
        if name in self.recorded:
            return []
        function = use.range_function
        kind = self.types.get(name)
        if kind is None:
            if f"{name}_count" in self.types:
                key = self.key(ref, "expr", "expr", "sli")
                return [
                    (
                        "error",
                        "unknown-metric",
                        f"metric '{name}' is a histogram's base name; set "
                        f"{key or 'the expression'} to one of its series",
                        key,
                        f"read {name}_bucket, {name}_count or {name}_sum",
                    )
                ]
            return [
                (
                    "error",
                    "unknown-metric",
                    f"metric '{name}' is not declared: add it to metrics: (it is in no "
                    "exporter contract and no recording rule)",
                    "metrics",
                    f"metrics: {{{name}: counter}} (or gauge, histogram: what the target "
                    "exports as '# TYPE')",
                )
            ]
        if function in RATE_FUNCTIONS and kind != "counter":
            return [
                (
                    "error",
                    "rate-on-non-counter",
                    f"{function}() of {kind} '{name}'; if it is a counter, declare it so in "
                    "metrics:",
                    "metrics",
                    f"metrics: {{{name}: counter}}, or read the {kind} without {function}()",
                )
            ]
        if kind == "counter" and function not in COUNTER_SAFE_FUNCTIONS and not use.counted:
            how = f"under {function}()" if function else "raw"
            key = self.key(ref, "expr", "expr", "sli")
            return [
                (
                    "warning",
                    "counter-without-rate",
                    f"counter '{name}' is read {how}"
                    + (f"; set {key} to read it through rate()" if key else ""),
                    key,
                    f"e.g. rate({name}[5m]) or increase({name}[1h])",
                )
            ]
        return []

    def name_collisions(self) -> None:
        """rate() drops the name: two metrics of a ``__name__=~`` selector with the same labels
        then collide ("vector cannot contain metrics with the same labelset")."""
        for ref in self.refs:
            try:
                uses = self.uses(ref)
            except PromQLError:
                continue
            for use in uses:
                names = self._names(use) if use.name is None else None
                if names and len(names) > 1 and use.range_function in RATE_FUNCTIONS:
                    key = self.key(ref, "expr", "expr", "sli")
                    self.add(
                        "warning",
                        self.where(ref),
                        "name-regex-rate",
                        f"{use.range_function}() over {len(names)} metrics "
                        f"({', '.join(names)}) fails on Prometheus 2.x when two of them share "
                        "a label set" + (f"; set {key}" if key else ""),
                        key,
                        "sum each metric's rate separately: sum(rate(a[5m])) + sum(rate(b[5m]))",
                    )
                    break

    # --- recording rules and groups ------------------------------------------------------------
    def records_and_groups(self) -> None:
        sizes: dict[tuple[str, str], int] = {}
        for ref in self.refs:
            sizes[(ref.file, ref.group)] = sizes.get((ref.file, ref.group), 0) + 1
            if "record" in ref.rule and not _RECORD_NAME.match(str(ref.rule["record"])):
                self.add(
                    "warning",
                    self.where(ref),
                    "record-name",
                    f"recording rule '{ref.rule['record']}' is not named level:metric:operations",
                    "",
                    "bzzzmon names its recording rules (bzzzmon.conventions): a renderer's bug",
                )
        for (path, group), size in sorted(sizes.items()):
            if size > MAX_GROUP_RULES:
                self.add(
                    "warning",
                    (path, f"group {group}"),
                    "group-size",
                    f"{size} rules in one group (more than {MAX_GROUP_RULES}): rules of a group "
                    "run one after the other",
                    "alerts[].component",
                    "threshold alerts are grouped by component: spread them over more components",
                )

    # --- SLOs ----------------------------------------------------------------------------------
    def slos(self) -> None:
        for slo in self.plan.slos:
            where = (str(slo.origin), f"slo {slo.name}")
            for tier in slo.tiers:
                if tier.factor < 1:
                    self.add(
                        "warning",
                        where,
                        "burn-factor",
                        f"tier {tier.name} burns at factor {float(tier.factor):.4g} (< 1): "
                        f"it fires while the SLO is still within its budget; set "
                        "slos[].alerting.tiers[].budget_percent",
                        "slos[].alerting.tiers[].budget_percent",
                        "a tier fires when budget_percent of the budget burns within its long "
                        "window: raise it, or lengthen long",
                    )

    def links(self) -> None:
        """Without ``service.grafana_url`` every dashboard_url is a bare ``/d/<uid>`` path that
        a notification's reader cannot open."""
        if self.plan.service.grafana_url or not (self.plan.slos or self.plan.alerts):
            return
        self.add(
            "warning",
            (str(self.plan.key_origin("service.grafana_url")), "service"),
            "relative-links",
            "service.grafana_url is not set: the alerts' dashboard_url links are relative "
            "(/d/<uid>) and open nowhere from a notification",
            "service.grafana_url",
            "set service.grafana_url to Grafana's base URL, e.g. https://grafana.example",
        )

    def untested(self) -> None:
        from bzzzmon.render.rule_tests import untested

        for note in untested(self.plan):
            # Notes start "alert <name>:" or "<name> tier <tier>:".
            named = _NOTE_ALERT.match(note)
            if named and (named.group(1), named.group(2)) in self.plan.hand_tested:
                continue  # a hand-written test shows it firing
            source = self.sources.get(named.group(1)) if named else None
            where = (str(source.origin), source.subject) if source else ("generated tests", "")
            if source and note.startswith(f"{source.subject}: "):
                note = note[len(source.subject) + 2 :]  # the subject already names the alert
            # The tests/ beside the spec file: specs/tests/, or specs/<service>/tests/.
            folder = posixpath.dirname(source.origin.file) if source else "specs"
            self.add(
                "warning",
                where,
                "untested",
                note,
                f"{folder}/tests/",
                f"write a rule test for it by hand in {folder}/tests/*.test.yml (bzzzmon test "
                "runs them)",
            )


def check(plan: Plan, files: Files) -> list[Finding]:
    lint = _Lint(plan, files)
    lint.alerts()
    lint.metrics()
    lint.name_collisions()
    lint.records_and_groups()
    lint.slos()
    lint.links()
    lint.untested()
    return lint.findings


def check_runbook(plan: Plan, files: Files, text: str, markdown: bool) -> list[Finding]:
    """Runbook anchors of every alert against the headings of a runbook file."""
    lint = _Lint(plan, files)
    lint.runbook(text, markdown)
    return lint.findings
