from __future__ import annotations

import pytest

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
