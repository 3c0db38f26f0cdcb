"""Placeholder: `bzzzmon diff`, filled in by the issue that owns it."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="diff")
def diff() -> None:
    """Not built yet."""
    fail("`bzzzmon diff` is not built yet")
