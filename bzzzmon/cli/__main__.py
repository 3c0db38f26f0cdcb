"""`python -m bzzzmon.cli` runs the CLI."""

from bzzzmon.cli import main

main()
