"""The generated rule files as data, in the order a backtest must evaluate them.

Recording rules that read other recorded series cannot be backfilled in one
``promtool tsdb create-blocks-from rules`` run (it queries only the URL it is given), so they
go by dependency level: level 0 reads raw series only, level k reads levels below k.

Alerts that read ``ALERTS`` (burn tiers suppressed by a more urgent tier, escalations,
explanation holds) go by round: round 0 reads no ALERTS, round k reads ALERTS of alerts of
earlier rounds only, which the engine writes into the scratch TSDB before the round starts.

Every recorded name and ``ALERTS`` is renamed with ``PREFIX`` in the scratch: the source
Prometheus usually records the same names itself (with the rules it runs today), and the
scratch Prometheus reads the source too, so unrenamed series would merge with those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.backtest import BacktestError
from bzzzmon.promql.duration import DurationError, parse_duration
from bzzzmon.promql.parse import PromQLError, SelectorUse, selectors_of

PREFIX = "bzzzmon_backtest:"
ALERTS = "ALERTS"
_DEFAULT_INTERVAL = 60  # Prometheus' own default evaluation_interval


@dataclass(frozen=True)
class Rule:
    group: str
    interval: int  # seconds: the group's, else the config's evaluation_interval
    expr: str
    record: str | None = None
    alert: str | None = None
    for_: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.record or self.alert or ""


@dataclass(frozen=True)
class RuleSet:
    recording: tuple[Rule, ...]
    alerting: tuple[Rule, ...]
    alert_relabel: tuple[dict[str, Any], ...]

    @property
    def recorded(self) -> frozenset[str]:
        return frozenset(r.name for r in self.recording)


def _seconds(text: Any, where: str) -> int:
    try:
        return parse_duration(str(text))
    except DurationError as exc:
        raise BacktestError(f"{where}: bad duration {text!r}: {exc}") from exc


def _text(content: str | bytes) -> str:
    return content.decode() if isinstance(content, bytes) else content


def load(files: Mapping[str, str | bytes]) -> RuleSet:
    """The rules of a rendered build (``bzzzmon.build.render_all``)."""
    config = yaml.safe_load(_text(files.get(C.PROMETHEUS_CONFIG, ""))) or {}
    default = _seconds(
        (config.get("global") or {}).get("evaluation_interval", f"{_DEFAULT_INTERVAL}s"),
        C.PROMETHEUS_CONFIG,
    )
    recording: list[Rule] = []
    alerting: list[Rule] = []
    for path in sorted(files):
        if not (path.startswith(C.RULES_DIR + "/") and path.endswith(".yml")):
            continue
        doc = yaml.safe_load(_text(files[path])) or {}
        for group in doc.get("groups") or []:
            interval = _seconds(group["interval"], path) if "interval" in group else default
            for raw in group.get("rules") or []:
                rule = Rule(
                    group=str(group["name"]),
                    interval=interval,
                    expr=str(raw["expr"]),
                    record=raw.get("record"),
                    alert=raw.get("alert"),
                    for_=_seconds(raw["for"], path) if "for" in raw else 0,
                    labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                )
                (recording if rule.record else alerting).append(rule)
    relabel = ((config.get("alerting") or {}).get("alert_relabel_configs")) or []
    return RuleSet(tuple(recording), tuple(alerting), tuple(relabel))


def _selectors(rule: Rule) -> tuple[SelectorUse, ...]:
    try:
        return selectors_of(rule.expr)
    except PromQLError as exc:
        raise BacktestError(f"rule {rule.name} in group {rule.group}: {exc}") from exc


def reads(rule: Rule, names: frozenset[str]) -> set[str]:
    """Which of ``names`` the rule's expression selects by metric name."""
    return {s.name for s in _selectors(rule) if s.name in names}


def raw_metrics(rules: RuleSet) -> set[str]:
    """Metric names (or ``__name__`` regexes) the rules read from the source."""
    own = rules.recorded | {ALERTS}
    found: set[str] = set()
    for rule in (*rules.recording, *rules.alerting):
        for s in _selectors(rule):
            if s.name and s.name not in own:
                found.add(s.name)
            elif s.name is None and s.name_regex:
                found.add(s.name_regex)
    return found


