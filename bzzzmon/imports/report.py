"""The import report: every source field, where it was, and how it came across."""

from __future__ import annotations

from pathlib import Path

from bzzzmon.imports.draft import Entry


def format_report(entries: list[Entry], written: list[Path]) -> str:
    counts = {
        how: sum(e.how == how for e in entries) for how in ("mapped", "approximated", "dropped")
    }
    lines = [
        f"{e.where}: {e.how}: {e.what}" + (f" -> {e.detail}" if e.detail else "") for e in entries
    ]
    if len(written) > 1:
        lines.append(
            "several services: a specs directory holds one service, so build each file from a "
            "directory of its own"
        )
    lines.append(
        f"{counts['mapped']} mapped, {counts['approximated']} approximated, "
        f"{counts['dropped']} dropped; wrote {', '.join(map(str, written)) or 'nothing'}"
    )
    return "\n".join(lines) + "\n"
