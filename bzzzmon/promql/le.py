"""The ``le`` bucket bound of a latency threshold, as every Prometheus version stores it.

Prometheus 2.x stores a classic histogram's ``le`` label as the target exposes it: ``le="1"``
from client_golang, ``le="1.0"`` from the Python client. Prometheus 3.0 and later normalise it
on ingestion to the OpenMetrics spelling of the float (``1`` -> ``1.0``, ``100`` -> ``100.0``,
``1000000`` -> ``1e+06``; ``0.5`` stays ``0.5``), so a selector written for one spelling selects
nothing on the other (docs/compatibility.md). ``le_matcher`` matches every spelling of the same
number that a target or a Prometheus version writes, so one rule works on both.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bzzzmon.promql.builders import with_matcher_text
from bzzzmon.promql.numbers import format_decimal

# Characters RE2 reads as operators, escaped once for the regex and once for the PromQL string.
_REGEX_META = re.compile(r"[.+*?()|\[\]{}^$\\]")


def go_float(value: Decimal) -> str:
    """``strconv.FormatFloat(value, 'g', -1, 64)``: how client_golang writes a bucket bound."""
    number = float(value)
    if number == 0:
        return "0"
    _sign, digits, exponent = Decimal(repr(abs(number))).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # the decimal point after this many digits
    exp = point - 1
    head = "-" if number < 0 else ""
    if exp < -4 or exp >= 6:  # Go's shortest 'g' switches to %e at these exponents
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        return f"{head}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{head}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{head}{text}{'0' * (point - len(text))}"
    return f"{head}{text[:point]}.{text[point:]}"


def openmetrics_float(value: Decimal) -> str:
    """The spelling Prometheus 3 normalises ``le`` to (``formatOpenMetricsFloat``)."""
    text = go_float(value)
    return text if any(c in text for c in ".e") else f"{text}.0"


def python_float(value: Decimal) -> str:
    """How prometheus_client (Python) writes a bucket bound (its ``floatToGoString``)."""
    number = float(value)
    text = repr(number)
    dot = text.find(".")
    if number > 0 and dot > 6:  # it switches to Go's exponent form for large bounds
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


def le_spellings(threshold: Decimal) -> list[str]:
    """Every text of ``threshold`` as an ``le`` label: the spec's own (what the lint and the
    docs show), client_golang's, the Python client's and Prometheus 3's, without repeats."""
    texts = [format_decimal(threshold), go_float(threshold), python_float(threshold)]
    texts.append(openmetrics_float(threshold))
    return list(dict.fromkeys(texts))


def le_matcher(threshold: Decimal) -> str:
    """The ``le`` matcher for the bucket of ``threshold`` on Prometheus 2.x and 3.x:
    ``le="0.5"`` when every spelling agrees, else ``le=~"1|1\\\\.0"`` (PromQL anchors it)."""
    spellings = le_spellings(threshold)
    if len(spellings) == 1:
        return f'le="{spellings[0]}"'
    pattern = "|".join(_REGEX_META.sub(r"\\\\\g<0>", s) for s in spellings)
    return f'le=~"{pattern}"'


def with_le(bucket: str, threshold: Decimal) -> str:
    """The ``_bucket`` selector narrowed to the bucket of ``threshold`` on every version."""
    return with_matcher_text(bucket, le_matcher(threshold))
