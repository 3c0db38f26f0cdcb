"""The spec files `bzzzmon import` writes for each peer example, compared with the committed
ones (tests/imports/golden/), so a reviewer sees what an import writes and any change to it.

Regenerate after an intended change with:
BZZZMON_UPDATE_GOLDEN=1 pytest tests/imports/test_import_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli, tree

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
CASES = [
    *(
        ("sloth", p.name)
        for p in sorted((FIXTURES / "sloth").glob("*.yml"))
        if "generated" not in p.name and "openslo" not in p.name
    ),
    ("openslo", "openslo-getting-started.yml"),
    *(("openslo", p.name) for p in sorted((FIXTURES / "openslo").glob("*.yaml"))),
]


@pytest.mark.parametrize(("tool", "example"), CASES)
def test_import_matches_golden(tool: str, example: str, tmp_path: Path) -> None:
    folder = "sloth" if example == "openslo-getting-started.yml" else tool
    out = tmp_path / "specs"
    # Run beside the example so the written header names it by a relative path.
    result = run_cli("import", tool, example, "--out", str(out), cwd=FIXTURES / folder)
    assert result.returncode == 0, result.stderr
    expected_dir = GOLDEN / tool / Path(example).stem
    if os.environ.get("BZZZMON_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
    actual, expected = tree(out), tree(expected_dir)
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name].decode() == expected[name].decode(), f"{example}: {name} differs"
