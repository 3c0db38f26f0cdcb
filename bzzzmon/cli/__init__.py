"""The ``bzzzmon`` command: thin click commands over the library.

Exit status: 0 success, 1 a check or test failed, 2 bad input or usage.

Each command's module is imported only when that command runs (or when ``bzzzmon --help``
lists them all): ``bzzzmon build --check`` runs in pre-commit hooks, and importing the stack,
the simulator and aiohttp for it would cost more than the build itself.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from bzzzmon import __version__
from bzzzmon.cli.common import EXIT_USAGE
from bzzzmon.spec.errors import SpecErrors  # dataclasses only: cheap

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "build": "bzzzmon.cli.build_cmd:build",
    "test": "bzzzmon.cli.test_cmd:test",
    "lint": "bzzzmon.cli.lint_cmd:lint",
    "diff": "bzzzmon.cli.diff_cmd:diff",
    "backtest": "bzzzmon.cli.backtest_cmd:backtest",
    "schema": "bzzzmon.cli.schema_cmd:schema",
    "exporter": "bzzzmon.cli.exporter_cmd:exporter",
    "sim": "bzzzmon.cli.sim_cmd:sim",
    "demo": "bzzzmon.cli.demo_cmd:demo",
    "silence": "bzzzmon.cli.silence_cmd:silence",
    "import": "bzzzmon.cli.import_cmd:import_",
}


class _Main(click.Group):
    """Loads a command's module on first use, and reports a bad spec the same way for every
    command: each problem with file:line:column, then exit 2, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        self.add_command(command, cmd_name)
        return command

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
