"""A semantic diff of two builds: what a spec change does to alerts, paging, SLOs and dashboards.

Both sides are compiled with the current compiler, so the diff shows what the *spec* change does,
not compiler changes. Alerts are keyed by name and burn-rate tier and compared field by field
(expression, threshold, ``for:``, severity, other labels, receivers); an SLO's objective or
period change is explained (error budget, each tier's new error-ratio threshold), and the
burn-rate alerts it regenerates are not repeated as expression changes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bzzzmon import conventions as C
from bzzzmon.lint.rules_lint import rule_refs
from bzzzmon.model import SLO, Alert, Plan
from bzzzmon.promql.duration import humanize_duration
from bzzzmon.promql.numbers import format_decimal, to_decimal
from bzzzmon.render.alertmanager import receivers_for
from bzzzmon.render.output import Files
from bzzzmon.slo.windows import error_ratio_threshold


@dataclass(frozen=True)
class Change:
    section: str  # "alert" | "slo" | "dashboard"
    action: str  # "added" | "removed" | "changed"
    subject: str  # e.g. "BZZZDHTErrorBudgetBurn{tier=page-fast}", "slo dht-operations"
    field: str = ""  # what changed, for "changed"
    old: str = ""
    new: str = ""
    meaning: str = ""  # what the change does, in words

    def text(self) -> str:
        if self.action != "changed":
            return f"{self.subject}: {self.action}" + (f" ({self.meaning})" if self.meaning else "")
        line = f"{self.subject}: {self.field} {self.old or '(none)'} -> {self.new or '(none)'}"
        return line + (f"; {self.meaning}" if self.meaning else "")


@dataclass
class Report:
    base: str
    head: str
    changes: list[Change] = field(default_factory=list)

    def section(self, name: str) -> list[Change]:
        return [c for c in self.changes if c.section == name]

    def json(self) -> str:
        data = {"base": self.base, "head": self.head, "changes": [asdict(c) for c in self.changes]}
        return json.dumps(data, indent=2) + "\n"


@dataclass(frozen=True)
class Build:
    """One side of the diff: the plan (None when the spec did not exist) and its files."""

    plan: Plan | None
    files: Files


# --- numbers in words --------------------------------------------------------------------------


def percent(value: Fraction | Decimal) -> str:
    """``Fraction(9, 625)`` -> ``1.44%``; exact when the decimal terminates."""
    scaled = Fraction(value) * 100
    dec = to_decimal(scaled)
    if dec is not None and len(format_decimal(dec)) <= 12:
        return f"{format_decimal(dec)}%"
    return f"{float(scaled):.4g}%"


def times(ratio: Fraction) -> str:
    dec = to_decimal(ratio)
    return format_decimal(dec) if dec is not None else f"{float(ratio):.3g}"


# --- alerts ------------------------------------------------------------------------------------

AlertKey = tuple[str, str]  # (alertname, tier or "")


def _alert_rules(files: Files) -> dict[AlertKey, dict[str, Any]]:
    found: dict[AlertKey, dict[str, Any]] = {}
    for ref in rule_refs(files):
        if "alert" in ref.rule:
            labels = ref.rule.get("labels") or {}
            found[(str(ref.rule["alert"]), str(labels.get(C.LABEL_TIER, "")))] = ref.rule
    return found


def _subject(key: AlertKey) -> str:
    name, tier = key
    return f"{name}{{tier={tier}}}" if tier else name


def _receivers(plan: Plan | None, name: str, labels: dict[str, str]) -> list[str] | None:
    if plan is None:
        return None
    return receivers_for(plan, {**labels, "alertname": name})


def _threshold_alerts(plan: Plan | None) -> dict[str, Alert]:
    return {a.name: a for a in plan.alerts} if plan else {}


def _slo_alert_names(plan: Plan | None) -> set[str]:
    names: set[str] = set()
    for slo in plan.slos if plan else ():
        names |= {slo.alert_name, slo.missing_data.name, slo.budget_exhausted.name}
    return names


def _describe(rule: dict[str, Any]) -> str:
    labels = rule.get("labels") or {}
    summary = (rule.get("annotations") or {}).get("summary", "")
    sev = labels.get(C.LABEL_SEVERITY, "?")
    return f"{sev}{', for ' + str(rule['for']) if rule.get('for') else ''}: {summary}".strip()


def compare_alerts(base: Build, head: Build) -> list[Change]:
    old_rules, new_rules = _alert_rules(base.files), _alert_rules(head.files)
    old_thr, new_thr = _threshold_alerts(base.plan), _threshold_alerts(head.plan)
    slo_names = _slo_alert_names(base.plan) | _slo_alert_names(head.plan)
    changes: list[Change] = []
    for key in sorted(set(old_rules) | set(new_rules)):
        subject = _subject(key)
        old, new = old_rules.get(key), new_rules.get(key)
        if old is None and new is not None:
            who = _receivers(head.plan, key[0], new.get("labels") or {})
            note = _describe(new) + (f"; notifies {', '.join(who)}" if who else "")
            changes.append(Change("alert", "added", subject, meaning=note))
            continue
        if new is None and old is not None:
            changes.append(Change("alert", "removed", subject, meaning=_describe(old)))
            continue
        assert old is not None and new is not None
        name = key[0]
        a, b = old_thr.get(name), new_thr.get(name)
        if a is not None and b is not None:
            if a.value_expr != b.value_expr:
                changes.append(
                    Change("alert", "changed", subject, "expression", a.value_expr, b.value_expr)
                )
            if (a.op, a.threshold) != (b.op, b.threshold):
                changes.append(
                    Change(
                        "alert",
                        "changed",
                        subject,
                        "threshold",
                        _cmp(a.op, a.threshold),
                        _cmp(b.op, b.threshold),
                    )
                )
        elif name not in slo_names and old.get("expr") != new.get("expr"):
            changes.append(
                Change("alert", "changed", subject, "expression", old["expr"], new["expr"])
            )
        if old.get("for") != new.get("for"):
            changes.append(
                Change("alert", "changed", subject, "for", old.get("for", ""), new.get("for", ""))
            )
        old_labels, new_labels = old.get("labels") or {}, new.get("labels") or {}
        sev_old = str(old_labels.get(C.LABEL_SEVERITY, ""))
        sev_new = str(new_labels.get(C.LABEL_SEVERITY, ""))
        if sev_old != sev_new:
            changes.append(Change("alert", "changed", subject, "severity", sev_old, sev_new))
        for label in sorted(set(old_labels) | set(new_labels)):
            if label == C.LABEL_SEVERITY or old_labels.get(label) == new_labels.get(label):
                continue
            changes.append(
                Change(
                    "alert",
                    "changed",
                    subject,
                    f"label {label}",
                    str(old_labels.get(label, "")),
                    str(new_labels.get(label, "")),
                )
            )
        old_url = (old.get("annotations") or {}).get("runbook_url", "")
        new_url = (new.get("annotations") or {}).get("runbook_url", "")
        if old_url != new_url:
            changes.append(Change("alert", "changed", subject, "runbook", old_url, new_url))
        who_old = _receivers(base.plan, name, old_labels)
        who_new = _receivers(head.plan, name, new_labels)
        if who_old is not None and who_new is not None and who_old != who_new:
            changes.append(
                Change(
                    "alert",
                    "changed",
                    subject,
                    "receivers",
                    ", ".join(who_old),
                    ", ".join(who_new),
                )
            )
    return changes


def _cmp(op: str | None, threshold: Decimal | None) -> str:
    if op is None or threshold is None:
        return ""
    return f"{op} {format_decimal(threshold)}"


# --- SLOs --------------------------------------------------------------------------------------


def _tier_thresholds(slo: SLO) -> str:
    return "; ".join(
        f"{t.name} now fires at {percent(error_ratio_threshold(t.factor, slo.budget_fraction))}"
        f" errors"
        for t in slo.tiers
    )


def _budget_time(slo: SLO) -> str:
    seconds = int(slo.budget_fraction * slo.period)
    return humanize_duration(seconds) if seconds else "0 s"


def compare_slo(a: SLO, b: SLO) -> list[Change]:
    subject = f"slo {a.name}"
    out: list[Change] = []
    if a.objective != b.objective:
        ratio = a.budget_fraction / b.budget_fraction if b.budget_fraction else Fraction(0)
        if ratio > 1:
            verb = f"shrinks the error budget {times(ratio)}x"
        elif ratio and ratio < 1:
            verb = f"grows the error budget {times(1 / ratio)}x"
        else:
            verb = "leaves no error budget"
        meaning = (
            f"{verb} ({_budget_time(a)} -> {_budget_time(b)} per {b.period_text}); "
            f"{_tier_thresholds(b)}"
        )
        out.append(
            Change(
                "slo",
                "changed",
                subject,
                "objective",
                f"{format_decimal(a.objective_percent)}%",
                f"{format_decimal(b.objective_percent)}%",
                meaning,
            )
        )
    if a.period != b.period:
        factors = ", ".join(f"{t.name} {times(t.factor)}" for t in b.tiers)
        out.append(
            Change(
                "slo",
                "changed",
                subject,
                "period",
                a.period_text,
                b.period_text,
                f"error budget {_budget_time(a)} -> {_budget_time(b)}; burn factors {factors}",
            )
        )
    if (a.sli.kind, a.sli.bad, a.sli.total) != (b.sli.kind, b.sli.bad, b.sli.total):
        old = f"{a.sli.kind}: {', '.join(f'{k}={v}' for k, v in sorted(a.sli.inputs.items()))}"
        new = f"{b.sli.kind}: {', '.join(f'{k}={v}' for k, v in sorted(b.sli.inputs.items()))}"
        out.append(Change("slo", "changed", subject, "SLI", old, new))
    if a.group_by != b.group_by:
        out.append(
            Change(
                "slo", "changed", subject, "group_by", ", ".join(a.group_by), ", ".join(b.group_by)
            )
        )
    old_tiers = {t.name: t for t in a.tiers}
    new_tiers = {t.name: t for t in b.tiers}
    for name in sorted(set(old_tiers) | set(new_tiers)):
        x, y = old_tiers.get(name), new_tiers.get(name)
        if x is None or y is None:
            action = "added" if x is None else "removed"
            out.append(Change("slo", action, f"{subject} tier {name}"))
            continue
        if (x.long, x.short) != (y.long, y.short):
            out.append(
                Change(
                    "slo",
                    "changed",
                    f"{subject} tier {name}",
                    "windows",
                    f"{x.long_text}/{x.short_text}",
                    f"{y.long_text}/{y.short_text}",
                )
            )
        if x.budget_percent != y.budget_percent:
            out.append(
                Change(
                    "slo",
                    "changed",
                    f"{subject} tier {name}",
                    "budget spent",
                    f"{format_decimal(x.budget_percent)}%",
                    f"{format_decimal(y.budget_percent)}%",
                    f"burn factor {times(x.factor)} -> {times(y.factor)}",
                )
            )
    return out


def compare_slos(base: Build, head: Build) -> list[Change]:
    old = {s.name: s for s in base.plan.slos} if base.plan else {}
    new = {s.name: s for s in head.plan.slos} if head.plan else {}
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None and b is not None:
            meaning = (
                f"{format_decimal(b.objective_percent)}% over {b.period_text}, "
                f"error budget {_budget_time(b)}"
            )
            changes.append(Change("slo", "added", f"slo {name}", meaning=meaning))
        elif b is None:
            changes.append(Change("slo", "removed", f"slo {name}"))
        elif a is not None:
            changes.extend(compare_slo(a, b))
    return changes


# --- dashboards --------------------------------------------------------------------------------


def _dashboards(files: Files) -> dict[str, tuple[str, list[str]]]:
    """uid -> (title, panel titles) of every generated dashboard."""
    found: dict[str, tuple[str, list[str]]] = {}
    prefix = C.GRAFANA_DASHBOARDS_DIR + "/"
    for path, text in files.items():
        if not (path.startswith(prefix) and path.endswith(".json")):
            continue
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        titles: list[str] = []
        stack = list(doc.get("panels") or [])
        while stack:
            panel = stack.pop(0)
            if panel.get("type") != "row":
                titles.append(str(panel.get("title", "")))
            stack.extend(panel.get("panels") or [])
        found[str(doc.get("uid", path))] = (str(doc.get("title", "")), titles)
    return found


def compare_dashboards(base: Build, head: Build) -> list[Change]:
    old, new = _dashboards(base.files), _dashboards(head.files)
    changes: list[Change] = []
    for uid in sorted(set(old) | set(new)):
        if uid not in old:
            title, panels = new[uid]
            changes.append(
                Change(
                    "dashboard",
                    "added",
                    f"dashboard {uid}",
                    meaning=f"{title}, {len(panels)} panels",
                )
            )
            continue
        if uid not in new:
            changes.append(Change("dashboard", "removed", f"dashboard {uid}", meaning=old[uid][0]))
            continue
        before, after = old[uid][1], new[uid][1]
        for title in sorted(set(after) - set(before)):
            changes.append(Change("dashboard", "added", f"dashboard {uid} panel '{title}'"))
        for title in sorted(set(before) - set(after)):
            changes.append(Change("dashboard", "removed", f"dashboard {uid} panel '{title}'"))
    return changes


def compare(base: Build, head: Build, base_name: str, head_name: str) -> Report:
    report = Report(base_name, head_name)
    report.changes += compare_alerts(base, head)
    report.changes += compare_slos(base, head)
    report.changes += compare_dashboards(base, head)
    return report
