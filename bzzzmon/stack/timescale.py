"""Run the generated rules on a faster clock: every duration in every rule divided by one factor.

Why: the rules say "for 10m", "error ratio over 1h", "escalate after 2h". Waiting for that in a
demo or in CI is impossible, and writing separate "test" rules would test something else. The
stack therefore loads the *generated* rule files through one mechanical rewrite:

- every ``for:`` (and ``keep_firing_for:``) is divided by the time scale ``k``;
- every range in an expression (``rate(x[5m])``, ``sum_over_time(r[30d])``, subquery
  ``[1h:5m]``) and every ``offset`` is divided by ``k``;
- a group's own ``interval:`` is dropped, so every group runs at the stack's evaluation interval;
- the seconds of a window that turn a recorded per-second rate into a count of events (the
  low-traffic guard's ``bzzzmon_slo:sli_total_events:rate1h{...} * 3600 >= 100``) are divided
  too: the rate now covers 1h/k, so the events in it are the rate times 3600/k seconds. Only a
  factor that equals the window named in the rate's own name (``rate1h`` and 3600) is such
  seconds; every other number is left alone, except
- the horizon of ``predict_linear(v[6h], 86400)``, seconds of rule time like a range: the slope
  is now taken over 6h/k, so an unscaled day ahead would extrapolate k days of production.

Nothing else changes: metric and recording-rule names (``bzzzmon_slo:sli_error:ratio_rate1h``
keeps its name while it now covers 1h/k), label matchers, thresholds, burn factors, operators,
``and``/``or`` structure, labels and annotations are byte for byte what ``bzzzmon build`` wrote.
With ``k = 60`` one minute of rule time passes in one second: ``for: 2m`` holds for 2 s, the 1h/5m
burn-rate pair becomes 1m/5s and keeps its 12:1 ratio, so an alert fires only if the very same
conditions hold for proportionally the same share of the windows. What the rewrite cannot
preserve is sample density (a 5 s window holds 5 scrapes at 1 s, not 20 at 15 s): ranges are
therefore never shortened below ``min_range`` (a few scrape intervals), which only matters for
windows below ``k * min_range`` of rule time. The long windows (hours, days) and exact
thresholds are proven separately by the generated ``promtool test rules`` fixtures, which run the
unscaled rules on synthetic series.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

from bzzzmon.promql.parse import parse

_UNIT_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000}
_UNIT_MS |= {"m": 60_000, "s": 1000, "ms": 1}
_DURATION = r"(?:\d+(?:ms|[ywdhms]))+"
_DURATION_PART = re.compile(r"(\d+)(ms|[ywdhms])")
_RANGE = re.compile(rf"\[\s*({_DURATION})?\s*(?::\s*({_DURATION})?\s*)?\]")
_OFFSET = re.compile(rf"(?<![\w:])offset(\s+)(-?)({_DURATION})\b")
# A recorded rate named by its window, times a number: ``...:rate1h{slo="x"} * 3600``.
_WINDOW_SECONDS = re.compile(
    rf':rate({_DURATION})(?:\{{(?:[^}}"\\]|"(?:[^"\\]|\\.)*")*\}})?(\s*\*\s*)(\d+)(?![\d.eE])'
)
_PREDICT_LINEAR = re.compile(r"(?<![\w:])predict_linear\s*\(")
_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)\s*")
_FORMAT_UNITS = (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1))


def duration_ms(text: str) -> int:
    return sum(int(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text))


def format_ms(ms: int) -> str:
    """``90000`` -> ``1m30s``; ``1500`` -> ``1s500ms`` (a Prometheus duration)."""
    if ms <= 0:
        return "0s"
    parts = []
    for unit, size in _FORMAT_UNITS:
        n, ms = divmod(ms, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


@dataclass(frozen=True)
class TimeScale:
    """Divide rule durations by ``factor``; ranges never below ``min_range_ms``."""

    factor: int = 60
    min_range_ms: int = 3000

    def scale(self, text: str, *, is_range: bool) -> str:
        ms = duration_ms(text) // self.factor
        if is_range:
            ms = max(ms, self.min_range_ms)
        return format_ms(ms)

    def expr(self, expr: str) -> str:
        """The expression with every range, subquery step and offset scaled."""
        out: list[str] = []
        scaled = self._horizons(self._window_seconds(expr))
        for is_string, chunk in _split_strings(scaled):
            out.append(chunk if is_string else self._code(chunk))
        rewritten = "".join(out)
        parse(rewritten)  # the rewrite must leave valid PromQL; PromQLError otherwise
        return rewritten

    def _window_seconds(self, expr: str) -> str:
        """Scale the seconds that multiply a rate named by its window (see the module doc)."""
        in_string = _string_spans(expr)

        def seconds(m: re.Match[str]) -> str:
            window_ms = duration_ms(m.group(1))
            if in_string(m.start()) or int(m.group(3)) * 1000 != window_ms:
                return m.group(0)
            scaled = Decimal(duration_ms(self.scale(m.group(1), is_range=True))) / 1000
            text = format(scaled.normalize(), "f")
            return m.group(0)[: m.start(3) - m.start()] + text

        return _WINDOW_SECONDS.sub(seconds, expr)

    def _horizons(self, expr: str) -> str:
        """Scale predict_linear's horizon when it is a number of seconds (see the module doc)."""
        in_string = _string_spans(expr)
        out, done = [], 0
        for m in _PREDICT_LINEAR.finditer(expr):
            if in_string(m.start()):
                continue
            comma, close = _second_argument(expr, m.end(), in_string)
            number = _NUMBER.fullmatch(expr, comma + 1, close) if comma >= 0 else None
            if number is None:
                continue
            scaled = Decimal(number.group(1)) / self.factor
            out += [expr[done : number.start(1)], format(scaled.normalize(), "f")]
            done = number.end(1)
        return "".join(out) + expr[done:]

    def _code(self, code: str) -> str:
        def range_(m: re.Match[str]) -> str:
            window, step = m.group(1), m.group(2)
            inner = self.scale(window, is_range=True) if window else ""
            if ":" in m.group(0):
                inner += ":" + (self.scale(step, is_range=False) if step else "")
            return f"[{inner}]"

        def offset(m: re.Match[str]) -> str:
            return f"offset{m.group(1)}{m.group(2)}{self.scale(m.group(3), is_range=False)}"

        return _OFFSET.sub(offset, _RANGE.sub(range_, code))

    def rule_file(self, text: str) -> str:
        """A whole rule file (YAML text) with every group and rule rewritten."""
        data: Any = yaml.safe_load(text) or {}
        for group in data.get("groups") or []:
            group.pop("interval", None)
            for rule in group.get("rules") or []:
                rule["expr"] = self.expr(str(rule["expr"]))
                for key in ("for", "keep_firing_for"):
                    if key in rule:
                        rule[key] = self.scale(str(rule[key]), is_range=False)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 30)


