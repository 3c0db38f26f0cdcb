"""Labels from another tool's spec: those bzzzmon sets itself cannot be copied."""

from __future__ import annotations

import re
from typing import Any

from bzzzmon.imports.draft import Collector, mapping, text
from bzzzmon.spec.safety import RESERVED_LABELS
from bzzzmon.spec.yamlpos import Document

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def take_labels(
    doc: Document,
    value: Any,
    path: tuple[str | int, ...],
    c: Collector,
    notes: list[str],
    what: str,
) -> dict[str, str]:
    """The labels bzzzmon may carry; each other one is reported and noted in the spec."""
    out: dict[str, str] = {}
    for key, v in mapping(doc, value, path, c).items():
        name = str(key)
        val = text(doc, v, (*path, key), c)
        if name in RESERVED_LABELS or name.startswith("__") or not _LABEL.match(name):
            why = "set by bzzzmon itself" if name in RESERVED_LABELS else "not a label name"
            c.add(doc, (*path, key), f"{what} label {name}={val}", "dropped", why)
            notes.append(f"{what} label {name}={val!r} not carried over: {why}")
            continue
        out[name] = val
        c.add(doc, (*path, key), f"{what} label {name}", "mapped")
    return out
