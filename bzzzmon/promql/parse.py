"""Parse PromQL in-process (promql-parser) and walk the result.

promql-parser gives no positions; callers report the spec position of the whole expression and the
parser's message, and ``promtool check rules`` later confirms the rendered files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import promql_parser


class PromQLError(ValueError):
    pass


def parse(text: str) -> Any:
    try:
        return promql_parser.parse(text)
    except (ValueError, RuntimeError) as exc:  # the parser raises ValueError with its message
        raise PromQLError(
            str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        ) from exc


@dataclass(frozen=True)
class SelectorUse:
    """A vector selector found in an expression and the functions it sits directly under."""

    name: str | None
    name_regex: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value)
    range_function: str | None  # the function applied to its range, e.g. "rate"
    counted: bool = False  # directly under count(): only its series are counted, not read


_OP_TEXT = {
    "Equal": "=",
    "NotEqual": "!=",
    "Re": "=~",
    "NotRe": "!~",
}


def _matcher_op(m: Any) -> str:
    raw = str(m.op).rsplit(".", 1)[-1]  # "MatchOp.NotRe" -> "NotRe"
    return _OP_TEXT.get(raw, raw)


def _children(node: Any) -> Iterator[Any]:
    for attr in ("lhs", "rhs", "expr", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield child
    args = getattr(node, "args", None)
    if args is not None:
        yield from args


def selectors(node: Any, under: str | None = None, counted: bool = False) -> Iterator[SelectorUse]:
    """Every vector selector in ``node`` with the range function it is passed to, if any."""
    if isinstance(node, promql_parser.VectorSelector):
        label_matchers = []
        name_regex = None
        for m in node.matchers.matchers:
            op = _matcher_op(m)
            if m.name == "__name__" and op == "=~":
                name_regex = m.value
            label_matchers.append((m.name, op, m.value))
        name = node.name
        if name is None:
            for label, op, value in label_matchers:
                if label == "__name__" and op == "=":
                    name = value
        yield SelectorUse(name, name_regex, tuple(label_matchers), under, counted)
        return
    if isinstance(node, promql_parser.MatrixSelector):
        yield from selectors(node.vector_selector, under)
        return
    if isinstance(node, promql_parser.Call):
        fname = node.func.name
        for arg in node.args:
            yield from selectors(arg, fname)
        return
    if isinstance(node, promql_parser.SubqueryExpr):
        yield from selectors(node.expr, None)
        return
    if isinstance(node, promql_parser.AggregateExpr) and str(node.op) == "count":
        yield from selectors(node.expr, None, counted=True)
        return
    for child in _children(node):
        yield from selectors(child, None)


@lru_cache(maxsize=1 << 16)
def selectors_of(text: str) -> tuple[SelectorUse, ...]:
    """``selectors(parse(text))``, computed once per expression: the spec, the renderers, the
    generated tests and the lints read the same expressions. (The trees themselves are not
    kept: promql-parser's are large, 140 MB for 1,000 SLOs.)"""
    return tuple(selectors(parse(text)))


def is_binary(node: Any) -> bool:
    return isinstance(node, promql_parser.BinaryExpr)


def is_vector_selector(node: Any) -> bool:
    return isinstance(node, promql_parser.VectorSelector)
