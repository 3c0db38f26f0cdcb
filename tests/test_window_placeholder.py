"""The ``{{.window}}`` placeholder of a promql SLI is text substitution outside string literals,
never a template: everything else stays literal or is refused."""

from __future__ import annotations

import pytest

from bzzzmon.promql import window


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("rate(x[{{.window}}])", "rate(x[1h])"),
        ("rate(x[{{ .window }}])", "rate(x[1h])"),
        (
            "sum_over_time(y[{{.window}}:]) / rate(x[{{.window}}])",
            "sum_over_time(y[1h:]) / rate(x[1h])",
        ),
        ('rate(x{a="{{.window}}"}[{{.window}}])', 'rate(x{a="{{.window}}"}[1h])'),
        ("rate(x{a='{{x}}'}[{{.window}}])", "rate(x{a='{{x}}'}[1h])"),
        ("rate(x{a=`{{`}[{{.window}}])", "rate(x{a=`{{`}[1h])"),
        ('rate(x{a="\\"{{.window}}"}[{{.window}}])', 'rate(x{a="\\"{{.window}}"}[1h])'),
    ],
)
def test_expands_outside_strings_only(text: str, expanded: str) -> None:
    window.check(text)
    assert window.expand(text, "1h") == expanded


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("rate(x[5m])", 0, "needs the window placeholder"),
        ('rate(x{a="{{.window}}"}[5m])', 0, "needs the window placeholder"),
        ("rate(x[{{.Window}}])", 7, "only the window placeholder"),
        ("rate(x[{{.window}}]) {{ end }}", 21, "only the window placeholder"),
        ("rate(x[{{.window}}]) }}", 21, "only the window placeholder"),
        ('rate(x[{{ printf "%s" .window }}])', 7, "only the window placeholder"),
    ],
)
def test_anything_else_is_refused_at_its_character(text: str, offset: int, message: str) -> None:
    with pytest.raises(window.PlaceholderError) as exc:
        window.check(text)
    assert exc.value.offset == offset
    assert message in exc.value.message
