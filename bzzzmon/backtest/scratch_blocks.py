"""Writing into the scratch TSDB with promtool: recorded series and synthesised ALERTS series
from OpenMetrics text (and, for comparison in bench/, promtool's own rule backfill)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bzzzmon.backtest import BacktestError
from bzzzmon.backtest.episodes import Episode
from bzzzmon.backtest.prom import RawSeries
from bzzzmon.backtest.rules import ALERTS, PREFIX, Rule, renamed, renamer
from bzzzmon.verify.tools import ToolMissing, require, run

# One block per backfill run instead of one per 2h: fewer blocks for the scratch to open.
_MAX_BLOCK = "744h"


def _promtool() -> str:
    try:
        return require("promtool")
    except ToolMissing as exc:
        raise BacktestError(str(exc)) from exc


def rules_file(
    rules: Iterable[Rule], names: frozenset[str], path: Path, resolution: int, interval: int
) -> Path:
    """A rule file of ``rules`` (renamed into the scratch namespace), grouped as generated."""
    pattern = renamer(names)
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rule in rules:
        entry: dict[str, Any] = {
            "record": PREFIX + rule.name,
            "expr": renamed(rule.expr, pattern, interval),
        }
        if rule.labels:
            entry["labels"] = rule.labels
        groups.setdefault((rule.group, max(rule.interval, resolution)), []).append(entry)
    doc = {
        "groups": [
            {"name": name, "interval": f"{interval}s", "rules": entries}
            for (name, interval), entries in groups.items()
        ]
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _create_blocks(kind: str, args: list[str], what: str) -> None:
    result = run([_promtool(), "tsdb", "create-blocks-from", kind, *args], timeout=3600)
    if not result.ok:
        raise BacktestError(f"promtool could not write {what}: {result.output}")


def backfill_rules(rule_file: Path, url: str, start: int, end: int, out: Path) -> None:
    """promtool's own rule backfill (each group on its hash-offset grid): bench/'s peer."""
    out.mkdir(parents=True, exist_ok=True)
    args = [f"--url={url}", f"--start={start}", f"--end={end}", f"--output-dir={out}"]
    _create_blocks("rules", [*args, str(rule_file)], "the recording rules")


def recorded_openmetrics(
    found: Iterable[tuple[str, dict[str, str], list[RawSeries]]], path: Path
) -> bool:
    """Recorded series as a rule writes them: (name, rule labels, the expression's series),
    the rules of one name in a row (a metric family is written in one piece), written as they
    come. False when there was nothing to write."""
    family = None
    wrote = False
    with path.open("w", encoding="utf-8") as out:
        for name, labels, result in found:
            for series in result:
                if name != family:
                    out.write(f"# TYPE {name} gauge\n")
                    family = name
                text = ",".join(
                    f'{k}="{_escape(v)}"' for k, v in sorted({**series.labels, **labels}.items())
                )
                head = f"{name}{{{text}}} "
                out.write("".join(f"{head}{v} {t}\n" for t, v in series.values))
                wrote = True
        out.write("# EOF\n")
    return wrote


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def alerts_openmetrics(found: Iterable[Episode], path: Path) -> bool:
    """ALERTS as Prometheus writes it (1 at every evaluation an alert is pending or firing),
    as OpenMetrics text; False when there is nothing to write."""
    name = PREFIX + ALERTS
    samples: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for e in found:
        fired = e.fired if e.fired is not None else e.end
        for state, first, last in (("pending", e.active, fired), ("firing", fired, e.end)):
            key = tuple(sorted({**e.labels, "alertstate": state}.items()))
            samples.setdefault(key, []).extend(range(first, last, e.step))
    lines = [f"# TYPE {name} gauge"]
    for key in sorted(samples):
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
        lines.extend(f"{name}{{{text}}} 1 {t}" for t in sorted(samples[key]))
    if len(lines) == 1:
        return False
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return True


def backfill_openmetrics(source: Path, out: Path, what: str = "the synthesised ALERTS") -> None:
    out.mkdir(parents=True, exist_ok=True)
    _create_blocks(
        "openmetrics", [f"--max-block-duration={_MAX_BLOCK}", str(source), str(out)], what
    )
