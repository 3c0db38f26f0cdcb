"""Alertmanager label matchers: written as ``name="value"`` strings, read back, and evaluated in
Python with Alertmanager's semantics (a missing label is the empty string, regexes are anchored).

Routing tests, ``receivers_for`` and the inhibition checks all evaluate the matchers the config
holds, so the Python answers and Alertmanager's cannot drift apart by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bzzzmon.promql.selectors import escape_label_value

Op = Literal["=", "!=", "=~", "!~"]
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
# name, operator, double-quoted value with \" and \\ escapes (the form ``format`` writes).
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str

    def format(self) -> str:
        # Alertmanager reads a matcher's quoted value as PromQL reads a label value.
        return f"{self.name}{self.op}{escape_label_value(self.value)}"

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = _compiled(self.value).fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regex_escape(value: str) -> str:
    """Escape RE2 metacharacters (Python's re.escape escapes more than RE2 needs to read)."""
    return _REGEX_META.sub(r"\\\1", value)


def equal_or_any(name: str, values: Sequence[str]) -> Matcher:
    """``name="v"`` for one value, ``name=~"a|b"`` (alternation) for several."""
    if len(values) == 1:
        return Matcher(name, "=", values[0])
    return Matcher(name, "=~", "|".join(regex_escape(v) for v in values))


def none_of(name: str, values: Sequence[str]) -> Matcher:
    if len(values) == 1:
        return Matcher(name, "!=", values[0])
    return Matcher(name, "!~", "|".join(regex_escape(v) for v in values))


@cache  # a route's few matchers are read again for every alert the catalog routes
def parse(text: str) -> Matcher:
    m = _MATCHER.match(text)
    if not m:
        raise ValueError(f"not a matcher bzzzmon writes: {text!r}")
    name, op, raw = m.groups()
    value = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), raw)
    return Matcher(name, op, value)  # type: ignore[arg-type]


def parse_all(texts: Iterable[str]) -> list[Matcher]:
    return [parse(t) for t in texts]


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


def example_value(m: Matcher) -> str | None:
    """A value that satisfies a positive matcher this module wrote (the first alternative)."""
    if m.op == "=":
        return m.value
    if m.op == "=~":
        first = re.split(r"(?<!\\)\|", m.value)[0]
        return re.sub(r"\\(.)", r"\1", first)
    return None
