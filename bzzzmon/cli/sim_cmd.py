"""Placeholder for `bzzzmon sim` (the simulator helper replaces this file)."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="sim")
def sim() -> None:
    """Not built yet."""
    fail("`bzzzmon sim` is not built yet")
