"""Expressions of one driving series and others held constant.

``A / B`` (a share of a limit), ``1 - A / B`` (a used fraction) and ``A cmp c and on (l) B cmp d``
(a condition that needs another one) have several input series. One of them drives the value;
the others are held: a divisor at 1, so the value is the driver's (scaled by a ``c - x``); the
other side of ``and``/``unless`` on the side that lets the driver's comparison through. Anything
else stays ``Underivable``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import promql_parser

from bzzzmon.promql.parse import parse, selectors
from bzzzmon.render.rule_tests.inputs import (
    Metrics,
    Series,
    Underivable,
    ValueInput,
    comparison_sides,
    concrete,
    derive,
    matches,
    unwrap,
)

_AGGREGATIONS = {"sum", "avg", "min", "max"}
_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_COMPARISONS |= {"==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Held:
    series: Series
    value: Fraction


@dataclass(frozen=True)
class Driven:
    """The expression's value is ``scale * driver + offset`` while ``held`` keep their values."""

    value: ValueInput
    held: tuple[Held, ...] = ()
    scale: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)

    def level(self, value: Any) -> Fraction:
        """The driver's level (or a counter's rate) that gives the expression ``value``."""
        return (Fraction(value) - self.offset) / self.scale

    def holding(self, more: tuple[Held, ...]) -> Driven:
        return Driven(self.value, self.held + more, self.scale, self.offset)


def _literal(node: Any) -> Fraction | None:
    node = unwrap(node)
    if isinstance(node, promql_parser.NumberLiteral):
        return Fraction(str(node.val))
    return None


def _comparison(node: Any) -> tuple[Any, str, Decimal] | None:
    """``x OP c`` (not ``bool``) as (x, OP, c)."""
    node = unwrap(node)
    if not isinstance(node, promql_parser.BinaryExpr) or str(node.op) not in _COMPARISONS:
        return None
    if node.modifier is not None and node.modifier.return_bool:
        return None
    rhs = unwrap(node.rhs)
    if not isinstance(rhs, promql_parser.NumberLiteral):
        return None
    return node.lhs, str(node.op), Decimal(str(rhs.val))


def _passes_at_one(node: Any) -> bool:
    """Every comparison inside a held divisor lets the value 1 through (``x > 0``)."""
    stack = [node]
    while stack:
        current = unwrap(stack.pop())
        found = _comparison(current)
        if found is not None and not _COMPARISONS[found[1]](Decimal(1), found[2]):
            return False
        for attr in ("lhs", "rhs", "expr"):
            child = getattr(current, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                stack.append(child)
    return True


def _hold(node: Any, value: Fraction, like: Series, metrics: Metrics) -> tuple[Held, ...]:
    """Every series ``node`` reads, with the driver's labels (so joins match), at ``value``."""
    out = []
    for use in selectors(node):
        if use.name is None or use.name == like.name:
            raise Underivable("the driving series is also on the held side")
        own = concrete(use, metrics)
        if not own:
            raise Underivable(f"no series for held {use.name}")
        series = Series(own[0].name, tuple(sorted((like.label_map() | own[0].label_map()).items())))
        if not matches(use, series):
            raise Underivable(f"held {use.name} cannot carry the driver's labels")
        out.append(Held(series, value))
    return tuple(out)


def derive_driven(expr: str, metrics: Metrics) -> Driven:
    """One driving series and the series held constant; ``Underivable`` otherwise."""
    try:
        return Driven(derive(expr, metrics))
    except Underivable as single:
        reason = single
    node: Any = parse(expr)
    scale, offset = Fraction(1), Fraction(0)
    divisors: list[Any] = []
    by: tuple[str, ...] | None = None
    while True:
        node = unwrap(node)
        if (
            isinstance(node, promql_parser.AggregateExpr)
            and str(node.op) in _AGGREGATIONS
            and by is None
            and not divisors
            and (node.modifier is None or "without" not in str(node.modifier).lower())
        ):
            by = tuple(node.modifier.labels) if node.modifier is not None else ()
            node = node.expr
        elif isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "/":
            divisors.append(node.rhs)
            node = node.lhs
        elif (
            isinstance(node, promql_parser.BinaryExpr)
            and str(node.op) == "-"
            and (c := _literal(node.lhs)) is not None
        ):
            scale, offset = -scale, scale * c + offset
            node = node.rhs
        else:
            break
    if not divisors:
        raise reason
    if not all(_passes_at_one(d) for d in divisors):
        raise Underivable("a divisor's condition does not hold at 1")
    if any(metrics.get(use.name or "") == "counter" for d in divisors for use in selectors(d)):
        # Held at a constant, a counter's rate is 0 and the quotient never the driver's.
        raise Underivable("a divisor reads a counter")
    value = derive(node.prettify(), metrics)
    if by is not None:
        series = value.series.with_labels({label: f"test-{label}" for label in by})
        output = {k: v for k, v in series.labels if k in by}
        value = ValueInput(series, value.kind, value.range_seconds, output)
    if value.kind == "counter" and scale < 0:
        raise Underivable("a counter's rate subtracted from a number")
    held = tuple(h for d in divisors for h in _hold(d, Fraction(1), value.series, metrics))
    return Driven(value, held, scale, offset)


def condition_held(node: Any, keep: bool, like: Series, metrics: Metrics) -> tuple[Held, ...]:
    """The other side of ``and`` (``keep``) or ``unless`` (not ``keep``): ``x OP c`` held on the
    side that lets the driver's own comparison through."""
    found = _comparison(node)
    if found is None:
        raise Underivable("the other side of and/unless is not a comparison with a number")
    inner, op, c = found
    other = derive(inner.prettify(), metrics)
    if other.kind != "gauge":
        raise Underivable("the other side of and/unless reads a counter")
    far, near = comparison_sides(op, c)
    return _hold(inner, Fraction(far if keep else near), like, metrics)
