"""Shared CLI plumbing: exit codes and printing problems without tracebacks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from bzzzmon.conventions import ServicePaths
    from bzzzmon.model import Plan

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


def service_option(what: str = "read") -> Callable[[F], F]:
    """``--service NAME``: the service of a directory of several services a command reads."""
    return click.option(
        "--service",
        "service",
        default=None,
        metavar="NAME",
        help=f"The service to {what}, in a directory of several services [default: the only "
        "one, or the one with service.swarm, or the one with probes].",
    )


def load_one_service(specs: Path, service: str | None) -> tuple[Plan, ServicePaths]:
    """``(plan, paths)`` of one service of ``specs``; a usage error (exit 2) when ``--service``
    names none or several services leave the choice open. A bad spec raises ``SpecErrors``,
    which the command group reports."""
    from bzzzmon.spec.services import ServiceChoiceError, load_service

    try:
        return load_service(specs, service)
    except ServiceChoiceError as exc:
        fail(str(exc))


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
