"""The window placeholder of a PromQL SLI: ``{{.window}}`` (Sloth's spelling), expanded here.

A ``promql`` SLI writes its bad (or good) and total events with the window left open, e.g.
``sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))``. bzzzmon writes one expression per
window it reads from the raw series, with the window's duration in place of the placeholder. This
is plain text substitution, not a template: Prometheus never sees the placeholder, and nothing
else in the text is expanded. Inside a string literal (``"{{.window}}"``) the text stays literal,
as ``$name`` selectors do; any other ``{{`` or ``}}`` outside a string is an error, so a Go
template pasted from elsewhere is refused instead of half-expanded.
"""

from __future__ import annotations

import re

from bzzzmon.promql.selectors import string_end

PLACEHOLDER = "{{.window}}"
# Go templates allow spaces inside the braces: {{ .window }}.
_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")


class PlaceholderError(ValueError):
    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


def _scan(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every placeholder outside string literals; raises on other braces."""
    found: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while i < n:
        end = string_end(text, i)
        if end is not None:
            i = end
            continue
        if text.startswith(("{{", "}}"), i):
            m = _PLACEHOLDER.match(text, i)
            if m is None:
                raise PlaceholderError(
                    "only the window placeholder {{.window}} is expanded in a PromQL SLI",
                    i,
                    "the text is not a template: write the range as [{{.window}}]",
                )
            found.append((m.start(), m.end()))
            i = m.end()
            continue
        i += 1
    return found


def check(text: str) -> None:
    """Raise PlaceholderError unless ``text`` holds the placeholder, and no other braces, outside
    its string literals."""
    if not _scan(text):
        raise PlaceholderError(
            "a PromQL SLI expression needs the window placeholder {{.window}}",
            0,
            "e.g. sum(rate(x_total[{{.window}}])); without a window, use a ratio SLI",
        )


def expand(text: str, window: str) -> str:
    """``text`` with every placeholder outside string literals replaced by ``window``."""
    out: list[str] = []
    last = 0
    for start, end in _scan(text):
        out.append(text[last:start])
        out.append(window)
        last = end
    out.append(text[last:])
    return "".join(out)
