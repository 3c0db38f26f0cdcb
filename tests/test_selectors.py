from __future__ import annotations

import pytest

from bzzzmon.promql.parse import PromQLError, _skeleton_selectors, parse, selectors, selectors_of
from bzzzmon.promql.selectors import UnknownSelector, escape_label_value, expand

SELECTORS = {"agent": {"job": "bzzz-agent"}, "two": {"b": "2", "a": "1"}}


def test_expand_inside_braces() -> None:
    assert expand("x{$agent}", SELECTORS) == 'x{job="bzzz-agent"}'
    assert expand('x{$two, c="3"}', SELECTORS) == 'x{a="1", b="2", c="3"}'


def test_dollar_inside_strings_is_left_alone() -> None:
    assert expand('x{a=~"foo$", $agent}', SELECTORS) == 'x{a=~"foo$", job="bzzz-agent"}'
    assert expand("x{a=~'$agent'}", SELECTORS) == "x{a=~'$agent'}"


def test_unknown_selector_reports_offset() -> None:
    with pytest.raises(UnknownSelector) as info:
        expand("foo{$nope}", SELECTORS)
    assert (info.value.name, info.value.offset) == ("nope", 4)


def test_escape() -> None:
    assert escape_label_value('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


def test_parsed_matcher_operators() -> None:
    from bzzzmon.promql.parse import parse, selectors

    (use,) = selectors(parse('x{a="1", b!="2", c=~"3", d!~"4"}'))
    assert use.matchers == (("a", "=", "1"), ("b", "!=", "2"), ("c", "=~", "3"), ("d", "!~", "4"))


# Expressions whose equality values selectors_of() stands in for, and ones where it must not.
SKELETON_CASES = [
    'sum(rate(x{job="a", svc="svc-1", code=~"5.."}[5m])) / sum(rate(x{job="a"}[5m]))',
    '{__name__="foo", b="c"}',  # the name comes from a stood-in value
    'x{a=~"b=", c="d"}',  # '=' inside a regex string is not a matcher
    'x{a = "b"} > 0 unless on () y{c!="d"}',
    'label_replace(x{a="b"}, "dst", "$1", "a", "(.*)")',  # function strings stay
    'x{"a.b"="c"}',
    'x{a=""}',  # an empty value can decide whether a selector parses: it stays
    '{a!="x"}',  # no matcher that rejects the empty string: an error either way
    '{a=""}',
    'x{a="b\\"c"}',  # escapes: parsed as written
    'x{a="\n"}',  # a raw newline: the parser's own error
    'x{a="b"} == "c"',
    "x{a='b'}",
    'x{a=~"("}',  # an invalid regex is still reported
]


@pytest.mark.parametrize("text", SKELETON_CASES)
def test_selectors_of_equals_a_plain_parse(text: str) -> None:
    def outcome(read: object) -> object:
        try:
            return read(text)  # type: ignore[operator]
        except PromQLError as exc:
            return f"error: {exc}"

    plain = outcome(lambda t: tuple(selectors(parse(t))))
    assert outcome(selectors_of.__wrapped__) == plain


def test_expressions_that_differ_in_values_parse_once() -> None:
    selectors_of.cache_clear()
    _skeleton_selectors.cache_clear()
    first = selectors_of('rate(x{job="a", svc="one"}[5m])')
    second = selectors_of('rate(x{job="a", svc="two"}[5m])')
    info = _skeleton_selectors.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert first[0].matchers != second[0].matchers
    assert second[0].matchers[-1][2] == "two" and second[0].range_function == "rate"
