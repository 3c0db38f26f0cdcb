"""One set of real parts for the module: node_exporter, PostgreSQL, postgres_exporter and
Prometheus on 127.0.0.1, loading the PostgreSQL and resource rules `bzzzmon build` renders of the
BZZZ service of specs/ (time-scaled: 1 min of rule time per second)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bzzzmon.model import Plan
from bzzzmon.stack.prepare import build_plan
from tests.runbook.parts import Parts, running
from tests.shipped import SHIPPED_SPECS

RULE_FILES = ["alerts-postgres.rules.yml", "alerts-resources.rules.yml"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Plan, Path]]:
    out = tmp_path_factory.mktemp("runbook") / "generated"
    plan = build_plan(SHIPPED_SPECS, out, service="bzzz")
    yield plan, out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def parts(generated: tuple[Plan, Path]) -> Iterator[Parts]:
    plan, out = generated
    jobs = {name: plan.service.matchers(name)["job"] for name in ("node", "postgres")}
    with running(out, RULE_FILES, jobs) as started:
        yield started
