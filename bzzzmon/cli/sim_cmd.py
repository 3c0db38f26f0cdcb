"""``bzzzmon sim``: serve simulated BZZZ agents on loopback, with faults switchable at run time."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail
from bzzzmon.sim.simulator import DEFAULT_BASE_PORT, DEFAULT_CONTROL_PORT, run


@click.command(name="sim")
@click.option("--agents", type=click.IntRange(1, 1000), default=3, show_default=True)
@click.option("--listen", default="127.0.0.1", show_default=True, help="Host to bind.")
@click.option(
    "--base-port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_BASE_PORT,
    show_default=True,
    help="Agent i listens on base-port + i (0: free ports).",
)
@click.option(
    "--control-port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_CONTROL_PORT,
    show_default=True,
    help="JSON fault control endpoint (0: a free port).",
)
def command(agents: int, listen: str, base_port: int, control_port: int) -> None:
    """Serve N agents (/health, /health/checks, /metrics) until Ctrl-C."""
    try:
        run(agents, listen, base_port, control_port)
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:  # a port is taken, or the host is not local
        fail(f"cannot listen on {listen}: {exc.strerror or exc}")


sim = command
