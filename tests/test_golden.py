"""Golden tests: the real CLI on small input specs, compared file by file with the whole output.

Regenerate after an intended change with:  BZZZMON_UPDATE_GOLDEN=1 pytest tests/test_golden.py
and review the diff of tests/golden/ like any other generated output.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "specs").is_dir())


@pytest.mark.parametrize("case", CASES)
def test_build_matches_golden(case: str, tmp_path: Path) -> None:
    out = tmp_path / "generated"
    result = run_cli(
        "build", "--specs", str(GOLDEN / case / "specs"), "--out", str(out), "--require-tools"
    )
    assert result.returncode == 0, result.stderr
    expected_dir = GOLDEN / case / "expected"
    if os.environ.get("BZZZMON_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    actual, expected = tree(out), tree(expected_dir)
    assert sorted(actual) == sorted(expected), "the set of generated files changed"
    for name in expected:
        assert actual[name].decode() == expected[name].decode(), f"{case}: {name} differs"


@pytest.mark.parametrize("case", CASES)
def test_build_is_deterministic(case: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = run_cli(
            "build", "--specs", str(GOLDEN / case / "specs"), "--out", str(out), "--no-verify"
        )
        assert result.returncode == 0, result.stderr
    assert tree(first) == tree(second)


@pytest.mark.parametrize("case", CASES)
def test_generated_rule_tests_pass(case: str, tmp_path: Path) -> None:
    """The promtool tests generated for each golden spec pass on the real promtool."""
    out = tmp_path / "generated"
    specs = GOLDEN / case / "specs"
    assert run_cli("build", "--specs", str(specs), "--out", str(out)).returncode == 0
    result = run_cli("test", "--out", str(out), "--specs", str(specs))
    assert result.returncode == 0, result.stdout + result.stderr
