"""The ``bzzzmon`` command: thin click commands over the library.

Exit status: 0 success, 1 a check or test failed, 2 bad input or usage.
"""

from __future__ import annotations

from typing import Any

import click

from bzzzmon import __version__
from bzzzmon.cli.build_cmd import build
from bzzzmon.cli.common import EXIT_USAGE
from bzzzmon.cli.demo_cmd import demo
from bzzzmon.cli.diff_cmd import diff
from bzzzmon.cli.exporter_cmd import exporter
from bzzzmon.cli.lint_cmd import lint
from bzzzmon.cli.schema_cmd import schema
from bzzzmon.cli.silence_cmd import silence
from bzzzmon.cli.sim_cmd import sim
from bzzzmon.cli.test_cmd import test
from bzzzmon.spec.errors import SpecErrors


class _Main(click.Group):
    """Reports a bad spec the same way for every command: each problem with file:line:column,
    then exit 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpecErrors as exc:
            click.echo(exc.format(), err=True)
            raise SystemExit(EXIT_USAGE) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bzzzmon")
def main() -> None:
    """Monitoring-as-code for BZZZ: compile specs/ into rules, routing, dashboards and configs."""


for _command in (build, test, lint, diff, schema, exporter, sim, demo, silence):
    main.add_command(_command)
