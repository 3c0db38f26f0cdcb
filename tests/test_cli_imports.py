"""The CLI imports only what the command runs: `bzzzmon build --check` runs in pre-commit hooks
and on every push, so it must not pay for the stack, the simulator or the HTTP clients.

Behaviour, not timing: each case runs the real CLI in a fresh interpreter and inspects
``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from bzzzmon.cli import COMMANDS, main
from tests.conftest import ROOT

# Modules of the long-running commands (demo, sim, exporter, silence) and of the diff.
NEVER_FOR_BUILD = (
    "aiohttp",
    "httpx",
    "prometheus_client",
    "bzzzmon.stack",
    "bzzzmon.sim",
    "bzzzmon.exporter",
    "bzzzmon.alertmanager_api",
    "bzzzmon.diff",
    "bzzzmon.cli.demo_cmd",
    "bzzzmon.cli.silence_cmd",
)
# What the build itself needs, which its --help must not load either.
BUILD_ITSELF = ("bzzzmon.build", "bzzzmon.render", "pydantic", "grafana_foundation_sdk", "jinja2")

_PROBE = """
import json, sys
from bzzzmon.cli import main
try:
    main(sys.argv[2:], prog_name="bzzzmon")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def imported_by(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    report = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", _PROBE, str(report), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(report.read_text())
    return data["code"], set(data["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages included with their submodules) were imported."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@pytest.mark.parametrize("args", [["build", "--help"], ["--version"]])
def test_help_and_version_load_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    code, modules = imported_by(tmp_path, *args)
    assert code == 0
    assert loaded(modules, NEVER_FOR_BUILD + BUILD_ITSELF) == []


def test_build_check_loads_only_the_build(tmp_path: Path) -> None:
    code, modules = imported_by(
        tmp_path, "build", "--check", "--no-verify", "--out", str(tmp_path / "absent")
    )
    assert code == 1  # stale: the output does not exist, so the build really ran
    assert loaded(modules, BUILD_ITSELF) == list(BUILD_ITSELF)
    assert loaded(modules, NEVER_FOR_BUILD) == []


def test_every_command_is_registered_under_its_own_name() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command)
        assert command.name == name
    assert main.get_command(ctx, "no-such-command") is None


def test_group_help_lists_every_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bzzzmon", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = result.stdout.split("Commands:")[1].split()
    assert [name for name in listed if name in COMMANDS] == sorted(COMMANDS)
