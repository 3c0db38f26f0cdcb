"""Spec errors reported like a compiler's: file:line:column, what is wrong, what would be right."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecError:
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def format(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: error: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class SpecErrors(Exception):
    """One or more problems in the spec; raised only after collecting every problem found."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(e.format() for e in self.errors))

    def format(self) -> str:
        lines = [e.format() for e in self.errors]
        n = len(self.errors)
        lines.append(f"{n} error{'s' if n != 1 else ''} in the spec; nothing was written.")
        return "\n".join(lines)
