"""Placeholder: `bzzzmon test`, filled in by the issue that owns it."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail


@click.command(name="test")
def test() -> None:
    """Not built yet."""
    fail("`bzzzmon test` is not built yet")
