"""Input series that drive an expression to a chosen value, derived from the expression itself.

An alert's ``value_expr`` (or a time SLI's condition) is parsed; when it reads exactly one
selector, optionally under ``rate``/``irate``/``increase`` and a single-series aggregation
(``sum``/``avg``/``min``/``max``, ``or vector(c)``), its value is a known function of one input
series: a gauge's value, or a counter's slope. Anything else is ``Underivable`` and gets explicit
cases (or none, said in the generated file).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

import promql_parser

from bzzzmon.promql.parse import PromQLError, SelectorUse, parse, selectors_of
from bzzzmon.promql.selectors import escape_label_value


class Underivable(ValueError):
    """No single input series determines the expression's value."""


_SINGLE_SERIES_AGGREGATIONS = {"sum", "avg", "min", "max"}
_COUNTER_FUNCTIONS = {"rate", "irate", "increase"}
_SIMPLE_ALTERNATIVES = re.compile(r"^[A-Za-z0-9_:.\-+ ]+(\|[A-Za-z0-9_:.\-+ ]+)*$")


Metrics = Mapping[str, str]  # metric name -> type: ``Plan.metrics``


def metric_names(metrics: Metrics) -> list[str]:
    """Every metric name of ``metrics``, histograms with their series suffixes."""
    names: list[str] = []
    for name, kind in metrics.items():
        names.append(name)
        if kind == "histogram":
            names += [f"{name}_bucket", f"{name}_count", f"{name}_sum"]
    return sorted(set(names))


