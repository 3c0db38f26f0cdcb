"""Placeholder: `bzzzmon silence`, filled in by the issue that owns it."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="silence")
def silence() -> None:
    """Not built yet."""
    fail("`bzzzmon silence` is not built yet")
