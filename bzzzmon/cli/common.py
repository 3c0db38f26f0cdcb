"""Shared CLI plumbing: exit codes and printing problems without tracebacks."""

from __future__ import annotations

from typing import NoReturn

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"bzzzmon: {message}", err=True)
    raise SystemExit(code)
