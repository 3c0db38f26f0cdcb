"""``bzzzmon exporter``: probe every BZZZ component and serve the health scores."""

from __future__ import annotations

import click

from bzzzmon.cli.common import fail
from bzzzmon.exporter.config import ConfigError
from bzzzmon.exporter.main import DEFAULT_LISTEN, run


@click.command(name="exporter")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Exporter config (generated/exporter/exporter.yml; of several services, "
    "generated/exporter/<service>/exporter.yml).",
)
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="host:port to serve /metrics on (':9109' for every interface).",
)
@click.option(
    "--web-config",
    type=click.Path(dir_okay=False),
    default=None,
    help="Prometheus exporter-toolkit web config (TLS, basic auth).",
)
def command(config_path: str, listen: str, web_config: str | None) -> None:
    """Probe every BZZZ component and serve bzzz_system_health_score. SIGHUP reloads configs."""
    try:
        run(config_path, listen, web_config)
    except (ConfigError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:  # e.g. the listen address is taken
        fail(f"--listen {listen}: {exc.strerror or exc}")


exporter = command
