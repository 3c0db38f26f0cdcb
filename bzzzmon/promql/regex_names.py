"""Enumerate the metric names a ``{__name__=~"..."}`` matcher can select, when they are finite.

``rate()`` drops the metric name, so ``rate({__name__=~"a|b"}[5m])`` yields two series with one
label set when ``a`` and ``b`` share labels, and Prometheus rejects the result. The SLI builder
therefore expands such a selector into one selector per metric name; that needs the names.
"""

from __future__ import annotations

import importlib
import re
from itertools import product
from typing import Any

# The regex parser of the standard library (private modules since 3.11, which bzzzmon requires).
sre_constants: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")

LIMIT = 64


class _Infinite(Exception):
    pass


def _expand(items: list[tuple[object, object]]) -> list[str]:
    results = [""]
    for op, arg in items:
        options = _options(op, arg)
        results = [a + b for a, b in product(results, options)]
        if len(results) > LIMIT:
            raise _Infinite
    return results


def _options(op: object, arg: Any) -> list[str]:
    c = sre_constants
    if op is c.LITERAL:
        return [chr(arg)]
    if op is c.SUBPATTERN:
        return _expand(list(arg[-1]))
    if op is c.BRANCH:
        out: list[str] = []
        for branch in arg[1]:
            out.extend(_expand(list(branch)))
        return out
    if op is c.IN:
        chars: list[str] = []
        for kind, value in arg:
            if kind is c.LITERAL:
                chars.append(chr(value))
            elif kind is c.RANGE and value[1] - value[0] < LIMIT:
                chars.extend(chr(x) for x in range(value[0], value[1] + 1))
            else:
                raise _Infinite
        return chars
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, sub = arg
        if high is c.MAXREPEAT or high > 4:
            raise _Infinite
        body = _expand(list(sub))
        out = []
        for n in range(low, high + 1):
            out.extend("".join(p) for p in product(body, repeat=n))
        return out
    raise _Infinite


def finite_names(pattern: str) -> list[str] | None:
    """The sorted names a fully anchored PromQL regex matches, or None if unbounded or large."""
    try:
        parsed = sre_parse.parse(pattern)
        names = sorted(set(_expand(list(parsed))))
    except (_Infinite, re.error, RecursionError):
        return None
    valid = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    return names if names and all(valid.match(n) for n in names) else None
