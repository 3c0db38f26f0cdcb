"""Where each section of the spec and each key under it is written, for lint findings."""

from __future__ import annotations

from bzzzmon.model import Origin
from bzzzmon.spec.loader import LoadedFile
from bzzzmon.spec.yamlpos import Path

# Sections and their keys down to this depth: ``severities.P1.receivers``; list items are not
# keyed (a finding about one points at the item's own origin).
MAX_DEPTH = 3


def origin_of(lf: LoadedFile, path: Path) -> Origin:
    """Where ``path`` of a loaded file is written, line and column."""
    line, column = lf.doc.position(path)
    return Origin(lf.doc.file, line, column)


def key_origins(files: list[LoadedFile]) -> dict[str, Origin]:
    """Dotted key -> where it is first written, in the order the files are read."""
    found: dict[str, Origin] = {}
    for lf in files:
        for path, (line, column) in lf.doc.positions.items():
            if not path or len(path) > MAX_DEPTH or not all(isinstance(p, str) for p in path):
                continue
            found.setdefault(".".join(str(p) for p in path), Origin(lf.doc.file, line, column))
    return dict(sorted(found.items()))