def _second_argument(expr: str, start: int, in_string: Callable[[int], bool]) -> tuple[int, int]:
    """The top-level comma and the closing parenthesis of the call whose arguments begin at
    ``start`` (-1, -1 when there is no second argument)."""
    depth, comma = 0, -1
    for i in range(start, len(expr)):
        if in_string(i):
            continue
        c = expr[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return (comma, i) if comma >= 0 else (-1, -1)
            depth -= 1
        elif c == "," and depth == 0:
            comma = i
    return -1, -1


def _string_spans(expr: str) -> Callable[[int], bool]:
    """Whether a position of ``expr`` lies inside a string literal."""
    spans, at = [], 0
    for is_string, chunk in _split_strings(expr):
        if is_string:
            spans.append((at, at + len(chunk)))
        at += len(chunk)
    return lambda pos: any(a <= pos < b for a, b in spans)


def _split_strings(expr: str) -> list[tuple[bool, str]]:
    """Split PromQL text into (is_string_literal, text) chunks, so rewrites skip label values."""
    chunks: list[tuple[bool, str]] = []
    i = start = 0
    while i < len(expr):
        quote = expr[i]
        if quote not in "\"'`":
            i += 1
            continue
        chunks.append((False, expr[start:i]))
        j = i + 1
        while j < len(expr) and expr[j] != quote:
            j += 2 if expr[j] == "\\" and quote != "`" else 1
        chunks.append((True, expr[i : j + 1]))
        i = start = j + 1
    chunks.append((False, expr[start:]))
    return chunks
