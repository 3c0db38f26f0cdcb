"""Shared CLI plumbing: exit codes and printing problems without tracebacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"bzzzmon: {message}", err=True)
    raise SystemExit(code)


def specs_option(help_text: str = "Directory of spec files.") -> Callable[[F], F]:
    """``--specs DIR`` (default ``specs``), shared by the commands that read a spec."""
    return click.option(
        "--specs",
        "specs",
        default="specs",
        show_default=True,
        type=click.Path(path_type=Path),
        help=help_text,
    )


def out_option(help_text: str) -> Callable[[F], F]:
    """``--out DIR`` (default ``generated``), shared by the commands that read or write it."""
    return click.option(
        "--out",
        "out",
        default="generated",
        show_default=True,
        type=click.Path(path_type=Path),
        help=help_text,
    )


def format_option(
    help_text: str = "text for a terminal, markdown for a PR comment, json for machines.",
) -> Callable[[F], F]:
    """``--format text|markdown|json``, shared by the commands that write a report."""
    return click.option(
        "--format",
        "fmt",
        default="text",
        show_default=True,
        type=click.Choice(["text", "markdown", "json"]),
        help=help_text,
    )
