"""Find and run the Prometheus/Alertmanager command-line tools, and explain how to get them."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "install them with: apt-get install -y --no-install-recommends "
    "prometheus prometheus-alertmanager"
)


class ToolMissing(RuntimeError):
    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} was not found on PATH; {INSTALL_HINT}")
        self.tool = tool


@dataclass(frozen=True)
class ToolResult:
    command: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def find(tool: str) -> str | None:
    """The tool's path. ``BZZZMON_<TOOL>`` (e.g. BZZZMON_PROMTOOL) overrides the PATH lookup."""
    override = os.environ.get(f"BZZZMON_{tool.upper().replace('-', '_')}")
    if override:
        return override if Path(override).exists() else None
    return shutil.which(tool)


def require(tool: str) -> str:
    path = find(tool)
    if path is None:
        raise ToolMissing(tool)
    return path


def run(args: list[str], cwd: Path | None = None, timeout: float = 600) -> ToolResult:
    try:
        proc = subprocess.run(
            args,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ToolResult(tuple(args), 124, f"{Path(args[0]).name} timed out after {timeout:g} s")
    output = (proc.stdout + proc.stderr).strip()
    return ToolResult(tuple(args), proc.returncode, output)
