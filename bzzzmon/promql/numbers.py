"""Exact number formatting: ``0.999``, never ``0.9990000000000001``.

Every number in the spec is kept as ``Decimal`` (or ``Fraction`` after arithmetic) and printed
from that exact value; floats never enter the generated output.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache


def format_decimal(value: Decimal | int) -> str:
    """Shortest exact plain-notation text of a decimal: 99.90 -> 99.9, 1E+2 -> 100."""
    if isinstance(value, int):
        return str(value)
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text


@lru_cache(maxsize=1 << 14)  # the generated tests format the same few ratios thousands of times
def to_decimal(value: Fraction) -> Decimal | None:
    """The exact decimal equal to ``value``, or None when its expansion does not terminate."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return None
    scale = max(twos, fives)
    scaled = value * (10**scale)
    assert scaled.denominator == 1
    return Decimal(scaled.numerator).scaleb(-scale)


def format_fraction(value: Fraction) -> str:
    """Exact PromQL for a rational: a decimal when it terminates, else ``(n / d)``."""
    if value.denominator == 1:  # most of them (counter samples): no cache look-up, no hash
        return str(value.numerator)
    dec = to_decimal(value)
    if dec is not None:
        return format_decimal(dec)
    return f"({value.numerator} / {value.denominator})"
