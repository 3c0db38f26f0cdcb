"""Two backtests of the same history (base and head specs) summarised for a pull request:
per alert whose paging changes, how many pages instead of how many, and how much earlier or
later the first page of an incident comes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bzzzmon.backtest.engine import iso
from bzzzmon.backtest.report import duration

_MATCH = 3600  # a head page within this of a base page is the same incident's


def _seconds(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp())


def _first_page_shift(base: dict[str, Any], head: dict[str, Any]) -> str:
    """'; first page 2m earlier in the incident of 2026-11-14' for the largest shift of a first
    page between incidents both sides paged for (empty when none moved)."""
    base_times = [_seconds(t) for t in base.get("page_times", [])]
    head_times = [_seconds(t) for t in head.get("page_times", [])]
    best: tuple[int, int] | None = None
    for b in base_times:
        near = [h for h in head_times if abs(h - b) <= _MATCH]
        if not near:
            continue
        shift = min(near, key=lambda h: abs(h - b)) - b
        if shift and (best is None or abs(shift) > abs(best[0])):
            best = (shift, b)
    if best is None:
        return ""
    shift, at = best
    when = "earlier" if shift < 0 else "later"
    return f"; first page {duration(abs(shift))} {when} in the incident of {iso(at)[:10]}"


def changes(base: dict[str, Any], head: dict[str, Any]) -> list[dict[str, Any]]:
    span = duration(head["range"]["seconds"])
    old = {a["alertname"]: a for a in base["alerts"]}
    new = {a["alertname"]: a for a in head["alerts"]}
    out = []
    for name in sorted(old.keys() | new.keys()):
        b, h = old.get(name, {}), new.get(name, {})
        before, after = b.get("page_count", 0), h.get("page_count", 0)
        shift = _first_page_shift(b, h)
        if before == after and not shift and b.get("pages") == h.get("pages"):
            continue
        out.append(
            {
                "alertname": name,
                "base_pages": before,
                "head_pages": after,
                "text": f"{name}: {after} page(s) instead of {before} over {span}{shift}",
            }
        )
    return out


def render(base: dict[str, Any], head: dict[str, Any], fmt: str) -> str:
    found = changes(base, head)
    if fmt == "json":
        return json.dumps({"base": base, "head": head, "changes": found}, indent=2) + "\n"
    r = head["range"]
    title = f"Backtest {r['start']} .. {r['end']} of {head['source']['url']}"
    lines = [c["text"] for c in found] or ["no alert pages differently"]
    if fmt == "markdown":
        return "\n".join([f"### {title}", "", *(f"- {line}" for line in lines)]) + "\n"
    return "\n".join([f"{title}:", *(f"  {line}" for line in lines)]) + "\n"
