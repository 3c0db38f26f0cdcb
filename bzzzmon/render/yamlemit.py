"""A small, fast YAML emitter for the shapes bzzzmon writes (mappings, lists, strings, numbers).

PyYAML's emitter analyses every scalar in Python and dominated build time (about 4 s for the rules
of 1,000 SLOs). Generated files only hold plain data, so this emitter writes block style
directly: a string is plain when YAML reads it back as the same string, single-quoted when it is
one line, a ``|-`` block when it is several clean lines, and double-quoted otherwise. Tests check
that everything emitted loads back to the same data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import yaml

# Characters that may not start a plain scalar (YAML 1.1 indicators) or need care.
_BAD_FIRST = set("-?:,[]{}#&*!|>'\"%@`")
_PRINTABLE = re.compile(r"^[\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]*$")
_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
# YAML 1.2 (Go's yaml.v3, read by Prometheus 3 and Alertmanager) also reads these as numbers or
# booleans, where PyYAML's YAML 1.1 rules see strings; such text is quoted too.
_OTHER_YAML_SCALARS = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?0[xob][0-9a-fA-F_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|[yYnN]|[Tt]rue|TRUE|[Ff]alse|FALSE|[Nn]ull|NULL)$"
)


def _resolves_to_other_type(text: str) -> bool:
    """Would a YAML 1.1 loader read ``text`` as a bool, null, number, timestamp, merge key?"""
    candidates = _RESOLVERS.get(text[0], []) if text else _RESOLVERS.get("", [])
    if text in ("", "~") or _OTHER_YAML_SCALARS.match(text):
        return True
    return any(rx.match(text) for _tag, rx in candidates)


@lru_cache(maxsize=1 << 16)
def plain_ok(text: str) -> bool:
    if not text or text != text.strip() or not _PRINTABLE.match(text):
        return False
    if text[0] in _BAD_FIRST or text.endswith(":"):
        return False
    if ": " in text or " #" in text or "\t" in text:
        return False
    return not _resolves_to_other_type(text)


def _block_ok(text: str) -> bool:
    lines = text.split("\n")
    return (
        bool(lines[0])
        and not lines[0][0].isspace()
        and not text.endswith("\n")
        and all(line == line.rstrip() and _PRINTABLE.match(line) for line in lines)
    )


def scalar(value: Any, indent: str) -> str:
    """The text of one scalar; ``indent`` is the block indentation for ``|-`` bodies."""
    if type(value) is str:  # most scalars: skip the checks below
        return _string(value, indent)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    text_attr = getattr(value, "text", None)
    if isinstance(value, float) and isinstance(text_attr, str):
        return text_attr  # ExactNumber: the exact decimal it was made from
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot emit {type(value).__name__} as YAML")
    return _string(value, indent)


def _string(value: str, indent: str) -> str:
    if plain_ok(value):
        return value
    if "\n" not in value and _PRINTABLE.match(value):
        return "'" + value.replace("'", "''") + "'"
    if "\n" in value and _block_ok(value):
        body = "\n".join(f"{indent}{line}" if line else "" for line in value.split("\n"))
        return "|-\n" + body
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=1 << 12, typed=True)  # a few dozen keys, met 100,000s of times
def _key(key: Any) -> str:
    text = str(key)
    return text if plain_ok(text) else json.dumps(text, ensure_ascii=False)


# Exact types first: isinstance() against the ABCs costs more than the rest of an entry.
def _is_mapping(value: Any) -> bool:
    return type(value) is dict or (type(value) is not str and isinstance(value, Mapping))


def _is_sequence(value: Any) -> bool:
    kind = type(value)
    return kind is list or kind is tuple or (kind is not str and isinstance(value, Sequence))


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if type(value) is not list and _is_mapping(value):  # a list: no ABC check
        _items(value, pad, pad, indent + 2, out)
    elif _is_sequence(value):
        item_pad, dash = f"{pad}  ", f"{pad}- "
        for item in value:
            if _is_mapping(item) and item:
                _items(item, dash, item_pad, indent + 4, out)
            else:
                _entry(f"{pad}-", item, indent + 2, out)
    else:
        out.append(f"{pad}{scalar(value, pad)}")


def _items(
    value: Mapping[Any, Any], lead: str, pad: str, child_indent: int, out: list[str]
) -> None:
    """A mapping's entries, the first after ``lead`` (``- `` in a list), the others after
    ``pad``. Plain string values, most of every file, are written here without a call."""
    for k, v in value.items():
        head = f"{lead}{_key(k)}:"
        lead = pad
        if type(v) is str and plain_ok(v):
            out.append(f"{head} {v}")
        else:
            _entry(head, v, child_indent, out)


def _entry(head: str, value: Any, child_indent: int, out: list[str]) -> None:
    """``head`` is ``key:`` or ``-``; the value follows on the line or below it."""
    kind = type(value)
    if kind is str:
        # Most values are plain: no indentation string made for a block they do not need.
        text = value if plain_ok(value) else _string(value, " " * child_indent)
        out.append(f"{head} {text}")
    elif kind is dict or kind is list or _is_mapping(value) or _is_sequence(value):
        if not value:
            out.append(f"{head} {{}}" if _is_mapping(value) else f"{head} []")
            return
        out.append(head)
        _emit(value, child_indent, out)
    else:
        out.append(f"{head} {scalar(value, ' ' * child_indent)}")


def emit(data: Any) -> str:
    out: list[str] = []
    if isinstance(data, (Mapping, list, tuple)):
        _emit(data, 0, out)
    else:
        out.append(scalar(data, ""))
    return "\n".join(out) + "\n"
