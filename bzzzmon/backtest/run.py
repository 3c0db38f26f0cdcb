"""A whole backtest of a spec directory: compile, replay, route, summarise."""

from __future__ import annotations

from typing import Any

import yaml

from bzzzmon import conventions as C
from bzzzmon.backtest import engine, report, routing
from bzzzmon.backtest.rules import load
from bzzzmon.build import render_all
from bzzzmon.model import Plan


def replay(
    plan: Plan,
    source: str,
    start: int,
    end: int,
    progress: engine.Progress,
    resolution: int = 0,
) -> tuple[engine.Outcome, list[routing.Page]]:
    """The episodes of every alert and the pages they send."""
    files = render_all(plan)
    rules = load(files)
    outcome = engine.run(source, rules, plan, start, end, progress, resolution)
    am = yaml.safe_load(files.get(C.ALERTMANAGER_CONFIG, "")) or {}
    sent = routing.pages(plan, outcome.episodes, am.get("inhibit_rules") or [], rules.alert_relabel)
    return outcome, sent


def backtest_plan(plan: Plan, source: str, *args: Any) -> dict[str, Any]:
    """``replay(plan, source, start, end, progress[, resolution])``, summarised."""
    outcome, sent = replay(plan, source, *args)
    return report.summarise(outcome, sent, source)


def empty_summary(source: str, start: int, end: int) -> dict[str, Any]:
    """The backtest of a spec that does not exist (the base of a new spec): nothing pages."""
    return {
        "source": {"url": source, "version": ""},
        "range": {"start": engine.iso(start), "end": engine.iso(end), "seconds": end - start},
        "alerts_evaluated": 0,
        "alerts": [],
        "slos": [],
        "limits": [],
    }
