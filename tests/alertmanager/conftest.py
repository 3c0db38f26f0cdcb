"""Fixtures: the shipped spec's and the test specs' Alertmanager outputs, rendered once."""

from __future__ import annotations

import pytest
from am_testkit import SHIPPED_SPECS, TEST_SPECS, Rendered, render_alerting


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("shipped")
    return render_alerting(SHIPPED_SPECS, out), out


@pytest.fixture(scope="session")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("teams")
    return render_alerting(TEST_SPECS / "teams", out), out


@pytest.fixture(scope="session")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    out = tmp_path_factory.mktemp("minimal")
    return render_alerting(TEST_SPECS / "minimal", out), out


@pytest.fixture(params=["shipped", "teams", "minimal"])
def any_spec(request: pytest.FixtureRequest) -> Rendered:
    rendered: Rendered = request.getfixturevalue(request.param)
    return rendered
