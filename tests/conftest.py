"""Shared fixtures: the repository root, a runner for the real `bzzzmon` CLI, and the pinned
versions of the real tools (`suite`: each Debian suite of scripts/install-tools.sh in turn)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bzzzmon.verify import discovery
from bzzzmon.verify.discovery import Tool
from bzzzmon.verify.result_cache import CACHE_ENV

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def rule_test_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Passed promtool rule-test runs, remembered by content for this session (and the CLI runs
    it starts): the same generated tests on the same pinned promtool run once
    (bzzzmon/verify/result_cache.py). A failing run is never remembered. scripts/run-pytest.sh
    names one directory for all its lanes, so a pass one lane made is not made again in another."""
    shared = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = shared or str(tmp_path_factory.mktemp("rule-test-cache"))
    yield
    if shared is None:
        os.environ.pop(CACHE_ENV, None)


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bzzzmon ARGS` as a user would, capturing output."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bzzzmon", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes, for whole-output comparisons."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- The version matrix (scripts/install-tools.sh, bzzzmon.verify.discovery) -------------------
def pinned_tools(suite: str) -> dict[str, Tool]:
    """The tools of a pinned suite from the manifest; a missing one fails (never skips)."""
    found = discovery.suites().get(suite)
    if not found:
        where = ", ".join(map(str, discovery.tools_dirs())) or "no tools directory"
        pytest.fail(f"the {suite} tools are not installed ({where}); run `make tools`")
    return found


@pytest.fixture(params=list(discovery.PINNED), ids=str)
def suite(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, Tool]:
    """Each pinned Debian suite in turn, its tools the ones bzzzmon runs (BZZZMON_TOOLS_SUITE)."""
    name = str(request.param)
    tools = pinned_tools(name)
    for tool in discovery.NAMES:
        for var in discovery.overrides(tool):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(discovery.SUITE_ENV, name)
    return tools
