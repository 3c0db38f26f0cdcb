"""Checks over the plan and the rendered files: findings are errors (fail) or warnings (print).

A finding reads like the parser's errors (``bzzzmon.spec.errors``): ``file:line:column`` of the
spec key that fixes it, what is wrong, and a hint. ``key`` names that spec key (dotted,
``[]`` for a list item: ``service.runbook_url``, ``alerts[].severity``, ``metrics``); a
finding about output the spec does not shape (a renderer's bug) has none and names the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, order=True)
class Finding:
    level: Literal["error", "warning"]
    where: str  # "specs/alerts.yaml:12:5", or a generated file / "dashboard bzzz-overview panel 3"
    rule: str  # short id of the check, e.g. "alert-name"
    message: str  # names ``key`` when there is one
    subject: str = ""  # what it is about: "alert BZZZFoo", "slo dht-operations"
    key: str = ""  # the spec key to set
    hint: str = ""

    def format(self) -> str:
        about = f"{self.subject}: " if self.subject else ""
        text = f"{self.where}: {self.level}: {about}{self.message} [{self.rule}]"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text
