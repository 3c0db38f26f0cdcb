"""``bzzzmon schema``: the JSON Schema of a spec file, for editors."""

from __future__ import annotations

import click

from bzzzmon.spec.schema import schema_text


@click.command()
def schema() -> None:
    """Print the JSON Schema of a spec file (apiVersion bzzzmon/v1)."""
    click.echo(schema_text(), nl=False)
