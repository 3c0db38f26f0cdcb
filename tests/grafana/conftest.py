"""Fixtures: the plan of the shipped BZZZ service and the files the dashboard-related renderers
produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from bzzzmon.model import Plan
from bzzzmon.render import grafana, prometheus_config, rules
from bzzzmon.render.output import Files
from tests.shipped import bzzz_plan

REPO = Path(__file__).resolve().parents[2]
# Grafana's own JSON Schemas, vendored with their license (vendor/grafana-jsonschema/README.md).
SCHEMA_DIR = REPO / "vendor" / "grafana-jsonschema"


def render_files(plan: Plan) -> Files:
    """What the build renders for dashboards, their rules and the Prometheus config."""
    files: Files = {}
    for render in (rules.render, grafana.render, prometheus_config.render):
        files.update(render(plan))
    return dict(sorted(files.items()))


@pytest.fixture(scope="session")
def plan() -> Plan:
    return bzzz_plan()


@pytest.fixture(scope="session")
def files(plan: Plan) -> Files:
    return render_files(plan)


def write_tree(root: Path, files: Files) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
