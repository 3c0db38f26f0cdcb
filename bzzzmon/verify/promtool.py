"""promtool: check rules, check config. (`bzzzmon test` runs `promtool test rules` per file,
to report each file's failures; see bzzzmon.verify.rule_testing.)"""

from __future__ import annotations

from pathlib import Path

from bzzzmon import conventions as C
from bzzzmon.verify.tools import ToolResult, require, run


def rule_files(out: Path) -> list[Path]:
    """A service's (or, several services in one output, every service's) rule files."""
    return sorted([*(out / C.RULES_DIR).glob("*.yml"), *out.glob(C.SERVICE_RULES_GLOB)])


def check_rules(out: Path) -> ToolResult | None:
    files = rule_files(out)
    if not files:
        return None
    return run([require("promtool"), "check", "rules", *map(str, files)])


def check_config(out: Path) -> ToolResult | None:
    config = out / C.PROMETHEUS_CONFIG
    if not config.exists():
        return None
    # A full check: the rule files and file_sd target files it names must exist beside it.
    return run([require("promtool"), "check", "config", config.name], cwd=config.parent)
