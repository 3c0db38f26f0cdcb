"""One synthetic history with known incidents on a real Prometheus, backtested once per session
(the backtest is the expensive part; every agreement test reads the same outcome)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bzzzmon.backtest.engine import Outcome
from bzzzmon.backtest.report import summarise
from bzzzmon.backtest.routing import Page
from bzzzmon.backtest.run import replay
from bzzzmon.build import render_all
from bzzzmon.model import Plan
from bzzzmon.render.output import Files
from tests.backtest.history import STEP, Failing, History
from tests.backtest.source import history_prometheus
from tests.shipped import bzzz_plan

HOUR = 3600 // STEP
START = 1794960000  # 2026-11-18T00:00:00Z
# 12 hours: a 15-minute total DHT outage (page-fast), six hours of 10% DHT failures (page-slow;
# no ticket: the 1d and 3d windows are prorated by the 12 hours they hold), an agent down for
# 10 minutes, no admin for 5 minutes, and two agents' error rates up for 30 minutes (1.6/s,
# above BZZZHighErrorRate's 1/s; 0.8/s, below it).
HISTORY = History(
    steps=12 * HOUR,
    dht_failing=(Failing(2 * HOUR, 2 * HOUR + 60, 100), Failing(5 * HOUR, 11 * HOUR, 10)),
    agent_down=(("agent-2:8081", 3 * HOUR, 3 * HOUR + 40),),
    no_admin=((10 * HOUR, 10 * HOUR + 20),),
    errors=(("agent-1:8081", HOUR, HOUR + 120, 24), ("agent-3:8081", 4 * HOUR, 4 * HOUR + 120, 12)),
)
END = START + (HISTORY.steps - 1) * STEP


@pytest.fixture(scope="session")
def plan() -> Plan:
    return bzzz_plan()


@pytest.fixture(scope="session")
def files(plan: Plan) -> Files:
    return render_all(plan)


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with history_prometheus(HISTORY, START, tmp_path_factory.mktemp("source")) as url:
        yield url


@pytest.fixture(scope="session")
def empty_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus that has never seen any of the series."""
    with history_prometheus(History(steps=0), START, tmp_path_factory.mktemp("empty")) as url:
        yield url


@pytest.fixture(scope="session")
def scratch_parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scratch-parent")


@pytest.fixture(scope="session")
def replayed(plan: Plan, source: str, scratch_parent: Path) -> tuple[Outcome, list[Page]]:
    saved = tempfile.tempdir
    tempfile.tempdir = str(scratch_parent)  # to see that the scratch data is removed
    try:
        return replay(plan, source, START, END, lambda _: None)
    finally:
        tempfile.tempdir = saved


@pytest.fixture(scope="session")
def outcome(replayed: tuple[Outcome, list[Page]], source: str) -> dict[str, Any]:
    return summarise(*replayed, source)


@pytest.fixture(scope="session")
def raw_episodes(replayed: tuple[Outcome, list[Page]]) -> list[dict[str, Any]]:
    """Firing episodes as plain data: name, full labels, first firing and resolved time."""
    return [
        {"alertname": e.alertname, "full_labels": e.labels, "fired": e.fired, "end": e.end}
        for e in replayed[0].episodes
        if e.fired is not None
    ]
