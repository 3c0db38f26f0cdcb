"""The YAML emitter writes data that loads back identically, in a stable, readable form."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from bzzzmon.render.output import ExactNumber
from bzzzmon.render.yamlemit import emit, plain_ok
from tests.conftest import ROOT

TRICKY = [
    "",
    " ",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "False",
    "null",
    "~",
    "1",
    "0.5",
    "1e3",
    "0x1F",
    "2026-11-28",
    "12:30",
    "- a",
    "a: b",
    "a #b",
    "#x",
    "*x",
    "&x",
    "!x",
    "%x",
    "@x",
    "`x",
    "'quoted'",
    '"double"',
    "it's",
    "{{ $value }}",
    "{x}",
    "[x]",
    "a:",
    "x\ty",
    "ünïcode",
    "line1\nline2",
    "trailing \nspace",
    "\nleading newline",
    "ends with newline\n",
    "a\\b",
    'sum(rate(x{a="b"}[5m])) / sum(y) > (14.4 * 0.001)',
    "x > 0\nand\ny > 0",
    "<<",
    "=",
    "?x",
    "\x07bell",
    "🐝",
]


@pytest.mark.parametrize("text", TRICKY)
def test_strings_round_trip(text: str) -> None:
    doc = {"k": text, "list": [text, {"inner": text}]}
    assert yaml.safe_load(emit(doc)) == doc


def test_nested_shapes_round_trip() -> None:
    doc = {
        "groups": [
            {"name": "g", "rules": [{"record": "a:b:c", "expr": "x", "labels": {"a": "1"}}]},
            {"name": "empty", "rules": []},
        ],
        "map": {},
        "list_of_lists": [[1, 2], []],
        "numbers": [0, -3, 2.5, True, False, None],
        "weird key: x": 1,
    }
    assert yaml.safe_load(emit(doc)) == doc


def test_exact_numbers_are_written_as_given() -> None:
    text = emit({"w": ExactNumber("0.15"), "z": ExactNumber("0")})
    assert text == "w: 0.15\nz: 0\n"
    assert yaml.safe_load(text) == {"w": 0.15, "z": 0}
    assert Decimal("0.15") == Decimal(text.split()[1])


def test_block_literal_for_multiline_expressions() -> None:
    text = emit({"expr": "a > 1\nand\nb > 1"})
    assert text == "expr: |-\n  a > 1\n  and\n  b > 1\n"


def test_plain_decisions() -> None:
    assert plain_ok('sum(rate(x{a="b"}[5m]))')
    assert not plain_ok("P0: x")
    assert not plain_ok("yes")
    # Go's YAML 1.2 readers take these for numbers or booleans: they must be quoted.
    for text in ("1e3", "0o17", "0x1f", "+1", ".5", "y", "N", "1_000"):
        assert not plain_ok(text), text


def test_every_generated_yaml_file_loads() -> None:
    for path in sorted((ROOT / "generated").rglob("*.yml")):
        assert yaml.safe_load(path.read_text()) is not None, path
