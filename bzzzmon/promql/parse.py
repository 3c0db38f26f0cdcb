"""Parse PromQL in-process (promql-parser) and walk the result.

promql-parser gives no positions; callers report the spec position of the whole expression and the
parser's message, and ``promtool check rules`` later confirms the rendered files.
"""

from __future__ import annotations

import re
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
    return _op_text(str(m.op))


@lru_cache(maxsize=64)
def _op_text(op: str) -> str:
    raw = op.rsplit(".", 1)[-1]  # "MatchOp.NotRe" -> "NotRe"
    return _OP_TEXT.get(raw, raw)


def _children(node: Any) -> Iterator[Any]:
    for attr in ("lhs", "rhs", "expr", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield child
    args = getattr(node, "args", None)
    if args is not None:
        yield from args


def _selector_use(node: Any, under: str | None, counted: bool) -> SelectorUse:
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
    return SelectorUse(name, name_regex, tuple(label_matchers), under, counted)


def _collect(node: Any, under: str | None, counted: bool, out: list[SelectorUse]) -> None:
    # Into one list, not through nested generators: a walk was a fifth of the rules lint.
    if isinstance(node, promql_parser.VectorSelector):
        out.append(_selector_use(node, under, counted))
    elif isinstance(node, promql_parser.MatrixSelector):
        _collect(node.vector_selector, under, False, out)
    elif isinstance(node, promql_parser.Call):
        fname = node.func.name
        for arg in node.args:
            _collect(arg, fname, False, out)
    elif isinstance(node, promql_parser.SubqueryExpr):
        _collect(node.expr, None, False, out)
    elif isinstance(node, promql_parser.AggregateExpr) and str(node.op) == "count":
        _collect(node.expr, None, True, out)
    else:
        for child in _children(node):
            _collect(child, None, False, out)


def selectors(node: Any, under: str | None = None, counted: bool = False) -> Iterator[SelectorUse]:
    """Every vector selector in ``node`` with the range function it is passed to, if any."""
    out: list[SelectorUse] = []
    _collect(node, under, counted, out)
    return iter(out)


@lru_cache(maxsize=1 << 16)
def selectors_of(text: str) -> tuple[SelectorUse, ...]:
    """``selectors(parse(text))``, computed once per expression: the spec, the renderers, the
    generated tests and the lints read the same expressions. (The trees themselves are not
    kept: promql-parser's are large, 140 MB for 1,000 SLOs.)

    Expressions that differ only in equality matchers' values (one SLO's rules and panels
    against the next one's) are parsed once, as a skeleton with those values stood in for
    (``_skeleton``), and the values put back into the result."""
    skeleton = _skeleton(text)
    if skeleton is None:
        return tuple(selectors(parse(text)))
    shape, values = skeleton
    try:
        uses = _skeleton_selectors(shape)
    except PromQLError:
        return tuple(selectors(parse(text)))  # the message must name the real text
    return tuple(_filled(use, values) for use in uses)


_STRING = re.compile(r'"([^"]*)"')
_STAND_IN = "__bzzzmon_value_{}__"
_STAND_IN_RE = re.compile(r"^__bzzzmon_value_(\d+)__$")


def _skeleton(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``text`` with every non-empty value of an ``=``/``!=`` matcher replaced by a stand-in
    string, and the values; None where strings cannot be told apart by a regular expression
    (escapes, other quotes, comments). Only these values go: they never change whether the
    expression parses (an empty one can, so it stays, and so do regexes, which are checked)."""
    if "\\" in text or "'" in text or "`" in text or "#" in text or "__bzzzmon_value_" in text:
        return None
    parts: list[str] = []
    values: list[str] = []
    last = 0
    for m in _STRING.finditer(text):
        code = text[last : m.start()]
        value = m.group(1)
        before = code.rstrip()
        if value and before.endswith("=") and not before.endswith(("==", "<=", ">=")):
            if not value.isprintable():
                return None  # a raw newline in a string does not parse: let the parser say so
            parts += [code, f'"{_STAND_IN.format(len(values))}"']
            values.append(value)
        else:
            parts += [code, m.group(0)]
        last = m.end()
    parts.append(text[last:])
    if not values:
        return None
    return "".join(parts), tuple(values)


@lru_cache(maxsize=1 << 12)
def _skeleton_selectors(shape: str) -> tuple[SelectorUse, ...]:
    return tuple(selectors(parse(shape)))


def _filled(use: SelectorUse, values: tuple[str, ...]) -> SelectorUse:
    def real(value: str) -> str:
        m = _STAND_IN_RE.match(value)
        return values[int(m.group(1))] if m else value

    matchers = tuple((label, op, real(value)) for label, op, value in use.matchers)
    name = use.name
    if name is not None and _STAND_IN_RE.match(name):
        name = real(name)
    return SelectorUse(name, use.name_regex, matchers, use.range_function, use.counted)


def is_binary(node: Any) -> bool:
    return isinstance(node, promql_parser.BinaryExpr)


def is_vector_selector(node: Any) -> bool:
    return isinstance(node, promql_parser.VectorSelector)
