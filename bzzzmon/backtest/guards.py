"""Long-window recording rules evaluated only where an alert can read them.

A long-window rule (``sum_over_time(...[3d])``) costs Prometheus its window's samples at every
evaluation, most of a 30-day backtest; the burn-rate tiers read it only in ``long > x and
short > x unless ...``, so the alert can hold only where the short window's comparison holds.
Such a rule (read by alerts only, each time as an instant selector in one operand of a
top-level ``and`` chain whose other operands, the guards, read no such rule) is evaluated only
at the evaluations within the lookback (5m) before a time all of some reader's guards hold.
There every reader sees the samples a full evaluation would have written; elsewhere a reader
is empty whatever the rule's value, so the alerts are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from bzzzmon.backtest.rules import Rule, selects
from bzzzmon.promql.duration import parse_duration
from bzzzmon.promql.parse import PromQLError, parse, selectors, selectors_of

LONG = 86400  # a rule is worth guarding from a range of a day
LOOKBACK = 300  # the scratch Prometheus' lookback delta (its default)
_RANGE = re.compile(r"\[(\d+[smhdwy][0-9smhdwy]*)(?::|\])")


@dataclass(frozen=True)
class Guarded:
    rule: Rule
    guards: tuple[tuple[Rule, tuple[str, ...]], ...]  # (reader alert, its guard expressions)


def _window(rule: Rule) -> int:
    return max((parse_duration(m) for m in _RANGE.findall(rule.expr)), default=0)


def _conjuncts(node: Any) -> tuple[list[Any], list[Any]]:
    """(operands of the top-level ``and`` chain, the ``unless`` right-hand sides)."""
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in ("and", "unless"):
        left, rest = _conjuncts(node.lhs)
        if str(node.op) == "unless":
            return left, [*rest, node.rhs]
        right, more = _conjuncts(node.rhs)
        return left + right, rest + more
    return [node], []


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _nodes(child)
    yield from getattr(node, "args", None) or ()


def _plain(node: Any) -> bool:
    """No range, subquery, offset or @ in it: its value at t reads samples in (t - 5m, t]."""
    for n in _nodes(node):
        if isinstance(n, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)):
            return False
        if isinstance(n, promql_parser.VectorSelector) and (n.offset or n.at):
            return False
    return True


def _reads(node: Any, rule: Rule) -> bool:
    return any(selects(s, rule) for s in selectors(node))


def guarded(
    recording: Iterable[Rule], alerting: Iterable[Rule], keep: frozenset[str]
) -> list[Guarded]:
    """The long-window rules of ``recording`` (none recording a name in ``keep``) that can be
    evaluated only where their readers' guards hold, with those guards."""
    recording, alerting = list(recording), list(alerting)
    trees = {}
    for a in alerting:
        try:
            tree = parse(a.expr)
        except PromQLError:
            return []
        # `@ start()` depends on the query's range: a rule it reads is evaluated everywhere.
        trees[id(a)] = ([], [tree]) if "@" in a.expr else _conjuncts(tree)
    candidates = [
        r
        for r in recording
        if _window(r) >= LONG
        and r.name not in keep
        and not any(selects(s, r) for o in recording if o is not r for s in selectors_of(o.expr))
    ]
    while True:
        chosen: list[Guarded] = []
        dropped = None
        for rule in candidates:
            readers = []
            for a in alerting:
                ands, unless = trees[id(a)]
                if not any(_reads(n, rule) for n in ands + unless):
                    continue
                own = [n for n in ands if _reads(n, rule)]
                guards = [n for n in ands if not any(_reads(n, c) for c in candidates)]
                if any(_reads(n, rule) for n in unless) or not all(map(_plain, own)):
                    dropped = rule
                    break
                if not guards:
                    # Two candidates guard each other: the shorter window is evaluated fully.
                    rivals = [c for c in candidates if any(_reads(n, c) for n in ands)]
                    dropped = min(rivals, key=_window)
                    break
                readers.append((a, tuple(str(n) for n in guards)))
            if dropped is not None:
                break
            if readers:
                chosen.append(Guarded(rule, tuple(readers)))
        if dropped is None:
            return chosen
        candidates = [c for c in candidates if c is not dropped]


def needed_times(
    held: Iterable[list[int]], step: int, start: int, end: int
) -> list[tuple[int, int]]:
    """The runs [first, last] of the grid start + k * step within the lookback before any of
    the times in ``held`` (each list: the times all guards of one reader hold)."""
    wanted: set[int] = set()
    for times in held:
        for t in times:
            first = max(start, t - LOOKBACK)  # (t - 5m, t], and t - 5m: harmless
            k = -(-(first - start) // step)
            wanted.update(range(start + k * step, min(t, end) + 1, step))
    runs: list[tuple[int, int]] = []
    for t in sorted(wanted):
        if runs and t == runs[-1][1] + step:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs
