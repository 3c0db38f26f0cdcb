"""Checks over the plan and the rendered files: findings are errors (fail) or warnings (print)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, order=True)
class Finding:
    level: Literal["error", "warning"]
    where: str  # e.g. "specs/alerts.yaml:12 alert BZZZFoo" or "dashboard bzzz-overview panel 3"
    rule: str  # short id of the check, e.g. "alert-name"
    message: str

    def format(self) -> str:
        return f"{self.where}: {self.level}: {self.message} [{self.rule}]"