def recording_levels(rules: RuleSet) -> list[list[Rule]]:
    """Recording rules by dependency level (level k reads only names recorded below k)."""
    recorded = rules.recorded
    level: dict[str, int] = {}
    pending = list(rules.recording)
    out: list[list[Rule]] = []
    while pending:
        ready = [r for r in pending if all(n in level for n in reads(r, recorded) - {r.name})]
        if not ready:
            names = ", ".join(sorted({r.name for r in pending}))
            raise BacktestError(f"recording rules read each other in a cycle: {names}")
        depth = len(out)
        # A name recorded by several rules (one per SLO) is ready only when all of them are.
        blocked = {r.name for r in pending if r not in ready}
        ready = [r for r in ready if r.name not in blocked]
        if not ready:
            raise BacktestError("recording rules read each other in a cycle")
        out.append(ready)
        for r in ready:
            level[r.name] = depth
        pending = [r for r in pending if r not in ready]
    return out


def _may_match(selector: SelectorUse, known: Mapping[str, str]) -> bool:
    """Whether a series with the ``known`` labels can match ``selector`` (labels not known,
    the series' own labels, are taken to match)."""
    for label, op, value in selector.matchers:
        if label not in known or label == "alertstate":
            continue
        hit = re.fullmatch(value, known[label]) is not None if "~" in op else known[label] == value
        if hit == op.startswith("!"):
            return False
    return True


def selects(selector: SelectorUse, rule: Rule) -> bool:
    """Whether ``selector`` may read what the recording ``rule`` records."""
    if selector.name is None:
        if selector.name_regex and not re.fullmatch(selector.name_regex, rule.name):
            return False
    elif selector.name != rule.name:
        return False
    return _may_match(selector, rule.labels)


def needed(rules: RuleSet, names: frozenset[str]) -> tuple[Rule, ...]:
    """The recording rules an alert reads, or that record one of ``names``, directly or
    through other recording rules: a backtest evaluates only these (an SLO's objective,
    info and current burn-rate series feed dashboards, not alerts; each would cost a
    query_range and its samples)."""
    wanted = [r for r in rules.recording if r.name in names]
    readers = list(rules.alerting) + wanted
    kept = {id(r) for r in wanted}
    while readers:
        reader = readers.pop()
        for s in _selectors(reader):
            for rule in rules.recording:
                if id(rule) not in kept and selects(s, rule):
                    kept.add(id(rule))
                    readers.append(rule)
    return tuple(r for r in rules.recording if id(r) in kept)


def alert_rounds(rules: RuleSet) -> list[list[Rule]]:
    """Alerting rules by ALERTS round (round k reads only ALERTS of rounds below k)."""
    sources = {id(r): [s for s in _selectors(r) if s.name == ALERTS] for r in rules.alerting}
    round_of: dict[int, int] = {}
    pending = list(rules.alerting)
    out: list[list[Rule]] = []
    while pending:

        def ready(rule: Rule) -> bool:
            for s in sources[id(rule)]:
                for other in rules.alerting:
                    known = {**other.labels, "alertname": other.name}
                    if _may_match(s, known) and id(other) not in round_of:
                        return False
            return True

        now = [r for r in pending if ready(r)]
        if not now:
            names = ", ".join(sorted({r.name for r in pending}))
            raise BacktestError(f"alerts read each other's ALERTS in a cycle: {names}")
        for r in now:
            round_of[id(r)] = len(out)
        out.append(now)
        pending = [r for r in pending if id(r) not in round_of]
    return out


def alerts_read(rules: Iterable[Rule]) -> Callable[[Mapping[str, str]], bool]:
    """Whether an alert series with these labels may be read through ALERTS by ``rules``: only
    those are written into the scratch for the later rounds (an ``absent()`` alert firing
    all month is a sample at every evaluation that nothing reads)."""
    selectors = [s for r in rules for s in _selectors(r) if s.name == ALERTS]
    return lambda labels: any(_may_match(s, labels) for s in selectors)


def renamer(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # A metric name is never preceded by a name character or a quote (label values).
    return re.compile(rf'(?<![\w:"])({alternatives})(?![\w:])')


_SUBQUERY_DEFAULT_STEP = re.compile(r"\[(\w+):\]")


def renamed(expr: str, pattern: re.Pattern[str], interval: int) -> str:
    """``expr`` reading the scratch namespace, its subqueries' default step made explicit (a
    subquery without a step takes the evaluation_interval of the Prometheus that runs it, and
    the source's may not be the generated config's)."""
    expr = _SUBQUERY_DEFAULT_STEP.sub(lambda m: f"[{m.group(1)}:{interval}s]", expr)
    return pattern.sub(lambda m: PREFIX + m.group(1), expr)


def reads_raw(rule: Rule, own: frozenset[str]) -> bool:
    """Whether the rule reads any series from the source (not recorded, not ALERTS)."""
    return any(s.name not in own for s in _selectors(rule))


def reads_own(rule: Rule, own: frozenset[str]) -> bool:
    return any(s.name in own for s in _selectors(rule))
