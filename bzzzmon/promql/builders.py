"""Small builders for the PromQL bzzzmon generates. Text in, text out; no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from bzzzmon.promql.duration import format_duration
from bzzzmon.promql.numbers import format_decimal, format_fraction
from bzzzmon.promql.parse import is_binary, parse
from bzzzmon.promql.selectors import escape_label_value


def aggregate(op: str, labels: Sequence[str], inner: str) -> str:
    """``sum by (a) (inner)`` or ``sum(inner)``."""
    if labels:
        return f"{op} by ({', '.join(labels)}) ({inner})"
    return f"{op}({inner})"


def rate(selector: str, window: int) -> str:
    return f"rate({selector}[{format_duration(window)}])"


def parenthesize(expr: str) -> str:
    """Wrap ``expr`` in parentheses when it is a binary expression, so an operator can follow."""
    return f"({expr})" if is_binary(parse(expr)) else expr


def compare(expr: str, op: str, threshold: Decimal | Fraction, *, as_bool: bool = False) -> str:
    number = (
        format_decimal(threshold) if isinstance(threshold, Decimal) else format_fraction(threshold)
    )
    bool_kw = " bool" if as_bool else ""
    return f"{parenthesize(expr)} {op}{bool_kw} {number}"


def with_matcher(selector: str, label: str, value: str) -> str:
    """Add ``label="value"`` to a vector selector's braces."""
    return with_matcher_text(selector, f"{label}={escape_label_value(value)}")


def with_matcher_text(selector: str, matcher: str) -> str:
    """Add a matcher, given as PromQL text (``le=~"1|1\\.0"``), to a vector selector's braces."""
    if "{" not in selector:
        return f"{selector}{{{matcher}}}"
    head, _, rest = selector.partition("{")
    inner = rest.rsplit("}", 1)[0].strip()
    return f"{head}{{{inner + ', ' if inner else ''}{matcher}}}"


def with_suffix(selector: str, suffix: str) -> str:
    """``x_seconds{a="b"}`` -> ``x_seconds_bucket{a="b"}``."""
    head, brace, rest = selector.partition("{")
    return f"{head.strip()}{suffix}{brace}{rest}"


def selector_text(name: str, matchers: Sequence[tuple[str, str, str]]) -> str:
    """``name{a="b", c=~"d"}`` from a name and (label, op, value) matchers."""
    inner = ", ".join(f"{label}{op}{escape_label_value(value)}" for label, op, value in matchers)
    return f"{name}{{{inner}}}" if inner else name


def rate_by_metric(selectors: Sequence[str], window: int, label: str) -> str:
    """The per-second rate of several counters, kept apart while ``rate()`` drops their names.

    One counter needs nothing more. For several, each rate is marked with its metric name in
    a label of its own (``or`` matches label sets without the name, so a name alone would not
    keep them apart), so series of different counters with equal labels neither collide nor
    shadow each other; the caller sums the label away.
    """
    if len(selectors) == 1:
        return rate(selectors[0], window)
    parts = []
    for sel in selectors:
        name = sel.split("{", 1)[0]
        parts.append(f'label_replace({rate(sel, window)}, "{label}", "{name}", "", "")')
    return " or ".join(parts)


def slo_selector(metric: str, slo: str) -> str:
    return f"{metric}{{slo={escape_label_value(slo)}}}"
