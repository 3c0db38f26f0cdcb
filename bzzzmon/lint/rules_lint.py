"""Lint of the generated Prometheus rules and the spec behind them.

Errors fail the build; warnings print. Every finding names the spec file and line of the alert or
SLO it is about where one is known, else the generated rule file.

Errors: alert names (CamelCase, service prefix), severities (P0-P3), required annotations, runbook
anchors that match no heading (only when a runbook is given), metrics that neither a contract, the
spec's ``metrics`` section nor a recording rule defines, rate()/increase() of something that is
not a counter.
Warnings: counters read without rate()/increase(), recording-rule names not of the form
level:metric:operations, oversized rule groups, integer latency thresholds (Prometheus 3 writes
``le="1"`` as ``le="1.0"``), burn tiers with a factor below 1, alerts with no generated test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.lint import Finding
from bzzzmon.lint.runbook import anchor_of, anchors
from bzzzmon.model import Plan
from bzzzmon.promql.parse import PromQLError, SelectorUse, selectors_of
from bzzzmon.promql.regex_names import finite_names
from bzzzmon.render.output import Files, rendered_yaml
from bzzzmon.render.rules import slo_rules_file

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


class _Lint:
    def __init__(self, plan: Plan, files: Files) -> None:
        self.plan = plan
        self.files = files
        self.findings: list[Finding] = []
        self.origins: dict[str, str] = {}
        for alert in plan.alerts:
            self.origins[alert.name] = f"{alert.origin.file}:{alert.origin.line}"
        for slo in plan.slos:
            here = f"{slo.origin.file}:{slo.origin.line}"
            for name in (slo.alert_name, slo.missing_data.name, slo.budget_exhausted.name):
                self.origins.setdefault(name, here)
        self.slo_files = {
            slo_rules_file(slo): f"{slo.origin.file}:{slo.origin.line} slo {slo.name}"
            for slo in plan.slos
        }
        self.refs = list(rule_refs(files))
        self.types = metric_types(plan)
        self.recorded = {str(r.rule["record"]) for r in self.refs if "record" in r.rule}

    def add(self, level: str, where: str, rule: str, message: str) -> None:
        assert level in ("error", "warning")
        finding = Finding(level, where, rule, message)  # type: ignore[arg-type]
        if finding not in self.findings:  # the tiers of one alert share a spec line
            self.findings.append(finding)

    def where(self, ref: RuleRef) -> str:
        if "alert" in ref.rule:
            name = str(ref.rule["alert"])
            return f"{self.origins.get(name, ref.file)} alert {name}"
        return f"{self.slo_files.get(ref.file, ref.file)} record {ref.rule.get('record')}"

    # --- alerts --------------------------------------------------------------------------------
    def alerts(self) -> None:
        prefix = self.plan.service.alert_prefix or self.plan.service.name.upper()
        name_re = re.compile(rf"^{re.escape(prefix)}(?:[A-Z0-9][a-z0-9]*)+$")
        for ref in self.refs:
            if "alert" not in ref.rule:
                continue
            name = str(ref.rule["alert"])
            where = self.where(ref)
            if not name_re.match(name):
                self.add(
                    "error",
                    where,
                    "alert-name",
                    f"alert name '{name}' is not CamelCase with the '{prefix}' prefix "
                    f"(e.g. {prefix}DHTReplicationDegraded)",
                )
            severity = (ref.rule.get("labels") or {}).get(C.LABEL_SEVERITY)
            if severity not in C.SEVERITIES:
                self.add(
                    "error",
                    where,
                    "severity",
                    f"severity {severity!r} is not one of {', '.join(C.SEVERITIES)}",
                )
            annotations = ref.rule.get("annotations") or {}
            for key in REQUIRED_ANNOTATIONS:
                if not str(annotations.get(key) or "").strip():
                    self.add("error", where, "annotations", f"annotation '{key}' is missing")

    def runbook(self, text: str, markdown: bool) -> None:
        known = anchors(text, markdown)
        seen: set[tuple[str, str]] = set()
        for ref in self.refs:
            if "alert" not in ref.rule:
                continue
            url = str((ref.rule.get("annotations") or {}).get("runbook_url") or "")
            anchor = anchor_of(url)
            key = (str(ref.rule["alert"]), anchor or "")
            if anchor is None or key in seen:
                continue
            seen.add(key)
            if anchor.lower() not in known:
                self.add(
                    "error",
                    self.where(ref),
                    "runbook-anchor",
                    f"runbook anchor '#{anchor}' matches no heading of the runbook",
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
            where = self.where(ref)
            try:
                uses = selectors_of(str(ref.rule.get("expr", "")))
            except PromQLError as exc:
                self.add("error", where, "promql", f"invalid PromQL: {exc}")
                continue
            reported: set[tuple[str, str]] = set()
            for use in uses:
                for name in self._names(use) or []:
                    for finding in self._metric(name, use.range_function):
                        if (name, finding[1]) not in reported:
                            reported.add((name, finding[1]))
                            self.add(finding[0], where, finding[1], finding[2])

    def _metric(self, name: str, function: str | None) -> list[tuple[str, str, str]]:
        if name in self.recorded:
            return []
        kind = self.types.get(name)
        if kind is None:
            hint = ""
            if f"{name}_count" in self.types:
                hint = " (a histogram: use its _bucket, _count or _sum series)"
            return [
                (
                    "error",
                    "unknown-metric",
                    f"metric '{name}' is defined by no contract and no recording rule{hint}",
                )
            ]
        if function in RATE_FUNCTIONS and kind != "counter":
            return [("error", "rate-on-non-counter", f"{function}() of {kind} '{name}'")]
        if kind == "counter" and function not in COUNTER_SAFE_FUNCTIONS:
            how = f"under {function}()" if function else "raw"
            return [
                (
                    "warning",
                    "counter-without-rate",
                    f"counter '{name}' is read {how}; use rate() or increase()",
                )
            ]
        return []

    def name_collisions(self) -> None:
        """rate() drops the name: two metrics of a ``__name__=~`` selector with the same labels
        then collide ("vector cannot contain metrics with the same labelset")."""
        for ref in self.refs:
            try:
                uses = selectors_of(str(ref.rule.get("expr", "")))
            except PromQLError:
                continue
            for use in uses:
                names = self._names(use) if use.name is None else None
                if names and len(names) > 1 and use.range_function in RATE_FUNCTIONS:
                    self.add(
                        "warning",
                        self.where(ref),
                        "name-regex-rate",
                        f"{use.range_function}() over {len(names)} metrics "
                        f"({', '.join(names)}) fails on Prometheus 2.x when two of them share "
                        "a label set; sum each metric's rate separately",
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
                )
        for (path, group), size in sorted(sizes.items()):
            if size > MAX_GROUP_RULES:
                self.add(
                    "warning",
                    f"{path} group {group}",
                    "group-size",
                    f"{size} rules in one group (more than {MAX_GROUP_RULES}): rules of a group "
                    "run one after the other; split it",
                )

    # --- SLOs ----------------------------------------------------------------------------------
    def slos(self) -> None:
        for slo in self.plan.slos:
            where = f"{slo.origin.file}:{slo.origin.line} slo {slo.name}"
            for tier in slo.tiers:
                if tier.factor < 1:
                    self.add(
                        "warning",
                        where,
                        "burn-factor",
                        f"tier {tier.name} burns at factor {float(tier.factor):.4g} (< 1): "
                        f"it fires while the SLO is still within its budget",
                    )

    def untested(self) -> None:
        from bzzzmon.render.rule_tests import untested

        for note in untested(self.plan):
            self.add("warning", "generated tests", "untested", note)


def check(plan: Plan, files: Files) -> list[Finding]:
    lint = _Lint(plan, files)
    lint.alerts()
    lint.metrics()
    lint.name_collisions()
    lint.records_and_groups()
    lint.slos()
    lint.untested()
    return lint.findings


def check_runbook(plan: Plan, files: Files, text: str, markdown: bool) -> list[Finding]:
    """Runbook anchors of every alert against the headings of a runbook file."""
    lint = _Lint(plan, files)
    lint.runbook(text, markdown)
    return lint.findings
