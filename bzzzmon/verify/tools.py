"""Find and run the Prometheus/Alertmanager command-line tools, and explain how to get them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bzzzmon.verify.discovery import INSTALL_HINT, ToolMissing, locate

T = TypeVar("T")
R = TypeVar("R")
__all__ = ["INSTALL_HINT", "ToolMissing", "ToolResult", "find", "parallel_map", "require", "run"]


@dataclass(frozen=True)
class ToolResult:
    command: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def find(tool: str) -> str | None:
    """The tool's path (bzzzmon.verify.discovery.locate: BZZZMON_<TOOL>, then the newest)."""
    found = locate(tool)
    return found.path if found else None


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


def workers() -> int:
    """How many tool processes run at once: the cores (each check is one busy process)."""
    return max(1, min(8, os.cpu_count() or 1))


def parallel_map(func: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[func(i) for i in items]`` with up to ``workers()`` at once, results in order."""
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        return list(pool.map(func, items))
