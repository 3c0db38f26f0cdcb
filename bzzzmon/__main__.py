"""`python -m bzzzmon` runs the CLI."""

from bzzzmon.cli import main

main()
