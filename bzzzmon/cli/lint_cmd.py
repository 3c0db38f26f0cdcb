"""Placeholder: `bzzzmon lint`, filled in by the issue that owns it."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="lint")
def lint() -> None:
    """Not built yet."""
    fail("`bzzzmon lint` is not built yet")