def labels_text(name: str, labels: Mapping[str, str]) -> str:
    """``name{a="b"}``, labels sorted; the braces stay even when there are no labels."""
    inner = ", ".join(f"{k}={escape_label_value(v)}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


@dataclass(frozen=True)
class Series:
    """One concrete input series: a metric name and its labels."""

    name: str
    labels: tuple[tuple[str, str], ...]

    def text(self) -> str:
        return _series_text(self)

    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def with_labels(self, extra: dict[str, str], *, replace: bool = False) -> Series:
        """The series with ``extra`` labels added (``replace``: overriding its own)."""
        merged = dict(self.labels)
        for key, value in extra.items():
            if replace:
                merged[key] = value
            else:
                merged.setdefault(key, value)
        return Series(self.name, tuple(sorted(merged.items())))


@lru_cache(maxsize=1 << 12)  # an SLO's series are the same in each of its test groups
def _series_text(series: Series) -> str:
    return labels_text(series.name, series.label_map())


def matches(use: SelectorUse, series: Series) -> bool:
    """Whether ``series`` is selected by ``use`` (Prometheus matcher semantics)."""
    labels = series.label_map() | {"__name__": series.name}
    for label, op, value in use.matchers:
        have = labels.get(label, "")
        if op == "=" and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if op == "=~" and not re.fullmatch(value, have):
            return False
        if op == "!~" and re.fullmatch(value, have):
            return False
    return not (use.name is not None and series.name != use.name)


def _names(use: SelectorUse, metrics: Metrics) -> list[str]:
    if use.name is not None:
        return [use.name]
    if use.name_regex is None:
        raise Underivable("a selector without a metric name")
    found = [n for n in metric_names(metrics) if re.fullmatch(use.name_regex, n)]
    if not found:
        raise Underivable(f'no contract metric matches __name__=~"{use.name_regex}"')
    return found


def _label_values(use: SelectorUse) -> dict[str, str]:
    labels: dict[str, str] = {}
    for label, op, value in use.matchers:
        if label == "__name__":
            continue
        if op == "=":
            labels[label] = value
        elif op == "=~":
            if not _SIMPLE_ALTERNATIVES.match(value):
                raise Underivable(f'cannot pick a value for {label}=~"{value}"')
            labels.setdefault(label, value.split("|")[0])
    return labels


def equality_labels(use: SelectorUse) -> dict[str, str]:
    """The labels ``use`` fixes with ``=`` (what absent() of it puts on its result)."""
    return {k: v for k, op, v in use.matchers if op == "=" and k != "__name__"}


def concrete(use: SelectorUse, metrics: Metrics) -> list[Series]:
    """Series selected by ``use``, one per metric name it can select, first one first."""
    labels = _label_values(use)
    out = [Series(n, tuple(sorted(labels.items()))) for n in _names(use, metrics)]
    found = [s for s in out if matches(use, s)]
    if found:
        return found
    # A negative matcher such as name!="" on a label the series lacks: give it a value.
    for label, op, value in use.matchers:
        if op in ("!=", "!~") and label != "__name__" and label not in labels:
            labels[label] = other_value(value)
    out = [Series(n, tuple(sorted(labels.items()))) for n in _names(use, metrics)]
    return [s for s in out if matches(use, s)]


def other_value(value: str) -> str:
    """A label value different from ``value`` (for a series a matcher must not select)."""
    for candidate in ("success", "ok", "other"):
        if candidate != value:
            return candidate
    return "bzzzmon-test"


def _escaping_value(op: str, value: str) -> str:
    """A value the matcher ``label <op> value`` does not select: for a negative matcher the
    value itself (a regex such as ``5..`` matches its own text), else any other value."""
    if op == "!=" or (op == "!~" and re.fullmatch(value, value)):
        return value
    return other_value(value)


def one_selector(text: str) -> SelectorUse:
    found = selectors_of(text)
    if len(found) != 1:
        raise Underivable(f"{len(found)} selectors in {text!r}")
    return found[0]


def split_selected(selected: str, others: str, metrics: Metrics) -> tuple[Series, Series]:
    """Two series of ``others`` (e.g. all events): one ``selected`` selects and one it does not.

    Used for ratio SLIs: the bad (or good) series and the rest of the total.
    """
    sel, total = one_selector(selected), one_selector(others)
    inside = [s for s in concrete(sel, metrics) if matches(total, s)] or concrete(sel, metrics)
    if not inside:
        raise Underivable(f"no series for {selected!r}")
    base = _label_values(total)
    for name in _names(total, metrics):
        variants = []
        for label, op, value in sel.matchers:
            if label != "__name__" and label not in base:
                variants.append(base | {label: _escaping_value(op, value)})
        variants.append(dict(base))
        for labels in variants:
            cand = Series(name, tuple(sorted(labels.items())))
            if matches(total, cand) and not matches(sel, cand):
                return inside[0], cand
    raise Underivable(f"no series of {others!r} escapes {selected!r}")


# --- A value as a function of one series -------------------------------------------------------


@dataclass(frozen=True)
class ValueInput:
    """How to make an expression take a value: set ``series`` (a gauge) to it, or let the counter
    ``series`` grow by ``per_second(value)`` per second."""

    series: Series
    kind: str  # "gauge" | "counter"
    range_seconds: int  # for increase(): the value is slope * range; 0 otherwise
    output_labels: dict[str, str]  # labels of the expression's result

    def slope(self, value: Fraction) -> Fraction:
        """Counter growth per second that gives ``value``."""
        return value / self.range_seconds if self.range_seconds else value


def unwrap(node: Any) -> Any:
    """``node`` without the parentheses around it."""
    while isinstance(node, promql_parser.ParenExpr):
        node = node.expr
    return node


def _is_vector_literal(node: Any) -> bool:
    node = unwrap(node)
    return (
        isinstance(node, promql_parser.Call)
        and node.func.name == "vector"
        and isinstance(unwrap(node.args[0]), promql_parser.NumberLiteral)
    )


@dataclass
class _Shape:
    kind: str = "gauge"
    range_seconds: int = 0
    by: tuple[str, ...] | None = None  # None: no aggregation, the series' labels pass through


def _walk(node: Any, shape: _Shape) -> None:
    node = unwrap(node)
    if isinstance(node, promql_parser.VectorSelector):
        return
    if isinstance(node, promql_parser.AggregateExpr):
        op = str(node.op)
        if op not in _SINGLE_SERIES_AGGREGATIONS or shape.by is not None:
            raise Underivable(f"aggregation {op}")
        modifier = node.modifier
        if modifier is not None and "without" in str(modifier).lower():
            raise Underivable("aggregation without (...)")
        shape.by = tuple(modifier.labels) if modifier is not None else ()
        _walk(node.expr, shape)
        return
    if isinstance(node, promql_parser.Call) and node.func.name in _COUNTER_FUNCTIONS:
        arg = node.args[0]
        if not isinstance(arg, promql_parser.MatrixSelector) or shape.kind != "gauge":
            raise Underivable(f"{node.func.name} of a subquery")
        shape.kind = "counter"
        if node.func.name == "increase":
            shape.range_seconds = int(arg.range.total_seconds())
        return
    if isinstance(node, promql_parser.Call) and node.func.name == "last_over_time":
        # The newest sample in the range: a gauge the inputs hold reads its value at once (the
        # inputs are sampled more often than any such range a spec would write).
        arg = node.args[0]
        if not isinstance(arg, promql_parser.MatrixSelector) or shape.kind != "gauge":
            raise Underivable("last_over_time of a subquery")
        return
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == "or":
        if not _is_vector_literal(node.rhs):
            raise Underivable("'or' with something other than vector(c)")
        _walk(node.lhs, shape)
        return
    raise Underivable(f"{type(node).__name__} in the expression")


def derive(expr: str, metrics: Metrics) -> ValueInput:
    """The single input series of ``expr`` and how its value maps to the expression's."""
    try:
        tree = parse(expr)
    except PromQLError as exc:
        raise Underivable(str(exc)) from exc
    use = one_selector(expr)
    shape = _Shape()
    _walk(tree, shape)
    series = concrete(use, metrics)
    if not series:
        raise Underivable(f"no series for {expr!r}")
    chosen = series[0]
    if shape.by is not None:
        extra = {label: f"test-{label}" for label in shape.by}
        chosen = chosen.with_labels(extra)
        output = {k: v for k, v in chosen.labels if k in shape.by}
    else:
        output = dict(chosen.labels)
    return ValueInput(chosen, shape.kind, shape.range_seconds, output)


def comparison_sides(op: str, threshold: Decimal) -> tuple[Decimal, Decimal]:
    """(far, near): a value on the firing side of ``value op threshold`` and one on the quiet
    side, both a clear step away from the threshold except where equality is already quiet."""
    step = abs(threshold) / 10 if threshold != 0 else Decimal(1)
    above, below = threshold + step, threshold - step
    sides = {
        "<": (below, threshold),
        "<=": (below, above),
        ">": (above, threshold),
        ">=": (above, below),
        "==": (threshold, above),
        "!=": (above, threshold),
    }
    if op not in sides:
        raise Underivable(f"operator {op}")
    return sides[op]
