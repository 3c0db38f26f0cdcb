"""Fixtures for the review tools: spec copies and builds in temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bzzzmon.build import render_all, write_tree
from bzzzmon.model import Plan
from bzzzmon.spec.plan import load_plan
from tests.conftest import ROOT

SHIPPED = ROOT / "specs"
SMALL = Path(__file__).parent / "specs"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed"
)


def copy_spec(source: Path, tmp_path: Path, name: str = "specs") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("tests"))
    return target


def build_tree(specs: Path, out: Path) -> Plan:
    """Render a spec into ``out`` without verification (the tests run the tools themselves)."""
    plan = load_plan(specs)
    write_tree(out, render_all(plan))
    return plan


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    return copy_spec(SHIPPED, tmp_path)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return copy_spec(SMALL, tmp_path)
