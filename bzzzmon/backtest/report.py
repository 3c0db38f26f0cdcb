"""A backtest's result as data (``summarise``), and its text, Markdown and JSON writers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from bzzzmon.backtest.engine import Outcome, iso
from bzzzmon.backtest.routing import Page
from bzzzmon.conventions import NULL_RECEIVER
from bzzzmon.promql.duration import format_duration

# Labels every episode of an alert shares (the rule's); the rest tell episodes apart.
_COMMON = ("alertname", "service", "component", "severity", "alert_kind", "slo", "window")


def duration(seconds: int) -> str:
    return format_duration(seconds) if seconds > 0 else "0s"


def number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def _silence(times: list[int]) -> int | None:
    gaps = [b - a for a, b in pairwise(times)]
    return max(gaps) if gaps else None


def summarise(outcome: Outcome, sent: Sequence[Page], source: str) -> dict[str, Any]:
    alerts: dict[str, dict[str, Any]] = {}
    for e in outcome.episodes:
        if e.fired is None:
            continue
        entry = alerts.setdefault(
            e.alertname,
            {"alertname": e.alertname, "episodes": [], "firing_seconds": 0, "pages": {}},
        )
        entry["firing_seconds"] += e.firing_seconds
        entry["episodes"].append(
            {
                "labels": {k: v for k, v in sorted(e.labels.items()) if k not in _COMMON},
                "start": iso(e.fired),
                "end": iso(min(e.end, outcome.end)),
                "pending_since": iso(e.active),
                "peak": e.peak,
                "open_start": e.open_start,
                "open_end": e.open_end,
            }
        )
    for name, entry in alerts.items():
        entry["episodes"].sort(key=lambda ep: (ep["start"], sorted(ep["labels"].items())))
        own = [p for p in sent if p.episode.alertname == name and p.receiver != NULL_RECEIVER]
        entry["pages"] = dict(sorted(Counter(p.receiver for p in own).items()))
        entry["page_count"] = len(own)
        times = sorted({p.at for p in own})
        entry["first_page"] = iso(times[0]) if times else None
        entry["page_times"] = [iso(t) for t in times]
        entry["longest_silence_seconds"] = _silence(times)
    return {
        "source": {"url": source, "version": outcome.source_version},
        "range": {
            "start": iso(outcome.start),
            "end": iso(outcome.end),
            "seconds": outcome.end - outcome.start,
        },
        "alerts_evaluated": len(outcome.steps),
        "alerts": [alerts[k] for k in sorted(alerts)],
        "slos": [
            {
                "slo": b.slo,
                "alert": b.alert,
                "objective": b.objective,
                "error_ratio": b.error_ratio,
                "budget_spent": b.budget_spent,
            }
            for b in outcome.budgets
        ],
        "limits": outcome.limits + STANDING_LIMITS,
    }


STANDING_LIMITS = [
    "for: starts at the range start: an alert already pending before it waits its whole for: "
    "again (the first for: of the range is a warm-up), and windows reaching before the start "
    "are backfilled from the start only",
    "ALERTS is synthesised from the replayed episodes (pending and firing), not read from the "
    "source, so tier suppression, escalations and explanation holds see the replayed alerts",
    "evaluations run in lockstep on a grid from the range start (as promtool test rules); "
    "Prometheus offsets each group's evaluations by a hash of its name, so a transition may "
    "differ by up to one interval",
    "recorded series have no stale markers: a recorded series that stops is still seen for "
    "the 5m lookback, where the live Prometheus would drop it at once",
    "pages are first notifications per episode and receiver: repeats (repeat_interval), "
    "grouping into one notification, maintenance windows and silences are not replayed",
]


def _episode_text(ep: dict[str, Any]) -> str:
    labels = " ".join(f"{k}={v}" for k, v in ep["labels"].items())
    flags = (" (active from the range start)" if ep["open_start"] else "") + (
        " (still firing at the end)" if ep["open_end"] else ""
    )
    return f"{ep['start']} .. {ep['end']} peak {number(ep['peak'])} {labels}".rstrip() + flags


def _pages(alert: dict[str, Any]) -> tuple[str, str]:
    """(pages per receiver, longest silence) as the writers print them."""
    pages = ", ".join(f"{k}: {v}" for k, v in alert["pages"].items()) or "nobody"
    silence = alert["longest_silence_seconds"]
    return pages, duration(silence) if silence else ""


def text(data: dict[str, Any]) -> str:
    r = data["range"]
    lines = [
        f"bzzzmon backtest {r['start']} .. {r['end']} ({duration(r['seconds'])}) of "
        f"{data['source']['url']} (Prometheus {data['source']['version']})",
        f"Alerts ({len(data['alerts'])} of {data['alerts_evaluated']} fired):",
    ]
    for a in data["alerts"]:
        pages, silence = _pages(a)
        lines.append(
            f"  {a['alertname']}: {len(a['episodes'])} episode(s), {a['page_count']} page(s) "
            f"({pages}), firing {duration(a['firing_seconds'])}"
            + (f", longest silence between pages {silence}" if silence else "")
        )
        lines.extend(f"    {_episode_text(ep)}" for ep in a["episodes"])
    lines.append("SLOs:")
    for s in data["slos"]:
        lines.append(
            f"  {s['slo']} (objective {s['objective']}): error ratio {percent(s['error_ratio'])}, "
            f"{percent(s['budget_spent'])} of a period's error budget spent"
        )
    lines.append("Limits:")
    lines.extend(f"  - {limit}" for limit in data["limits"])
    return "\n".join(lines) + "\n"


def markdown(data: dict[str, Any]) -> str:
    r = data["range"]
    lines = [
        f"### Backtest {r['start']} .. {r['end']} ({duration(r['seconds'])})",
        "",
        "| alert | episodes | pages | firing | longest silence |",
        "|---|---:|---|---:|---:|",
    ]
    for a in data["alerts"]:
        pages, silence = _pages(a)
        lines.append(
            f"| `{a['alertname']}` | {len(a['episodes'])} | {a['page_count']} ({pages}) | "
            f"{duration(a['firing_seconds'])} | {silence or '-'} |"
        )
    lines += ["", "| SLO | objective | error ratio | budget spent |", "|---|---:|---:|---:|"]
    lines.extend(
        f"| {s['slo']} | {s['objective']} | {percent(s['error_ratio'])} | "
        f"{percent(s['budget_spent'])} |"
        for s in data["slos"]
    )
    lines += ["", "<details><summary>Episodes and limits</summary>", ""]
    for a in data["alerts"]:
        lines.append(f"- `{a['alertname']}`")
        lines.extend(f"  - {_episode_text(ep)}" for ep in a["episodes"])
    lines.append("")
    lines.extend(f"- {limit}" for limit in data["limits"])
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return markdown(data)
    return text(data)
