"""Fixtures: the shipped BZZZ service's and the test specs' Alertmanager outputs, rendered once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from am_testkit import TEST_SPECS, Rendered, render_alerting

from bzzzmon.build import render_and_check, write_tree
from bzzzmon.model import Plan
from bzzzmon.render.output import forget_rendered
from bzzzmon.spec.services import load_services
from tests.shipped import bzzz_plan

GOLDEN_MULTI = Path(__file__).resolve().parents[1] / "golden" / "multi" / "specs"


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("shipped")
    return render_alerting(bzzz_plan(), out), out


@pytest.fixture(scope="session")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("teams")
    return render_alerting(TEST_SPECS / "teams", out), out


@pytest.fixture(scope="session")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("minimal")
    return render_alerting(TEST_SPECS / "minimal", out), out


@pytest.fixture(scope="session")
def multi_services(tmp_path_factory: pytest.TempPathFactory) -> tuple[tuple[Plan, ...], Path]:
    """Two services in one Alertmanager: the teams spec (inhibitions, teams, maintenance
    windows, escalation) and the golden multi spec's worker, with the shop's Alertmanager."""
    specs = tmp_path_factory.mktemp("multi-specs")
    shutil.copytree(TEST_SPECS / "teams", specs / "shop")
    shutil.copytree(GOLDEN_MULTI / "worker", specs / "worker")
    worker = specs / "worker" / "service.yaml"
    text = worker.read_text().replace(
        "  grafana_url:", "  alertmanager_url: https://am.example.test/\n  grafana_url:"
    )
    worker.write_text(text)
    out = tmp_path_factory.mktemp("multi")
    # As render_alerting: the output without the lint (the teams spec breaks a naming rule).
    try:
        result = render_and_check(load_services(specs), checks=())
    finally:
        forget_rendered()
    assert len(result.plans) == 2
    write_tree(out, result.files)
    return tuple(result.plans), out


@pytest.fixture(scope="session")
def multi(multi_services: tuple[tuple[Plan, ...], Path]) -> Rendered:
    plans, out = multi_services
    return plans[0], out


@pytest.fixture(params=["shipped", "teams", "minimal", "multi"])
def any_spec(request: pytest.FixtureRequest) -> Rendered:
    rendered: Rendered = request.getfixturevalue(request.param)
    return rendered
