"""Expand named selectors (``$agent``) in PromQL text and escape label values.

A spec writes ``bzzz_p2p_connected_peers{$agent}``; the service's selector ``agent: {job:
bzzz-agent}`` turns it into ``bzzz_p2p_connected_peers{job="bzzz-agent"}``. Text inside quoted
strings is left alone, so a regex such as ``=~"foo$"`` keeps its ``$``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

# Wider than a selector name (which is lower case), so `$Agent` is reported as 'Agent'.
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class UnknownSelector(ValueError):
    def __init__(self, name: str, offset: int) -> None:
        super().__init__(name)
        self.name = name
        self.offset = offset


@lru_cache(maxsize=1 << 16)  # the same label values are escaped for every rule, test and panel
def escape_label_value(value: str) -> str:
    """A PromQL double-quoted string literal for ``value``."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def matchers_text(labels: Mapping[str, str]) -> str:
    """``{"job": "x", "a": "b"}`` -> ``a="b", job="x"`` (sorted, so output is stable)."""
    return ", ".join(f"{k}={escape_label_value(v)}" for k, v in sorted(labels.items()))


def string_end(text: str, i: int) -> int | None:
    """Where the PromQL string literal starting at ``text[i]`` ends (one past its closing quote),
    or None when ``text[i]`` opens no string. Backslash escapes apply except in backticks."""
    ch = text[i]
    if ch not in "\"'`":
        return None
    n = len(text)
    j = i + 1
    while j < n and text[j] != ch:
        j += 2 if text[j] == "\\" and ch != "`" else 1
    return j + 1


def expand(text: str, selectors: Mapping[str, Mapping[str, str]]) -> str:
    """Replace every ``$name`` outside string literals with the matchers of selector ``name``."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        end = string_end(text, i)
        if end is not None:
            out.append(text[i:end])
            i = end
            continue
        if ch == "$":
            m = _NAME.match(text, i)
            if m is None or m.group(1) not in selectors:
                raise UnknownSelector(m.group(1) if m else "", i)
            out.append(matchers_text(selectors[m.group(1)]))
            i = m.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)
