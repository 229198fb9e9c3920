"""`python -m luacross` runs the CLI."""

from luacross.cli import run

run()
