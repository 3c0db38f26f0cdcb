"""``python -m bzzzmon.exporter`` runs the same command as ``bzzzmon exporter``."""

from bzzzmon.cli.exporter_cmd import command

command(prog_name="bzzzmon exporter")
