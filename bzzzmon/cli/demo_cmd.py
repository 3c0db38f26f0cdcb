"""Placeholder: `bzzzmon demo`, filled in by the issue that owns it."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="demo")
def demo() -> None:
    """Not built yet."""
    fail("`bzzzmon demo` is not built yet")
