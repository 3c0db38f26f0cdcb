"""Hand-written promtool tests (tests/promtool/) over the committed generated rules."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

FILES = sorted((ROOT / "tests" / "promtool").glob("*.test.yml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_promtool_unit_tests_pass(path: object) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool must be installed (scripts/install-tools.sh)"
    proc = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
