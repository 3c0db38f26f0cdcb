"""Fixtures for the review tools: spec copies and builds in temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bzzzmon.build import render_all, write_tree
from bzzzmon.model import Plan
from bzzzmon.spec.plan import load_plan
from tests.shipped import BZZZ_SPECS, bzzz_plan, copy_bzzz_alone

SMALL = Path(__file__).parent / "specs"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed"
)


def copy_spec(source: Path, tmp_path: Path, name: str = "specs") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("tests"))
    return target


def plan_of(specs: Path) -> Plan:
    """The plan of a spec directory; of the shipped BZZZ service's files, as `bzzzmon build`
    reads them (with the shared files)."""
    return bzzz_plan() if specs == BZZZ_SPECS else load_plan(specs)


def build_tree(specs: Path, out: Path) -> Plan:
    """Render a spec into ``out`` without verification (the tests run the tools themselves)."""
    plan = load_plan(specs)
    write_tree(out, render_all(plan))
    return plan


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    return copy_bzzz_alone(tmp_path, tests=False)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return copy_spec(SMALL, tmp_path)
