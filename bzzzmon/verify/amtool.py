"""Placeholder: amtool wrappers, filled in by the Alertmanager issue."""

from __future__ import annotations

from pathlib import Path

from bzzzmon.verify.tools import ToolResult


def check_config(out: Path) -> ToolResult | None:
    return None


def test_routes(out: Path) -> ToolResult | None:
    return None
